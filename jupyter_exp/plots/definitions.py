"""The plots a pipeline defines: top-level ``plots:`` of each ``dvc.yaml`` and the
``plots:`` outputs of its stages, as DVC 3 reads them.

A top-level entry is a path (``logs.csv``, or a folder: one plot per file in it), or
``{id: props}``. When ``y`` is a mapping ``{file: field or [fields]}`` the id is a name
and the data comes from those files (``x`` then a field, or ``{file: field}``); otherwise
the id is the data file's path and ``y`` a field or a list of fields. Paths are relative
to the ``dvc.yaml``'s folder. A stage output's props are ``template``, ``x``, ``y``,
``x_label``, ``y_label``, ``title`` and ``header``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.index import Index
from ..core.pipeline.model import join_repo_path
from ..errors import PlotDefinitionError
from .templates import BUILDERS

__all__ = ["TEMPLATES", "PlotDefinition", "PlotSource", "collect_definitions"]

# DVC's built-in templates (`dvc plots templates`).
TEMPLATES = tuple(BUILDERS)


@dataclass(frozen=True)
class PlotSource:
    """One data file of a plot: its ``y`` fields (empty: the last field of the data)
    and ``x`` field (None: ``step`` if the data has it, else the row number)."""

    file: str
    y: tuple[str, ...] = ()
    x: str | None = None


@dataclass(frozen=True)
class PlotDefinition:
    """One plot: where it is defined, its data files and how to draw them.

    ``is_path`` is True when the id is the data file's path (which may be a folder).
    """

    id: str
    dvcfile: str
    sources: tuple[PlotSource, ...]
    template: str = "linear"
    title: str | None = None
    x_label: str | None = None
    y_label: str | None = None
    header: bool = True
    is_path: bool = True

    def error(self, detail: str, source: str | None = None) -> PlotDefinitionError:
        """A :class:`PlotDefinitionError` naming this plot's file and id."""
        return PlotDefinitionError(detail, path=self.dvcfile, plot=self.id, source=source)


def collect_definitions(index: Index) -> list[PlotDefinition]:
    """Every plot ``index`` defines: top-level ones first, then stage outputs; a path
    defined twice keeps its first definition, as ids must be unique in a chart list."""
    found: dict[str, PlotDefinition] = {}
    for pfile in index.files:
        folder = posixpath.dirname(pfile.path)
        for item in pfile.plots:
            entries = {item: None} if isinstance(item, str) else dict(item)
            for plot_id, props in entries.items():
                plot = _top_level(pfile.path, folder, str(plot_id), props or {})
                found.setdefault(plot.id, plot)
    for stage in index.pipeline_stages():
        for out in stage.outs:
            if out.kind == "plot":
                plot = _from_props(stage.dvcfile, out.repo_path, out.plot_props)
                found.setdefault(plot.id, plot)
    return list(found.values())


def _top_level(dvcfile: str, folder: str, plot_id: str, props: Mapping[str, Any]) -> PlotDefinition:
    y = props.get("y")
    if not isinstance(y, Mapping):
        return _from_props(dvcfile, join_repo_path(folder, plot_id), props)
    x = props.get("x")
    sources = []
    for file, fields in y.items():
        path = join_repo_path(folder, str(file))
        x_field = x.get(file) if isinstance(x, Mapping) else x
        sources.append(PlotSource(path, _fields(fields), x_field))
    if isinstance(x, Mapping):
        stray = [f for f in x if f not in y]
        if stray:
            raise PlotDefinitionError(
                f"x names file '{stray[0]}', which y does not", path=dvcfile, plot=plot_id
            )
    return _checked(
        PlotDefinition(plot_id, dvcfile, tuple(sources), is_path=False, **_looks(props))
    )


def _from_props(dvcfile: str, path: str, props: Mapping[str, Any]) -> PlotDefinition:
    x = props.get("x")
    if isinstance(x, Mapping):  # DVC's schema allows it; for one file it is one field
        x = next(iter(x.values()), None)
    source = PlotSource(path, _fields(props.get("y")), x)
    header = props.get("header", True)
    return _checked(
        PlotDefinition(path, dvcfile, (source,), header=header is not False, **_looks(props))
    )


def _looks(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "template": props.get("template") or "linear",
        "title": props.get("title"),
        "x_label": props.get("x_label"),
        "y_label": props.get("y_label"),
    }


def _fields(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _checked(plot: PlotDefinition) -> PlotDefinition:
    if plot.template not in TEMPLATES:
        raise plot.error(
            f"unknown template '{plot.template}' (built-in templates: {', '.join(TEMPLATES)})"
        )
    for source in plot.sources:
        if source.file == ".." or source.file.startswith(("../", "/")):
            raise plot.error(f"data file '{source.file}' is outside the repository", source.file)
    # A confusion matrix pairs two named classes; a row number means nothing there.
    if plot.template.startswith("confusion") and not all(s.x and s.y for s in plot.sources):
        raise plot.error(f"the {plot.template} template needs x and y (actual and predicted)")
    return plot
