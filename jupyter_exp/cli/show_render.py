"""Rendering the ``exp show`` table: terminal (rich), CSV and Markdown, as DVC prints them.

Cells are formatted as ``dvc exp show`` formats them (``dvc/compare.py``): floats to
``precision`` significant digits (5 by default in tables, untouched in CSV unless asked),
everything else with ``str()``; ``-`` for a missing value (empty in CSV), ``!`` where
the file could not be read. ``Created`` is a time for today, a date otherwise, ISO in
CSV. In tables the experiment column reads ``├── 1a2b3c4 [name]``; ``State`` and
``Executor`` are left out when empty. rich is imported only to draw the terminal table.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..experiments.show import Column, ExpTable, Row
    from .render import UI

DEFAULT_PRECISION = 5
FILL = "-"
ERRORED = "!"
_TREE = {
    "branch_commit": "├──",
    "branch_base": "└──",
    "baseline": "",
    # Checkpoint series under their experiment, drawn as DVC 2 drew them.
    "checkpoint_tip": "│ ╓",
    "checkpoint_commit": "│ ╟",
    "checkpoint_base": "├─╨",
}
_MERGED = ("rev", "typ", "parent")


def format_value(value: Any, precision: int | None) -> str:
    """A metric/param value as DVC's ``_format_field`` writes it."""

    def fmt(item: Any) -> Any:
        if isinstance(item, float) and precision:
            return f"{item:.{precision}g}"
        if isinstance(item, dict):
            return {k: fmt(v) for k, v in item.items()}
        if isinstance(item, list):
            return [fmt(v) for v in item]
        return item

    return str(fmt(value))


def format_time(value: datetime | None, *, iso: bool, fill: str) -> str:
    """``Created`` as DVC shows it: ISO, or a time today, or a date."""
    if value is None:
        return fill
    if iso:
        return value.isoformat()
    if value.date() == date.today():
        return value.strftime("%I:%M %p")
    return value.strftime("%b %d, %Y")


def _columns(table: ExpTable, *, merged: bool) -> list[Column]:
    """Columns to print: no empty State/Executor; no rev/typ/parent once merged."""
    shown = []
    for column in table.columns:
        if column.kind == "meta":
            if column.name in ("State", "Executor") and all(
                table.cell(row, column) in (None, "") for row in table.rows
            ):
                continue
            if merged and column.name in _MERGED:
                continue
        shown.append(column)
    return shown


def _experiment_id(row: Row) -> str:
    if row.typ == "baseline" or not row.experiment:
        text = row.experiment or row.rev
    else:
        text = f"{row.rev} [{row.experiment}]"
    if row.parent:
        text += f" ({row.parent})"
    tree = _TREE.get(row.typ, "")
    return f"{tree} {text}" if tree else text


def _cell(
    table: ExpTable,
    row: Row,
    column: Column,
    *,
    merged: bool,
    iso: bool,
    fill: str,
    precision: int | None,
) -> str:
    if column.kind == "meta":
        if column.name == "Experiment" and merged:
            return _experiment_id(row)
        if column.name == "Created":
            return format_time(row.created, iso=iso, fill=fill)
        value = table.cell(row, column)
        if column.name in ("Experiment", "parent") and not value:
            return ""
        return fill if value is None else str(value)
    if column.name in row.errors:
        return ERRORED
    value = row.values.get(column.name)
    return fill if value is None else format_value(value, precision)


def table_rows(
    table: ExpTable, *, merged: bool, iso: bool, fill: str, precision: int | None
) -> tuple[list[str], list[list[str]], list[Column]]:
    """Headers, formatted rows and the columns they come from."""
    columns = _columns(table, merged=merged)
    rows = [
        [
            _cell(table, row, c, merged=merged, iso=iso, fill=fill, precision=precision)
            for c in columns
        ]
        for row in table.rows
    ]
    return [c.name for c in columns], rows, columns


def render_csv(table: ExpTable, precision: int | None = None) -> str:
    """CSV as ``dvc exp show --csv``: every meta column, ISO times, empty for missing."""
    headers, rows, _ = table_rows(table, merged=False, iso=True, fill="", precision=precision)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def render_markdown(table: ExpTable, precision: int | None = DEFAULT_PRECISION) -> str:
    """A GitHub table as ``dvc exp show --md`` prints it (cells padded, left-aligned)."""
    headers, rows, _ = table_rows(table, merged=True, iso=False, fill=FILL, precision=precision)
    # Each column is as wide as its longest cell, and at least its header plus two.
    widths = [max([len(h) + 2, *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        lines.append(f"| {cells} |")
    return "\n".join(lines) + "\n"


def render_terminal(
    table: ExpTable, ui: UI, precision: int | None = DEFAULT_PRECISION, *, pager: bool = True
) -> None:
    """Draw the table with rich, never squeezing a column away.

    In a pipe: the whole table, as wide as it needs, no colours. On a terminal too
    narrow for it: through ``less -FRSX`` (scroll sideways) unless ``pager`` is False
    or there is no ``less``, else printed at full width as DVC does.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    headers, rows, columns = table_rows(
        table, merged=True, iso=False, fill=FILL, precision=precision
    )
    styled = ui.styled
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for header, column in zip(headers, columns, strict=True):
        grid.add_column(
            header,
            justify="right" if column.kind == "metric" else "left",
            no_wrap=True,
            style=_STYLES.get(column.kind) if styled else None,
        )
    for row, cells in zip(table.rows, rows, strict=True):
        grid.add_row(
            *(Text(cell) for cell in cells),
            style="bold" if styled and row.typ == "baseline" else None,
        )
    width = _natural_width(headers, rows)
    options: dict[str, Any] = {"highlight": False, "markup": False, "emoji": False}
    if not styled:
        Console(file=ui.out, width=width, color_system=None, **options).print(grid)
        return
    if width <= shutil.get_terminal_size().columns:
        Console(file=ui.out, **options).print(grid)
        return
    buffer = io.StringIO()
    Console(file=buffer, width=width, force_terminal=True, **options).print(grid)
    less = shutil.which("less") if pager and sys.stdin.isatty() else None
    if less is None:
        ui.out.write(buffer.getvalue())
        ui.out.flush()
        return
    env = {**os.environ, "LESS": os.environ.get("LESS", "-FRSX")}
    ui.out.flush()
    subprocess.run([less], input=buffer.getvalue().encode(), env=env, check=False)


_STYLES = {"metric": "yellow", "param": "cyan", "dep": "magenta"}


def _natural_width(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    return sum(widths) + 3 * len(widths) + 2
