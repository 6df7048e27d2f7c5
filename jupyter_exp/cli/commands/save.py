"""``jupyter exp save``: record the workspace as an experiment (``dvc exp save``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project

DESCRIPTION = """\
Save the current workspace as an experiment, without running anything.

The stages are committed first (as `dvc commit --force`: dvc.lock gets the workspace's
hashes, cached outputs go to the cache), then the workspace is recorded as a commit on
HEAD under refs/exps/. Same behaviour as `dvc exp save`."""


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``save``."""
    parser = add_command(
        subparsers,
        parents,
        "save",
        help="Save the current workspace as an experiment.",
        description=DESCRIPTION,
        run=run,
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="Limit DVC caching to these .dvc files and stage names.",
    )
    parser.add_argument(
        "-R",
        "--recursive",
        action="store_true",
        default=False,
        help="Cache subdirectories of the specified directory.",
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        default=False,
        help="Replace experiment if it already exists.",
    )
    parser.add_argument(
        "--json", action="store_true", default=False, help="Show output in JSON format."
    )
    parser.add_argument(
        "-n",
        "--name",
        default=None,
        metavar="<name>",
        help="Human-readable experiment name. If not specified, one is generated.",
    )
    parser.add_argument(
        "-I",
        "--include-untracked",
        action="append",
        default=[],
        metavar="<path>",
        help="List of untracked paths to include in the experiment.",
    )
    parser.add_argument(
        "-m",
        "--message",
        default=None,
        metavar="<message>",
        help="Commit message (default: 'dvc: commit experiment <hash>').",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    """Save, then name the experiment (or what it is identical to)."""
    project = open_project()
    result = project.exp_save(
        args.targets,
        name=args.name,
        message=args.message,
        force=args.force,
        include_untracked=args.include_untracked,
        recursive=args.recursive,
    )
    if args.json:
        ui.data(json.dumps({"ref": result.sha, "name": result.name if result.recorded else None}))
    elif result.recorded:
        ui.write(f"Experiment has been saved as: {result.name}")
    elif result.identical_to == "HEAD":
        ui.write(
            f"The workspace is identical to the baseline (HEAD, {result.baseline[:7]}): "
            "no experiment saved."
        )
    else:
        ui.write(
            f"The workspace is identical to experiment '{result.identical_to}': "
            "no new experiment saved."
        )
    return 0
