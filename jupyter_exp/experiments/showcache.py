"""A cache of what ``exp show`` read from commits, kept between runs.

A commit never changes, so its params, metrics, deps and outs can be kept once read, as
DVC keeps them in ``.dvc/tmp/exps/cache``. Ours is one JSON file,
``.dvc/tmp/exps/jupyter-exp-show.json``: ``{"format", "version", "entries": {sha:
{"parents", "data"}}}``. Only complete results go in (no file that failed to read,
which a later ``dvc pull`` may fix); a file written by another version of jupyter-exp is
ignored. Losing or corrupting it costs one slower run, never a wrong answer about the
file's own contents, so writes are a plain temp-file-and-rename without fsync.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from datetime import date
from typing import Any

from .._version import __version__
from ..core.repo import Repo

FORMAT = 1
MAX_ENTRIES = 5000


def cache_path(repo: Repo) -> str:
    """Where the cache file of ``repo`` lives."""
    return os.path.join(repo.tmp_dir, "exps", "jupyter-exp-show.json")


def load(repo: Repo) -> dict[str, dict[str, Any]]:
    """Cached entries by commit sha (empty when absent, unreadable or from another version)."""
    try:
        with open(cache_path(repo), encoding="utf-8") as fobj:
            raw = json.load(fobj)
    except (OSError, ValueError):
        return {}
    if (
        not isinstance(raw, dict)
        or raw.get("format") != FORMAT
        or raw.get("version") != __version__
        or not isinstance(raw.get("entries"), dict)
    ):
        return {}
    return raw["entries"]


def is_complete(data: Mapping[str, Any]) -> bool:
    """True when no params or metrics file of ``data`` (an ``ExpData`` dict) failed."""
    return not any(
        "error" in result
        for section in ("params", "metrics")
        for result in data.get(section, {}).values()
    )


def store(repo: Repo, known: Mapping[str, dict[str, Any]], new: Mapping[str, dict]) -> None:
    """Add ``new`` entries to the ``known`` ones and write the file (errors ignored).

    The newest :data:`MAX_ENTRIES` entries are kept.
    """
    if not new:
        return
    entries = {k: v for k, v in known.items() if k not in new}
    entries.update(new)
    if len(entries) > MAX_ENTRIES:
        entries = dict(list(entries.items())[-MAX_ENTRIES:])
    path = cache_path(repo)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fobj:
            payload = {"format": FORMAT, "version": __version__, "entries": entries}
            json.dump(payload, fobj, default=_iso)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _iso(value: object) -> str:
    # YAML dates in params: stored as DVC's JSON writes them.
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
