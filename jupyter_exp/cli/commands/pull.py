"""``jupyter exp pull``: experiments from a Git remote, their outputs from the DVC remote."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project
from .push import add_transfer_options
from .remove import add_rev_selection, join_names


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``pull``."""
    parser = add_command(
        subparsers,
        parents,
        "pull",
        help="Pull experiments from a Git remote.",
        description=(
            "Fetch experiment refs from a Git remote (by default its experiments of HEAD),\n"
            "and their cached outputs from the DVC remote configured in .dvc/config."
        ),
        run=run,
    )
    add_rev_selection(parser, "Pull", default=True)
    add_transfer_options(parser, "pull")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Pull and report per experiment."""
    result = open_project().exp_pull(
        args.git_remote,
        args.experiment,
        all_commits=args.all_commits,
        rev=args.rev,
        num=args.num,
        force=args.force,
        pull_cache=args.cache,
        dvc_remote=args.dvc_remote,
        run_cache=args.run_cache,
    )
    remote = args.git_remote
    if result.diverged:
        ui.warn(
            f"local experiment {join_names(result.diverged)} has diverged from the remote "
            "experiment with the same name; to override the local one re-run with --force"
        )
    if result.up_to_date:
        verb = "are" if len(result.up_to_date) > 1 else "is"
        ui.write(f"Experiment {join_names(result.up_to_date)} {verb} up to date.")
    if result.pulled:
        ui.write(f"Pulled experiment {join_names(result.pulled)} from Git remote '{remote}'.")
    if not result.pulled and not result.up_to_date:
        ui.write("No experiments to pull.")
    if result.downloaded:
        ui.write(
            f"Downloaded {result.downloaded} object(s) from DVC remote '{result.data_remote}'."
        )
    if result.run_cache:
        ui.write(f"Downloaded {result.run_cache} run-cache record(s).")
    if result.missing:
        ui.warn(f"{len(result.missing)} object(s) were not on the DVC remote")
    return 0
