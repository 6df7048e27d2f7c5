"""``jupyter exp notebooks``: an experiment's executed notebooks, out of the cache."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``notebooks``."""
    parser = add_command(
        subparsers,
        parents,
        "notebooks",
        help="Write an experiment's executed notebooks where you can open them.",
        description=(
            "Copy the executed notebooks an experiment recorded (the .ipynb outputs of\n"
            "its dvc.lock, e.g. of `jupyter exp notebook` stages) out of the cache, to\n"
            "jupyter-exp-notebooks/EXPERIMENT/<path> in the project (listed in\n"
            ".git/info/exclude, so Git ignores it) or to -o DIR/<path>. Prints the paths.\n"
            "`jupyter exp show --notebooks` lists which experiments have one."
        ),
        run=run,
    )
    parser.add_argument(
        "experiment",
        metavar="EXPERIMENT",
        help="Experiment name, ref or sha prefix, or a revision (branch, tag, HEAD).",
    )
    parser.add_argument(
        "-s", "--stage", metavar="STAGE", help="Only the notebook(s) of this stage."
    )
    parser.add_argument("-o", "--out", metavar="DIR", help="Write them under DIR instead.")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Materialise and print each path (relative to the current directory)."""
    written = open_project().exp_notebook(args.experiment, stage=args.stage, dest=args.out)
    for path in written:
        ui.data(os.path.relpath(path))
    return 0
