"""``jupyter exp apply``: an experiment's files and outputs into the workspace."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``apply``."""
    parser = add_command(
        subparsers,
        parents,
        "apply",
        help="Apply the changes from an experiment to your workspace.",
        description=(
            "Write the experiment's tracked files and its cached outputs into the\n"
            "workspace; HEAD and the branch do not move. Uncommitted edits that would be\n"
            "overwritten make it refuse, unless --force. The workspace as it was is saved\n"
            "under refs/exps/apply/stash first, so it can always be brought back."
        ),
        run=run,
    )
    parser.add_argument("experiment", metavar="EXPERIMENT", help="Experiment to apply.")
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="Overwrite uncommitted edits (they are saved under refs/exps/apply/stash).",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    """Apply and say how to get the previous workspace back."""
    result = open_project().exp_apply(args.experiment, force=args.force)
    ui.write(f"Changes for experiment '{result.name}' have been applied to your current workspace.")
    for path, md5 in sorted(result.saved_outputs.items()):
        ui.write(f"Saved your version of '{path}' to the DVC cache ({md5}).")
    if result.restore_hint:
        ui.write(
            f"Your previous workspace is saved in {result.snapshot_ref}; to get it back run:"
            f"\n\n\t{result.restore_hint}\n"
        )
    if result.missing:
        shown = ", ".join(f"'{p}'" for p in result.missing)
        ui.warn(
            f"not in the cache, left as they were: {shown}; "
            "fetch them with `jupyter exp pull` (or `dvc pull`)"
        )
    return 0
