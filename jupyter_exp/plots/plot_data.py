"""Parse a plot's data file into records, as DVC's plots do.

A data series is a list of objects: the rows of a CSV/TSV file (with a header line
unless ``header: false``, then the columns are named ``0``, ``1``...), or the first list
of objects found in a JSON or YAML document (at the top or under a key, as DVCLive
writes ``{"train": [...]}``). Numbers in CSV/TSV text become numbers, so Vega-Lite scales
them as quantities.
"""

from __future__ import annotations

import csv
import io
import json
import math
import posixpath
from collections.abc import Mapping
from typing import Any

from ..core.yamlio import load_yaml
from ..errors import JupyterExpError

__all__ = ["DATA_SUFFIXES", "IMAGE_SUFFIXES", "PlotDataError", "parse_records"]

DATA_SUFFIXES = (".csv", ".tsv", ".json", ".yaml", ".yml")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg")


class PlotDataError(ValueError):
    """A data file's content is not a data series (the caller names the plot)."""


def parse_records(path: str, data: bytes, *, header: bool = True) -> list[dict[str, Any]]:
    """The records of data file ``path`` (its suffix says the format)."""
    suffix = posixpath.splitext(path)[1].lower()
    if suffix not in DATA_SUFFIXES:
        raise PlotDataError(f"'{path}' is not a data file (csv, tsv, json, yaml)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PlotDataError(f"'{path}' is not UTF-8 text") from None
    if suffix in (".csv", ".tsv"):
        return _delimited(text, "\t" if suffix == ".tsv" else ",", header)
    try:
        document = json.loads(text) if suffix == ".json" else load_yaml(text, path)
    except (ValueError, JupyterExpError) as error:
        raise PlotDataError(f"'{path}' cannot be parsed: {error}") from None
    records = _first_series(document)
    if records is None:
        raise PlotDataError(f"'{path}' holds no list of records")
    return records


def _delimited(text: str, delimiter: str, header: bool) -> list[dict[str, Any]]:
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    if not rows:
        return []
    names = rows[0] if header else [str(i) for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    # A short row lacks its last fields (as csv.DictReader leaves them out).
    return [{n: _number(v) for n, v in zip(names, row, strict=False)} for row in body]


def _number(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5; anything else (``nan`` too: JSON has none) stays text."""
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        return value if math.isfinite(value) else text
    return text


def _first_series(document: Any) -> list[dict[str, Any]] | None:
    """The first list of mappings in ``document``, depth first in key order."""
    if isinstance(document, list):
        if all(isinstance(item, Mapping) for item in document):
            return [dict(item) for item in document]
        return None
    if isinstance(document, Mapping):
        for value in document.values():
            found = _first_series(value)
            if found is not None:
                return found
    return None
