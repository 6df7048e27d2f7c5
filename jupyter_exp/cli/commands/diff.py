"""``jupyter exp diff``: params, metrics, deps and outs that differ (``dvc exp diff``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from ..render import UI
from . import Subparsers, add_command, open_project

DEFAULT_PRECISION = 5  # DVC's, for metrics


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``diff``."""
    parser = add_command(
        subparsers,
        parents,
        "diff",
        help="Show changes between experiments.",
        description=(
            "Show the params and metrics that differ between two revisions (Git revisions\n"
            "or experiment names), with the numeric change of each, and the deps and outs\n"
            "whose hashes in dvc.lock differ. A defaults to HEAD, B to the workspace."
        ),
        run=run,
    )
    parser.add_argument("a_rev", nargs="?", metavar="A", help="Old revision (default: HEAD).")
    parser.add_argument(
        "b_rev", nargs="?", metavar="B", help="New revision (default: the workspace)."
    )
    parser.add_argument("--all", action="store_true", help="Show unchanged values too.")
    parser.add_argument(
        "--param-deps", action="store_true", help="Show only params that are stage dependencies."
    )
    parser.add_argument("--json", action="store_true", help="Print the diff as JSON.")
    parser.add_argument("--md", action="store_true", dest="markdown", help="Print Markdown tables.")
    parser.add_argument(
        "--no-path", action="store_true", help="Do not show the file of each param/metric."
    )
    parser.add_argument(
        "--precision",
        type=int,
        metavar="N",
        help=f"Significant digits of metrics (default {DEFAULT_PRECISION}).",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    """Print the diff as DVC's tables, Markdown or JSON."""
    project = open_project()
    diff = project.exp_diff(args.a_rev, args.b_rev, all=args.all, param_deps=args.param_deps)
    if args.json:
        ui.data(json.dumps(diff.to_dict()))
        return 0
    precision = args.precision or DEFAULT_PRECISION
    tables = [
        _value_table(diff.metrics, "Metric", diff.a, diff.b, args.no_path, precision),
        _value_table(diff.params, "Param", diff.a, diff.b, args.no_path, None),
        _data_table(diff, args.no_path),
    ]
    shown = [
        format_table(headers, rows, markdown=args.markdown) for headers, rows in tables if rows
    ]
    if shown:
        ui.write("\n\n".join(shown))
    return 0


def _value_table(
    section: dict[str, dict[str, dict[str, Any]]],
    title: str,
    a: str,
    b: str,
    no_path: bool,
    precision: int | None,
) -> tuple[list[str], list[list[str]]]:
    headers = ["Path", title, a, b, "Change"]
    rows = []
    for path in sorted(section):
        for key, change in sorted(section[path].items()):
            rows.append(
                [
                    path,
                    key,
                    _field(change.get("old"), precision),
                    _field(change.get("new"), precision),
                    _field(change.get("diff", "diff not supported"), precision),
                ]
            )
    return _drop_path(headers, rows, no_path)


def _data_table(diff: Any, no_path: bool) -> tuple[list[str], list[list[str]]]:
    headers = ["Path", "Data", diff.a, diff.b, "Change"]
    rows = []
    for kind, section in (("dep", diff.deps), ("out", diff.outs)):
        for path, change in sorted(section.items()):
            old, new = change["old"], change["new"]
            status = (
                "added"
                if old is None
                else "deleted"
                if new is None
                else "modified"
                if old != new
                else "-"
            )
            rows.append([path, kind, _short(old), _short(new), status])
    del no_path  # data rows are paths themselves
    return headers, rows


def _drop_path(
    headers: list[str], rows: list[list[str]], no_path: bool
) -> tuple[list[str], list[list[str]]]:
    if not no_path:
        return headers, rows
    return headers[1:], [row[1:] for row in rows]


def _short(md5: str | None) -> str:
    if md5 is None:
        return "-"
    return md5[:8] + (".dir" if md5.endswith(".dir") else "")


def _field(value: Any, precision: int | None) -> str:
    """A value as DVC's ``_format_field`` shows it (floats with ``precision`` digits)."""
    if value is None:
        return "-"
    if isinstance(value, float) and precision:
        return f"{value:.{precision}g}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool) -> str:
    """A left-aligned table as tabulate's ``plain`` (DVC's terminal) or ``github`` format."""
    # tabulate pads a header by at least 2 (MIN_PADDING) beyond its text.
    widths = [max([len(h) + 2, *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    if markdown:

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(headers), rule, *(line(row) for row in rows)]) + "\n"
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        for cells in [headers, *rows]
    )
