"""What the magics show: the styled experiments table and small run/queue summaries.

pandas is imported here, so import this module only when a table is shown.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from ..experiments.executors import ExpRunResult
    from ..experiments.queue.store import QueueEntry
    from ..experiments.show import ExpTable

__all__ = [
    "ExpShowFrame",
    "QueueSummary",
    "RunSummary",
    "best_direction",
    "show_frame",
    "style_frame",
]

# Row marks by experiment state (DVC's exp show colours them too).
STATE_STYLES = {
    "Queued": "color: #6c757d; font-style: italic",
    "Running": "background-color: #e7f1ff",
    "Failed": "background-color: #fde2e1; color: #9b1c1c",
}
BEST_STYLE = "font-weight: bold; background-color: #d4f5d4"
_GROUPS = {"meta": "", "metric": "Metrics", "param": "Params", "dep": "Deps"}
# A metric whose name says it is an error is better when lower.
_LOWER_IS_BETTER = ("loss", "err", "mse", "mae", "rmse", "perplexity")


def best_direction(name: str) -> str:
    """``"min"`` for loss/error-like metric names, else ``"max"``."""
    last = name.rsplit(":", 1)[-1].rsplit(".", 1)[-1].lower()
    return "min" if any(word in last for word in _LOWER_IS_BETTER) else "max"


class ExpShowFrame(pd.DataFrame):
    """The ``%exp_show`` DataFrame: a plain DataFrame that displays styled.

    ``attrs["column_kinds"]`` maps each column to ``meta``/``metric``/``param``/``dep``.
    Anything derived from it (``df[...]``, ``df.sort_values(...)``) is a plain
    ``pandas.DataFrame``.
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _repr_html_(self) -> str:  # type: ignore[override]
        return style_frame(self, self.attrs.get("column_kinds", {})).to_html()


def show_frame(table: ExpTable) -> ExpShowFrame:
    """The table as an :class:`ExpShowFrame` (values typed as ``Project.exp_show``'s)."""
    from ..experiments.dataframe import to_dataframe

    frame = ExpShowFrame(to_dataframe(table))
    frame.attrs["column_kinds"] = {c.name: c.kind for c in table.columns}
    return frame


def style_frame(frame: pd.DataFrame, kinds: Mapping[str, str]) -> Styler:
    """``frame`` styled: columns grouped under Metrics/Params/Deps, best metric values
    highlighted, queued/running/failed rows marked."""
    shown = pd.DataFrame(frame)
    shown.columns = pd.MultiIndex.from_tuples(
        [(_GROUPS.get(kinds.get(str(name), "meta"), ""), str(name)) for name in shown.columns]
    )
    styler = shown.style
    for name in frame.columns:
        if kinds.get(str(name)) != "metric" or not pd.api.types.is_numeric_dtype(frame[name]):
            continue
        if pd.api.types.is_bool_dtype(frame[name]) or frame[name].notna().sum() < 2:
            continue
        key = ("Metrics", str(name))
        if best_direction(str(name)) == "min":
            styler = styler.highlight_min(subset=[key], props=BEST_STYLE)
        else:
            styler = styler.highlight_max(subset=[key], props=BEST_STYLE)
    if "State" in frame.columns:
        states = list(frame["State"])
        styler = styler.apply(lambda row: _row_style(states[row.name], len(row)), axis=1)
    return styler.format(precision=5, na_rep="-").hide(axis="index")


def _row_style(state: Any, width: int) -> list[str]:
    return [STATE_STYLES.get(str(state), "")] * width


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _html_table(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class RunSummary:
    """What ``%exp_run`` returns: the experiment's name, changed params and metrics.

    ``result`` is the :class:`~jupyter_exp.experiments.executors.ExpRunResult`.
    """

    def __init__(self, result: ExpRunResult, *, dry: bool = False) -> None:
        self.result = result
        self.dry = dry
        self.name = result.name
        self.recorded = result.recorded
        self.params = list(result.overrides)
        self.metrics = {
            f"{path}:{key}": value
            for path, data in result.metrics.items()
            for key, value in _flatten(data).items()
        }

    def headline(self) -> str:
        """One line: what was recorded, or what the result is identical to."""
        if self.dry:
            return "Dry run: nothing recorded."
        if self.recorded:
            where = " (in a temporary worktree)" if self.result.temp else ""
            return f"Ran experiment '{self.name}'{where}."
        if self.result.identical_to == "HEAD":
            return "The results are identical to the baseline (HEAD): no experiment recorded."
        return f"The results are identical to experiment '{self.result.identical_to}'."

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.params:
            lines.append("params: " + ", ".join(self.params))
        lines += [f"{name} = {value}" for name, value in self.metrics.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self.headline())}</b></p>"]
        if self.params:
            parts.append("<p>Params: <code>" + html.escape(", ".join(self.params)) + "</code></p>")
        if self.metrics:
            parts.append(_html_table(self.metrics.items(), ["Metric", "Value"]))
        return "<div class='jupyter-exp-run'>" + "".join(parts) + "</div>"


class QueueSummary:
    """Queue entries (queued by ``%exp_run --queue``, ended by ``--run-all``, or the
    queue's status) shown as a small table; ``entries`` are the entries."""

    def __init__(self, entries: Sequence[QueueEntry], title: str) -> None:
        self.entries = list(entries)
        self.title = title

    def _rows(self) -> list[list[str]]:
        return [
            [e.short, e.name, e.state, " ".join(e.overrides), e.exp_name or e.error or ""]
            for e in self.entries
        ]

    _HEADER = ("Task", "Name", "Status", "Overrides", "Result")

    def __repr__(self) -> str:
        lines = [self.title]
        lines += ["  ".join(c for c in row if c) for row in self._rows()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.title)}</b></p>" + _html_table(self._rows(), self._HEADER)
