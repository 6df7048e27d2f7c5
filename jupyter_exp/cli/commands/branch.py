"""``jupyter exp branch``: promote an experiment to a Git branch."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``branch``."""
    parser = add_command(
        subparsers,
        parents,
        "branch",
        help="Promote an experiment to a Git branch.",
        description=(
            "Create a Git branch pointing at the experiment's commit. The workspace,\n"
            "HEAD and the current branch do not change."
        ),
        run=run,
    )
    parser.add_argument("experiment", metavar="EXPERIMENT", help="Experiment to promote.")
    parser.add_argument(
        "branch",
        nargs="?",
        metavar="BRANCH",
        help="Name of the new branch (default: '<experiment>-branch').",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    """Create the branch and say how to switch to it."""
    result = open_project().exp_branch(args.experiment, args.branch)
    ui.write(
        f"Git branch '{result.branch}' has been created from experiment "
        f"'{result.experiment}'.\nTo switch to the new branch run:\n\n"
        f"\tgit checkout {result.branch}"
    )
    return 0
