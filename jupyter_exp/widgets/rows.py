"""The experiments table as the widget shows it: one display row per ``exp show`` row.

:class:`ShownRows` pairs the display DataFrame (plain values DataTables can sort and
search) with what the actions need: each row's key (the experiment name, or the
revision for the workspace and baselines), the argument to pass to ``Project`` and the
raw params values for "Queue a copy". pandas is imported here; ipywidgets is not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ..experiments.show import Column, ExpTable, Row

__all__ = ["QUEUE_EXECUTOR", "WORKSPACE", "ShownRows", "display_value"]

WORKSPACE = "workspace"
# The executor ``exp show`` reports for a queue entry (queued, running or failed).
QUEUE_EXECUTOR = "dvc-task"
# Meta columns worth a column in the widget (the rest is in ``exp show``'s DataFrame).
_SHOWN_META = ("rev", "State", "Created", "Step")


def display_value(value: Any) -> Any:
    """A cell as DataTables shows it: numbers stay numbers (they sort as numbers), a
    missing value is an empty string, anything else is text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return value
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return json.dumps(value, default=str)


@dataclass(frozen=True)
class ShownRow:
    """What the actions need of one row."""

    key: str  # what the selection is kept by: the experiment name, else the revision
    target: str  # what Project's methods are given
    is_experiment: bool  # an experiment (or a queue entry), not the workspace or a baseline
    queue_entry: bool  # queued, running or failed in the queue (no experiment commit yet)
    state: str | None
    row: Row


class ShownRows:
    """An :class:`~jupyter_exp.experiments.show.ExpTable` ready for the widget."""

    def __init__(self, table: ExpTable) -> None:
        self.table = table
        self.rows = [_shown(row) for row in table.rows]
        self.columns = _shown_columns(table)
        self.frame = self._frame()

    # --- selection by key ---------------------------------------------------------------

    def keys(self) -> list[str]:
        """Each row's key, in table order."""
        return [row.key for row in self.rows]

    def positions(self, keys: Iterable[str]) -> list[int]:
        """The positions of the rows with these keys (a key no longer shown is dropped)."""
        wanted = set(keys)
        return [i for i, row in enumerate(self.rows) if row.key in wanted]

    def pick(self, positions: Sequence[int]) -> list[ShownRow]:
        """The rows at ``positions`` (positions out of range are ignored)."""
        return [self.rows[i] for i in positions if 0 <= i < len(self.rows)]

    def active(self) -> bool:
        """True when a row is queued or running."""
        return any(row.state in ("Queued", "Running") for row in self.rows)

    # --- what the actions read ----------------------------------------------------------

    def params(self, position: int) -> list[tuple[Column, Any]]:
        """The params columns with a value in the row at ``position``, and those values."""
        row = self.rows[position].row
        return [
            (column, row.values[column.name])
            for column in self.table.columns
            if column.kind == "param" and column.name in row.values
        ]

    def typed_frame(self, positions: Sequence[int]) -> pd.DataFrame:
        """``exp show``'s typed DataFrame of these rows (all rows when empty), with
        ``attrs["column_kinds"]``: what the plot builders take."""
        from ..ipython.display import show_frame

        frame = show_frame(self.table)
        if positions:
            picked = frame.iloc[list(positions)]
            picked.attrs["column_kinds"] = frame.attrs["column_kinds"]
            return picked
        return frame

    def _frame(self) -> pd.DataFrame:
        import pandas as pd

        data: dict[str, list[Any]] = {"Experiment": [row.key for row in self.rows]}
        for column in self.columns:
            values = [self.table.cell(row.row, column) for row in self.rows]
            data[_header(column)] = [display_value(v) for v in values]
        return pd.DataFrame(data, dtype=object)

    def kinds(self) -> list[str]:
        """The kind of each display column (``meta``, ``metric``, ``param``)."""
        return ["meta", *(column.kind for column in self.columns)]


def _shown(row: Row) -> ShownRow:
    queue_entry = row.executor == QUEUE_EXECUTOR
    if row.sha is None:
        return ShownRow(WORKSPACE, WORKSPACE, False, False, row.state, row)
    if row.experiment:
        return ShownRow(row.experiment, row.experiment, True, queue_entry, row.state, row)
    # A baseline (branch, tag or commit) or an unnamed checkpoint: its revision.
    return ShownRow(row.rev, row.sha, row.typ != "baseline", queue_entry, row.state, row)


def _shown_columns(table: ExpTable) -> list[Column]:
    """Meta columns worth showing, then metrics, then params (dependency hashes are left
    to ``%exp_show``: in the widget they are noise)."""
    by_kind: dict[str, list[Column]] = {"meta": [], "metric": [], "param": []}
    for column in table.columns:
        if column.kind == "meta" and column.name not in _SHOWN_META:
            continue
        if column.kind in by_kind:
            by_kind[column.kind].append(column)
    return [*by_kind["meta"], *by_kind["metric"], *by_kind["param"]]


def _header(column: Column) -> str:
    return "Rev" if column.kind == "meta" and column.name == "rev" else column.name
