"""``jupyter exp push``: experiments to a Git remote, their outputs to the DVC remote."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project
from .remove import add_rev_selection, join_names


def add_transfer_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """``-f``, ``--no-cache``, ``-r`` and ``--run-cache`` (shared with pull)."""
    where = "to" if verb == "push" else "from"
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="Replace an experiment of the same name that has diverged.",
    )
    parser.add_argument(
        "--no-cache",
        action="store_false",
        dest="cache",
        help=f"Do not {verb} cached outputs {where} the DVC remote.",
    )
    parser.add_argument(
        "-r",
        "--remote",
        dest="dvc_remote",
        metavar="NAME",
        help="DVC remote for cached outputs (default: core.remote of .dvc/config).",
    )
    parser.add_argument(
        "--run-cache",
        action=argparse.BooleanOptionalAction,
        default=False,
        help=f"Also {verb} the run-cache.",
    )
    parser.add_argument("git_remote", metavar="GIT_REMOTE", help="Git remote name or URL.")
    parser.add_argument("experiment", nargs="*", metavar="EXPERIMENT", help="Experiments.")


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``push``."""
    parser = add_command(
        subparsers,
        parents,
        "push",
        help="Push experiments to a Git remote.",
        description=(
            "Push experiment refs to a Git remote (by default the experiments of HEAD),\n"
            "and their cached outputs to the DVC remote configured in .dvc/config."
        ),
        run=run,
    )
    add_rev_selection(parser, "Push", default=True)
    add_transfer_options(parser, "push")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Push and report per experiment, as DVC does."""
    result = open_project().exp_push(
        args.git_remote,
        args.experiment,
        all_commits=args.all_commits,
        rev=args.rev,
        num=args.num,
        force=args.force,
        push_cache=args.cache,
        dvc_remote=args.dvc_remote,
        run_cache=args.run_cache,
    )
    remote = args.git_remote
    if result.diverged:
        ui.warn(
            f"local experiment {join_names(result.diverged)} has diverged from the remote "
            "experiment with the same name; to override the remote one re-run with --force"
        )
    if result.up_to_date:
        verb = "are" if len(result.up_to_date) > 1 else "is"
        ui.write(f"Experiment {join_names(result.up_to_date)} {verb} up to date on '{remote}'.")
    if result.pushed:
        ui.write(f"Pushed experiment {join_names(result.pushed)} to Git remote '{remote}'.")
    if not result.pushed and not result.up_to_date:
        ui.write("No experiments to push.")
    if result.uploaded:
        ui.write(f"Uploaded {result.uploaded} object(s) to DVC remote '{result.data_remote}'.")
    if result.run_cache:
        ui.write(f"Uploaded {result.run_cache} run-cache record(s).")
    if result.missing:
        ui.warn(f"{len(result.missing)} object(s) were not in the local cache and not pushed")
    return 0
