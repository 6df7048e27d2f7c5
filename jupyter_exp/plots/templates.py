"""Vega-Lite specs with the meaning of DVC's built-in plot templates.

The data comes in long form, one record per point: ``x``, ``y`` (the values of the
plot's x and y fields), ``rev`` (the revision), ``series`` (what a line stands for: the
revision, plus the file and field when a plot draws several) and ``file``/``field``.
Fixed field names keep dotted or spaced names of the user's data out of Vega-Lite's
field syntax; the axis titles carry the user's names.

=====================  ==========================================================
``linear`` (default)   a line with points per series, x and y quantitative
``simple``             a plain line per series
``scatter``            points per series
``scatter_jitter``     points with a little random offset, for overlapping values
``smooth``             a LOESS-smoothed line per series (a slider sets the
                       bandwidth) over the faded points
``confusion``          counts of (x = actual, y = predicted) pairs, a heat map per
                       revision
``confusion_normalized`` the same, as shares of each actual class
``bar_horizontal``     a bar per y category of length x, grouped by series
``bar_horizontal_sorted`` the same, longest bar first
=====================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .spec import SCHEMA

__all__ = ["BUILDERS", "build_spec"]

Record = dict[str, Any]
_SIZE = {"width": 300, "height": 300}


def build_spec(
    template: str,
    records: Sequence[Record],
    *,
    title: str,
    x_label: str,
    y_label: str,
) -> dict[str, Any]:
    """The spec of ``template`` (one of :data:`BUILDERS`) for ``records``."""
    body = BUILDERS[template](list(records), x_label, y_label)
    return {"$schema": SCHEMA, "title": title, "data": {"values": list(records)}, **body}


def _type(records: Sequence[Record], field: str) -> str:
    """``quantitative`` when every value is a number, else ``ordinal`` (dates, names...)."""
    numbers = all(
        isinstance(r[field], (int, float)) and not isinstance(r[field], bool) for r in records
    )
    return "quantitative" if numbers else "ordinal"


def _xy(records: Sequence[Record], x_label: str, y_label: str) -> dict[str, Any]:
    return {
        "x": {"field": "x", "type": _type(records, "x"), "title": x_label},
        "y": {
            "field": "y",
            "type": _type(records, "y"),
            "title": y_label,
            "scale": {"zero": False},
        },
        "color": {"field": "series", "type": "nominal", "title": None},
    }


def _tooltip(x_label: str, y_label: str) -> list[dict[str, Any]]:
    return [
        {"field": "series", "title": "series"},
        {"field": "x", "title": x_label},
        {"field": "y", "title": y_label},
    ]


def _linear(records: list[Record], x_label: str, y_label: str) -> dict[str, Any]:
    encoding = _xy(records, x_label, y_label) | {"tooltip": _tooltip(x_label, y_label)}
    return {**_SIZE, "mark": {"type": "line", "point": True}, "encoding": encoding}


def _simple(records: list[Record], x_label: str, y_label: str) -> dict[str, Any]:
    return {**_SIZE, "mark": "line", "encoding": _xy(records, x_label, y_label)}


def _scatter(records: list[Record], x_label: str, y_label: str) -> dict[str, Any]:
    encoding = _xy(records, x_label, y_label) | {
        "shape": {"field": "series", "type": "nominal", "title": None},
        "tooltip": _tooltip(x_label, y_label),
    }
    return {**_SIZE, "mark": {"type": "point", "filled": True}, "encoding": encoding}


def _scatter_jitter(records: list[Record], x_label: str, y_label: str) -> dict[str, Any]:
    spec = _scatter(records, x_label, y_label)
    # A normal random offset (Box-Muller), a few pixels wide, on both axes.
    normal = "sqrt(-2 * log(random())) * cos(2 * PI * random())"
    spec["transform"] = [
        {"calculate": normal, "as": "x_jitter"},
        {"calculate": normal, "as": "y_jitter"},
    ]
    spec["encoding"] = spec["encoding"] | {
        "xOffset": {"field": "x_jitter", "type": "quantitative", "scale": {"range": [-4, 4]}},
        "yOffset": {"field": "y_jitter", "type": "quantitative", "scale": {"range": [-4, 4]}},
    }
    return spec


def _smooth(records: list[Record], x_label: str, y_label: str) -> dict[str, Any]:
    encoding = _xy(records, x_label, y_label)
    return {
        **_SIZE,
        "params": [
            {
                "name": "smooth",
                "value": 0.001,
                "bind": {"input": "range", "min": 0.001, "max": 1, "step": 0.001},
            }
        ],
        "layer": [
            {
                "mark": "line",
                "transform": [
                    {
                        "loess": "y",
                        "on": "x",
                        "groupby": ["series"],
                        "bandwidth": {"signal": "smooth"},
                    }
                ],
                "encoding": encoding,
            },
            {
                "mark": {"type": "point", "opacity": 0.3},
                "encoding": encoding | {"tooltip": _tooltip(x_label, y_label)},
            },
        ],
    }


def _confusion(records: list[Record], x_label: str, y_label: str, *, normalized: bool) -> Any:
    transform: list[dict[str, Any]] = [
        {"aggregate": [{"op": "count", "as": "count"}], "groupby": ["series", "x", "y"]}
    ]
    value = "count"
    if normalized:
        value = "share"
        transform += [
            {
                "joinaggregate": [{"op": "sum", "field": "count", "as": "total"}],
                "groupby": [
                    "series",
                    "x",
                ],
            },
            {"calculate": "datum.count / datum.total", "as": "share"},
        ]
    axis = {"type": "nominal", "sort": "ascending"}
    return {
        "transform": transform,
        "facet": {"column": {"field": "series", "type": "nominal", "title": None}},
        "spec": {
            "width": 240,
            "height": 240,
            "encoding": {
                "x": {"field": "x", "title": x_label, **axis},
                "y": {"field": "y", "title": y_label, **axis},
            },
            "layer": [
                {
                    "mark": "rect",
                    "encoding": {
                        "color": {"field": value, "type": "quantitative", "title": value},
                        "tooltip": [
                            {"field": "x", "title": x_label},
                            {"field": "y", "title": y_label},
                            {"field": "count", "type": "quantitative"},
                        ],
                    },
                },
                {
                    "mark": {"type": "text", "baseline": "middle"},
                    "encoding": {
                        "text": {
                            "field": value,
                            "type": "quantitative",
                            **({"format": ".0%"} if normalized else {}),
                        }
                    },
                },
            ],
        },
    }


def _bar_horizontal(
    records: list[Record], x_label: str, y_label: str, *, sort: bool = False
) -> dict[str, Any]:
    return {
        "width": 300,
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": x_label},
            "y": {
                "field": "y",
                "type": "nominal",
                "title": y_label,
                **({"sort": "-x"} if sort else {}),
            },
            "yOffset": {"field": "series"},
            "color": {"field": "series", "type": "nominal", "title": None},
        },
    }


Builder = Callable[[list[Record], str, str], dict[str, Any]]

BUILDERS: dict[str, Builder] = {
    "linear": _linear,
    "simple": _simple,
    "scatter": _scatter,
    "scatter_jitter": _scatter_jitter,
    "smooth": _smooth,
    "confusion": lambda r, x, y: _confusion(r, x, y, normalized=False),
    "confusion_normalized": lambda r, x, y: _confusion(r, x, y, normalized=True),
    "bar_horizontal": _bar_horizontal,
    "bar_horizontal_sorted": lambda r, x, y: _bar_horizontal(r, x, y, sort=True),
}
