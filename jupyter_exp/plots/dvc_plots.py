"""Charts of the ``plots:`` a pipeline defines, compared across revisions.

For each revision (the workspace, commits, experiments) the revision's own pipeline
says which plots exist and which files and fields they read; the data of every
revision then goes into one chart per plot id, a line (or bar group, or heat map) per
revision, drawn with the definition the first revision gives (the workspace when
asked for). A folder plot is one chart per data file in it; images are left out (they
are not data series).

A data file missing from a revision draws nothing for it (the stage has not run
there); a plot with no data anywhere is left out. A plot whose data is unusable
(unreadable file, a field the data lacks) in every revision raises
:class:`~jupyter_exp.errors.PlotDefinitionError` naming the ``dvc.yaml``, the plot id
and the data file.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.repo import Repo
from ..errors import InvalidArgumentError, PlotDefinitionError
from ..git import Git
from .definitions import PlotDefinition, PlotSource, collect_definitions
from .plot_data import DATA_SUFFIXES, PlotDataError, parse_records
from .revisions import Revision, RevisionFiles, open_files
from .spec import PlotSpec
from .templates import build_spec

__all__ = ["STEP_FIELD", "dvc_plot_specs"]

# DVC's x when none is given: the data's `step` (DVCLive writes it), else the row number.
STEP_FIELD = "step"


@dataclass
class _Chart:
    """A plot being gathered: its definition and the points found so far."""

    plot: PlotDefinition
    records: list[dict[str, Any]] = field(default_factory=list)
    x_fields: list[str] = field(default_factory=list)
    y_fields: list[str] = field(default_factory=list)
    problems: list[PlotDefinitionError] = field(default_factory=list)


def dvc_plot_specs(
    repo: Repo, git: Git, revisions: Sequence[Revision], targets: Sequence[str] = ()
) -> list[PlotSpec]:
    """One chart per plot the revisions define (only those ``targets`` name: plot ids,
    data files or folders), in definition order."""
    charts: dict[str, _Chart] = {}
    for revision in revisions:
        with open_files(repo, git, revision) as files:
            for plot in collect_definitions(files.view.index):
                if targets and not _targeted(plot, targets):
                    continue
                for part, data in _split(plot, files):
                    chart = charts.setdefault(part.id, _Chart(part))
                    _gather(chart, part, revision.label, data)
    if targets:
        _check_targets(targets, charts)
    specs = []
    for chart in charts.values():
        if not chart.records:
            if chart.problems:
                raise chart.problems[0]
            continue
        specs.append(_spec(chart))
    return specs


def _targeted(plot: PlotDefinition, targets: Sequence[str]) -> bool:
    paths = [plot.id, *(s.file for s in plot.sources)]
    return any(p == t or p.startswith(t.rstrip("/") + "/") for t in targets for p in paths)


def _check_targets(targets: Sequence[str], charts: dict[str, _Chart]) -> None:
    for target in targets:
        if not any(_targeted(c.plot, [target]) for c in charts.values()):
            raise InvalidArgumentError(
                f"no plot named '{target}' in any dvc.yaml of the revisions", argument="targets"
            )


def _split(
    plot: PlotDefinition, files: RevisionFiles
) -> list[tuple[PlotDefinition, dict[str, dict[str, bytes]]]]:
    """``(plot, {source file: {file: content}})`` pairs; a folder plot becomes one plot
    per data file in it."""
    contents = {source.file: files.read(source.file) for source in plot.sources}
    if not plot.is_path:
        return [(plot, contents)]
    (source,) = plot.sources
    found = contents[source.file]
    if set(found) <= {source.file}:
        return [(plot, contents)]
    parts = []
    for file, data in found.items():
        if posixpath.splitext(file)[1].lower() not in DATA_SUFFIXES:
            continue  # images and other files of the folder
        part = dataclasses.replace(plot, id=file, sources=(dataclasses.replace(source, file=file),))
        parts.append((part, {file: {file: data}}))
    return parts


def _gather(
    chart: _Chart, plot: PlotDefinition, rev: str, contents: dict[str, dict[str, bytes]]
) -> None:
    """Add ``rev``'s points of every source of ``plot`` to ``chart``."""
    several = len({s.file for s in chart.plot.sources}) > 1
    for source in plot.sources:
        data = contents.get(source.file, {}).get(source.file)
        if data is None:
            continue  # not produced in this revision
        try:
            records = parse_records(source.file, data, header=plot.header)
        except PlotDataError as error:
            chart.problems.append(plot.error(str(error), source.file))
            continue
        if not records:
            continue
        try:
            x, ys = _fields(source, records)
        except PlotDataError as error:
            chart.problems.append(plot.error(str(error), source.file))
            continue
        _remember(chart.x_fields, x or STEP_FIELD)
        for y in ys:
            _remember(chart.y_fields, y)
            series = _series_name(rev, source.file, y, several=several, fields=len(ys) > 1)
            for number, record in enumerate(records):
                if y not in record:
                    continue
                chart.records.append(
                    {
                        "x": record.get(x) if x else number,
                        "y": record[y],
                        "rev": rev,
                        "series": series,
                        "file": source.file,
                        "field": y,
                    }
                )


def _fields(source: PlotSource, records: list[dict[str, Any]]) -> tuple[str | None, list[str]]:
    """The x field (None: the row number) and the y fields of ``source`` for ``records``."""
    first = records[0]
    x = source.x or (STEP_FIELD if STEP_FIELD in first else None)
    if x is not None and x not in first:
        raise PlotDataError(f"field '{x}' is not in '{source.file}'")
    if source.y:
        missing = [y for y in source.y if not any(y in r for r in records)]
        if missing:
            raise PlotDataError(f"field '{missing[0]}' is not in '{source.file}'")
        return x, list(source.y)
    # DVC's default y: the last field of the data that is not x.
    others = [name for name in first if name != x]
    if not others:
        raise PlotDataError(f"'{source.file}' has no field to plot besides '{x}'")
    return x, [others[-1]]


def _series_name(rev: str, file: str, y: str, *, several: bool, fields: bool) -> str:
    if several:
        return f"{rev}: {file}: {y}"
    return f"{rev}: {y}" if fields else rev


def _remember(names: list[str], name: str) -> None:
    if name not in names:
        names.append(name)


def _spec(chart: _Chart) -> PlotSpec:
    plot = chart.plot
    title = plot.title or plot.id
    spec = build_spec(
        plot.template,
        chart.records,
        title=title,
        x_label=plot.x_label or ", ".join(chart.x_fields),
        y_label=plot.y_label or ", ".join(chart.y_fields),
    )
    return PlotSpec(title, spec)
