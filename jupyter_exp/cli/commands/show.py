"""``jupyter exp show``: the experiments table (``dvc exp show``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from ..render import UI
from . import Subparsers, add_command, open_project


def add_rev_selection(parser: argparse.ArgumentParser, verb: str) -> None:
    """``-A/--all-commits``, ``--rev`` and ``-n/--num``, as DVC's experiment commands."""
    parser.add_argument(
        "-A",
        "--all-commits",
        action="store_true",
        help=f"{verb} experiments of every commit (overrides --rev and --num).",
    )
    parser.add_argument(
        "--rev",
        action="append",
        default=None,
        metavar="COMMIT",
        help=f"{verb} experiments derived from COMMIT (HEAD by default); repeatable.",
    )
    parser.add_argument(
        "-n",
        "--num",
        type=int,
        default=1,
        metavar="NUM",
        help=(
            f"{verb} experiments of the last NUM first-parent commits from --rev "
            "(negative: all of them)."
        ),
    )


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``show``."""
    parser = add_command(
        subparsers,
        parents,
        "show",
        help="Show experiments with their params and metrics.",
        description=(
            "Print the workspace, the baseline commit(s) and their experiments with\n"
            "every metric, param and dependency hash, as `dvc exp show` does.\n"
            "--json prints what `dvc exp show --json` prints."
        ),
        run=run,
    )
    add_rev_selection(parser, "Show")
    parser.add_argument(
        "-a", "--all-branches", action="store_true", help="Show experiments of every branch tip."
    )
    parser.add_argument("-T", "--all-tags", action="store_true", help="Show experiments of tags.")
    parser.add_argument(
        "--no-pager", action="store_true", help="Never page a table wider than the terminal."
    )
    parser.add_argument(
        "--only-changed",
        action="store_true",
        help="Show only metrics/params/deps whose value differs between rows.",
    )
    for kind in ("metrics", "params"):
        for verb, what in (("include", "Show only"), ("exclude", "Hide")):
            parser.add_argument(
                f"--{verb}-{kind}",
                action="append",
                default=[],
                metavar="GLOBS",
                help=(
                    f"{what} the {kind} matching these comma-separated globs "
                    "([file:]name, e.g. 'train.*'); repeatable."
                ),
            )
    parser.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="REGEX",
        help="Remove the columns whose name matches REGEX; repeatable.",
    )
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="REGEX",
        help="Keep the columns matching REGEX even if --drop matches them.",
    )
    parser.add_argument(
        "--param-deps", action="store_true", help="Show only params that stages depend on."
    )
    parser.add_argument(
        "--sort-by", metavar="METRIC_OR_PARAM", help="Sort each baseline's experiments by it."
    )
    parser.add_argument(
        "--sort-order", choices=("asc", "desc"), default="asc", help="Sort order (asc)."
    )
    parser.add_argument(
        "--sha", action="store_true", help="Show commit shas instead of branch/tag names."
    )
    parser.add_argument("--hide-failed", action="store_true", help="Hide failed experiments.")
    parser.add_argument("--hide-queued", action="store_true", help="Hide queued experiments.")
    parser.add_argument("--hide-workspace", action="store_true", help="Hide the workspace row.")
    parser.add_argument("--no-timestamp", action="store_true", help="Leave the Created column out.")
    parser.add_argument(
        "--notebooks",
        action="store_true",
        help=(
            "Add a column per executed notebook (notebook:STAGE) with its path where "
            "the row recorded one; open it with `jupyter exp notebooks EXPERIMENT`."
        ),
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="Print JSON, as `dvc exp show --json`.")
    output.add_argument("--csv", action="store_true", help="Print CSV.")
    output.add_argument(
        "--md", action="store_true", dest="markdown", help="Print a Markdown (GFM) table."
    )
    parser.add_argument(
        "--precision",
        type=int,
        metavar="N",
        help="Round floats to N significant digits (5 in tables; none in CSV).",
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="Read every row again instead of answering from the cache of rows.",
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _revision_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "revs": args.rev,
        "num": args.num,
        "param_deps": args.param_deps,
        "all_branches": args.all_branches,
        "all_tags": args.all_tags,
        "all_commits": args.all_commits,
        "hide_workspace": args.hide_workspace,
        "hide_queued": args.hide_queued,
        "hide_failed": args.hide_failed,
        "sha_only": args.sha,
        "force": args.force,
    }


def run(args: argparse.Namespace, ui: UI) -> int:
    """Print the experiments in the chosen format."""
    if args.json:
        # Straight to the collector, not through Project: a warm `show --json` loads
        # neither the engine nor the pipeline loader (see experiments/collect.py).
        from ...core.repo import Repo
        from ...experiments.collect import collect_json

        states = collect_json(Repo.find("."), **_revision_args(args))
        indent = 2 if ui.styled else None
        ui.data(json.dumps(states, default=_json_default, indent=indent))
        return 0
    project = open_project()
    table = project.exp_show_table(
        **_revision_args(args),
        include_metrics=args.include_metrics,
        exclude_metrics=args.exclude_metrics,
        include_params=args.include_params,
        exclude_params=args.exclude_params,
        keep=args.keep,
        drop=[*args.drop, *(["Created$"] if args.no_timestamp else [])],
        only_changed=args.only_changed,
        sort_by=args.sort_by,
        sort_order=args.sort_order,
        notebooks=args.notebooks,
    )
    from ..show_render import DEFAULT_PRECISION, render_csv, render_markdown, render_terminal

    if args.csv:
        ui.out.write(render_csv(table, args.precision or None))
        ui.out.flush()
    elif args.markdown:
        # DVC ends the table with an empty line.
        ui.data(render_markdown(table, args.precision or DEFAULT_PRECISION))
    elif not ui.quiet:
        render_terminal(table, ui, args.precision or DEFAULT_PRECISION, pager=not args.no_pager)
    return 0
