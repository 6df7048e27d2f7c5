"""``jupyter exp remove``: delete experiments, here or on a Git remote."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project


def add_rev_selection(parser: argparse.ArgumentParser, verb: str, default: bool) -> None:
    """DVC's ``-A``, ``--rev`` and ``-n`` options (shared by remove, push and pull)."""
    parser.add_argument(
        "-A",
        "--all-commits",
        action="store_true",
        help=f"{verb} all experiments in the repository (overrides --rev and --num).",
    )
    parser.add_argument(
        "--rev",
        action="append",
        default=[],
        metavar="COMMIT",
        help=f"{verb} experiments derived from COMMIT as baseline"
        + (" (HEAD by default)." if default else "."),
    )
    parser.add_argument(
        "-n",
        "--num",
        type=int,
        default=1,
        metavar="NUM",
        help="Also the experiments of NUM - 1 first-parent commits before each --rev "
        "(negative: all).",
    )


def join_names(names: Sequence[str]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'`` (DVC's humanize.join)."""
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``remove``."""
    parser = add_command(
        subparsers,
        parents,
        "remove",
        help="Remove experiments.",
        description=(
            "Remove experiments by name, or those of --rev baselines, or all of them (-A);\n"
            "--keep removes every experiment except the selected ones; -g removes them\n"
            "from a Git remote instead."
        ),
        run=run,
    )
    add_rev_selection(parser, "Remove", default=False)
    parser.add_argument(
        "--keep", action="store_true", help="Keep the selected experiments, remove the others."
    )
    parser.add_argument(
        "-g",
        "--git-remote",
        metavar="REMOTE",
        help="Name or URL of the Git remote to remove the experiments from.",
    )
    parser.add_argument("experiment", nargs="*", metavar="EXPERIMENT", help="Experiments.")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Remove and list what went."""
    removed = open_project().exp_remove(
        args.experiment,
        rev=args.rev,
        num=args.num,
        all_commits=args.all_commits,
        git_remote=args.git_remote,
        keep=args.keep,
    )
    if removed:
        ui.write(f"Removed experiments: {join_names(removed)}")
    else:
        ui.write("No experiments to remove.")
    return 0
