"""``jupyter exp list``: experiment names per baseline (``dvc exp list``).

The module is ``ls``: one named ``list`` would shadow the builtin in the registry package.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project
from .show import add_rev_selection


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``list``."""
    parser = add_command(
        subparsers,
        parents,
        "list",
        help="List experiments, local or on a Git remote.",
        description=(
            "List the experiments of HEAD (or --rev, -n, -A) by baseline, as\n"
            "`dvc exp list` does. With GIT_REMOTE, list the experiments pushed there."
        ),
        run=run,
    )
    add_rev_selection(parser, "List")
    names = parser.add_mutually_exclusive_group()
    names.add_argument(
        "--name-only",
        "--names-only",
        dest="name_only",
        action="store_true",
        help="Print only the experiment names.",
    )
    names.add_argument(
        "--sha-only",
        "--shas-only",
        dest="sha_only",
        action="store_true",
        help="Print only the experiment commits.",
    )
    names.add_argument("--json", action="store_true", help="Print the listing as JSON.")
    parser.add_argument(
        "git_remote",
        nargs="?",
        default=None,
        metavar="GIT_REMOTE",
        help="A Git remote name or URL to list experiments from instead.",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    """Print ``baseline:`` then ``<tab>sha [name]`` lines, as DVC does."""
    if args.sha_only and args.git_remote:
        from ...errors import InvalidArgumentError

        raise InvalidArgumentError("--sha-only is not supported with a Git remote")
    project = open_project()
    listing = project.exp_list(
        args.rev, all_commits=args.all_commits, num=args.num, git_remote=args.git_remote
    )
    if args.json:
        ui.data(json.dumps([group.to_dict() for group in listing]))
        return 0
    for group in listing:
        if not (args.name_only or args.sha_only):
            ui.write(f"{group.name or group.baseline[:7]}:")
        for exp in group.experiments:
            if args.name_only:
                ui.write(exp.name)
            elif args.sha_only:
                ui.write(exp.rev or "")
            elif exp.rev:
                ui.write(f"\t{exp.rev[:7]} [{exp.name}]")
            else:
                ui.write(f"\t{exp.name}")
    return 0
