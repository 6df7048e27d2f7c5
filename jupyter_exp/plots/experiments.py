"""Charts of experiments built from the ``exp show`` DataFrame.

One row per experiment (and per checkpoint when chains are shown); ``kinds`` maps each
column to ``meta``/``metric``/``param``/``dep``. The data goes into the specs in long
form (one record per row and column), so column names with dots (``train.lr``) stay
plain values rather than Vega-Lite field paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..errors import InvalidArgumentError
from .spec import SCHEMA, PlotSpec

__all__ = [
    "choose_chart",
    "long_records",
    "metrics_chart",
    "numeric_columns",
    "parallel_chart",
    "steps_chart",
]


def _label(row: Mapping[str, Any]) -> str:
    """What names a row: the experiment, else the revision (workspace, branch...)."""
    for key in ("Experiment", "rev"):
        value = row.get(key)
        if isinstance(value, str) and value:
            return value
    return "?"


def _plain(value: Any) -> Any:
    """A JSON-able value: NaN/NA become None, numpy scalars Python numbers."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def numeric_columns(frame: pd.DataFrame, kinds: Mapping[str, str], kind: str) -> list[str]:
    """Columns of ``kind`` (``metric``/``param``) holding numbers (not booleans)."""
    return [
        str(name)
        for name in frame.columns
        if kinds.get(str(name)) == kind
        and pd.api.types.is_numeric_dtype(frame[name])
        and not pd.api.types.is_bool_dtype(frame[name])
    ]


def long_records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """One record per row and column with a value: ``experiment``, ``row``, ``step``,
    ``name``, ``value``."""
    records = []
    for number, (_, row) in enumerate(frame.iterrows()):
        step = _plain(row["Step"]) if "Step" in frame.columns else None
        for name in columns:
            value = _plain(row[name])
            if value is not None:
                records.append(
                    {"experiment": _label(row), "row": number, "step": step}
                    | {"name": name, "value": value}
                )
    return records


def metrics_chart(frame: pd.DataFrame, metrics: Sequence[str]) -> PlotSpec:
    """One bar chart per metric, a bar per experiment."""
    spec = {
        "$schema": SCHEMA,
        "data": {"values": long_records(frame, metrics)},
        "facet": {
            "column": {"field": "name", "type": "nominal", "title": None, "sort": list(metrics)}
        },
        "spec": {
            "mark": "bar",
            "encoding": {
                "x": {"field": "experiment", "type": "nominal", "sort": None},
                "y": {"field": "value", "type": "quantitative"},
                "color": {"field": "experiment", "type": "nominal", "legend": None},
                "tooltip": [{"field": "experiment"}, {"field": "value"}],
            },
        },
        "resolve": {"scale": {"y": "independent"}},
    }
    return PlotSpec(f"metrics {', '.join(metrics)} across experiments", spec)


def steps_chart(frame: pd.DataFrame, metrics: Sequence[str]) -> PlotSpec:
    """Each metric against the checkpoint step, a line per experiment."""
    rows = frame[frame["Step"].notna()] if "Step" in frame.columns else frame.iloc[0:0]
    spec = {
        "$schema": SCHEMA,
        "data": {"values": long_records(rows, metrics)},
        "facet": {
            "column": {"field": "name", "type": "nominal", "title": None, "sort": list(metrics)}
        },
        "spec": {
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {"field": "step", "type": "quantitative", "title": "step"},
                "y": {"field": "value", "type": "quantitative"},
                "color": {"field": "experiment", "type": "nominal"},
            },
        },
        "resolve": {"scale": {"y": "independent"}},
    }
    return PlotSpec(f"metrics {', '.join(metrics)} by checkpoint step", spec)


def parallel_chart(frame: pd.DataFrame, params: Sequence[str], metric: str) -> PlotSpec:
    """Parallel coordinates: each experiment a line through its params and ``metric``,
    every axis scaled to 0-1, coloured by the metric."""
    axes = [*params, metric]
    records = long_records(frame, axes)
    colour = {r["row"]: r["value"] for r in records if r["name"] == metric}
    for record in records:
        record["colour"] = colour.get(record["row"])
    spec = {
        "$schema": SCHEMA,
        "data": {"values": records},
        "transform": [
            {
                "joinaggregate": [
                    {"op": "min", "field": "value", "as": "lo"},
                    {"op": "max", "field": "value", "as": "hi"},
                ],
                "groupby": ["name"],
            },
            {
                "calculate": "datum.hi == datum.lo ? 0.5 : "
                "(datum.value - datum.lo) / (datum.hi - datum.lo)",
                "as": "scaled",
            },
        ],
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {
                "field": "name",
                "type": "nominal",
                "sort": axes,
                "title": None,
                "axis": {"labelAngle": 0},
            },
            "y": {"field": "scaled", "type": "quantitative", "axis": None},
            "detail": {"field": "row", "type": "nominal"},
            "color": {"field": "colour", "type": "quantitative", "title": metric},
            "tooltip": [{"field": "experiment"}, {"field": "name"}, {"field": "value"}],
        },
        "width": max(120 * len(axes), 300),
    }
    return PlotSpec(f"parallel coordinates of {', '.join(params)} against {metric}", spec)


def choose_chart(
    frame: pd.DataFrame,
    kinds: Mapping[str, str],
    metrics: Sequence[str] = (),
    *,
    steps: bool = False,
    parallel: bool = False,
    params: Sequence[str] = (),
) -> PlotSpec:
    """Bars of ``metrics`` (default: every numeric metric) across the rows; ``steps``
    lines over checkpoint steps; ``parallel`` parallel coordinates of ``params``
    (default: the numeric params that vary) against the first metric.

    Unknown or missing names raise :class:`~jupyter_exp.errors.InvalidArgumentError`.
    """
    available = numeric_columns(frame, kinds, "metric")
    unknown = [m for m in metrics if m not in available]
    if unknown:
        raise InvalidArgumentError(
            f"no numeric metric named {unknown[0]!r} (metrics: {', '.join(available) or 'none'})",
            argument="metrics",
        )
    chosen = list(metrics) or available
    if not chosen:
        raise InvalidArgumentError("no numeric metric to plot", argument="metrics")
    if parallel:
        # Rows without the metric would be lines that end nowhere.
        frame = frame[frame[chosen[0]].notna()]
        numeric_params = numeric_columns(frame, kinds, "param")
        wrong = [p for p in params if p not in numeric_params]
        if wrong:
            raise InvalidArgumentError(f"no numeric param named {wrong[0]!r}", argument="params")
        # By default the params that vary: a constant one is a flat line that says nothing.
        varying = [p for p in numeric_params if frame[p].nunique(dropna=True) > 1]
        axes = list(params) or varying or numeric_params
        if not axes:
            raise InvalidArgumentError("no numeric param to plot against", argument="params")
        return parallel_chart(frame, axes, chosen[0])
    if steps:
        if "Step" not in frame.columns or frame["Step"].isna().all():
            raise InvalidArgumentError("no checkpoint experiment to plot by step", argument="kind")
        return steps_chart(frame, chosen)
    return metrics_chart(frame, chosen)
