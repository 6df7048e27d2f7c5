"""``jupyter exp status``: what changed since the pipeline last ran."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from ..render import EMPTY_PROJECT, UI, UP_TO_DATE, format_status
from . import Subparsers, add_command, open_project


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``status``."""
    parser = add_command(
        subparsers,
        parents,
        "status",
        help="Show changed stages and data in the workspace.",
        description=(
            "Show the stages and data sources whose dependencies, params, outputs or\n"
            "command changed since dvc.lock was written, as `dvc status` does.\n"
            "With -q print nothing and exit 1 if anything changed."
        ),
        run=run,
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="Stages or dvc.yaml files to check, with their upstream (default: all).",
    )
    parser.add_argument(
        "--json", action="store_true", help="Print the status as JSON (as `dvc status --json`)."
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    """Print the status in DVC's layout (or JSON)."""
    project = open_project()
    report = project.status(args.targets)
    if args.json:
        ui.data(json.dumps(report))
        return 0
    if ui.quiet:
        return int(bool(report))
    if report:
        for line in format_status(report):
            ui.write(line)
    elif not args.targets and not project.index().stages:
        ui.write(EMPTY_PROJECT)
    else:
        ui.write(UP_TO_DATE)
    return 0
