"""``jupyter exp repro``: reproduce pipelines, with ``dvc repro``'s flags and output."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..render import UI, UP_TO_DATE, ReproRenderer, git_add_hint
from . import Subparsers, add_command, cwd_relative, open_project

if TYPE_CHECKING:
    from ...api import Project
    from ...core.repro import ReproResult

DESCRIPTION = """\
Reproduce complete or partial pipelines by executing their stages.

Only stages whose command, dependencies, params or outputs changed since dvc.lock
was written are run; a stage whose exact inputs ran before gets its outputs back
from the run-cache instead. Same flags and behaviour as `dvc repro`."""


def add_repro_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags ``repro`` shares with ``exp run`` (as in DVC)."""
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help=(
            "Stages to reproduce. 'dvc.yaml' by default. A target is a stage name from "
            "the dvc.yaml of the current directory, a path to a dvc.yaml or .dvc file, "
            "or 'path/to/dvc.yaml:stage'."
        ),
    )
    flags = (
        ("-f", "--force", "Reproduce even if dependencies were not changed."),
        ("-i", "--interactive", "Ask for confirmation before reproducing each stage."),
        (
            "-s",
            "--single-item",
            "Reproduce only single data item without recursive dependencies check.",
        ),
        (
            "-p",
            "--pipeline",
            "Reproduce the whole pipeline that the specified targets belong to.",
        ),
        ("-P", "--all-pipelines", "Reproduce all pipelines in the repo."),
        ("-R", "--recursive", "Reproduce all stages in the specified directory."),
        (None, "--downstream", "Start from the specified stages when reproducing pipelines."),
        (
            None,
            "--force-downstream",
            "Reproduce all descendants of a changed stage even if their direct "
            "dependencies didn't change.",
        ),
        (None, "--allow-missing", "Skip stages with missing data but no other changes."),
        (
            None,
            "--dry",
            "Only print the commands that would be executed without actually executing.",
        ),
        (
            "-k",
            "--keep-going",
            "Continue executing, skipping stages having dependencies on the failed stages.",
        ),
        (None, "--ignore-errors", "Ignore errors from stages."),
    )
    for short, long, text in flags:
        names = [short, long] if short else [long]
        parser.add_argument(*names, action="store_true", default=False, help=text)


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``repro``."""
    parser = add_command(
        subparsers,
        parents,
        "repro",
        help="Reproduce complete or partial pipelines by executing their stages.",
        description=DESCRIPTION,
        run=run,
    )
    add_repro_arguments(parser)
    parser.add_argument(
        "--no-run-cache",
        action="store_true",
        default=False,
        help=(
            "Execute stage commands even if they have already been run with the same "
            "command/dependencies/outputs/etc before."
        ),
    )


def confirm_stage(ui: UI) -> Callable[[str], bool]:
    """The ``-i`` question DVC asks before each stage."""

    def ask(address: str) -> bool:
        return ui.confirm(
            f"Going to reproduce stage: '{address}'. Are you sure you want to continue?"
        )

    return ask


def repro_options(args: argparse.Namespace, ui: UI) -> dict[str, object]:
    """``Project.repro`` keyword arguments from the parsed shared flags."""
    return {
        "force": args.force,
        "single_item": args.single_item,
        "pipeline": args.pipeline,
        "all_pipelines": args.all_pipelines,
        "recursive": args.recursive,
        "downstream": args.downstream,
        "force_downstream": args.force_downstream,
        "keep_going": args.keep_going,
        "ignore_errors": args.ignore_errors,
        "dry": args.dry,
        "interactive": confirm_stage(ui) if args.interactive else None,
        "allow_missing": args.allow_missing,
    }


def print_summary(ui: UI, project: Project, result: ReproResult) -> None:
    """DVC's closing lines: up to date, or which files to ``git add``."""
    if not (result.changed or result.dry or result.failed):
        ui.write(UP_TO_DATE)
    elif result.touched:
        for line in git_add_hint(cwd_relative(project, result.touched)):
            ui.write(line)


def _answered_by_stamp(args: argparse.Namespace, ui: UI) -> bool:
    """A plain ``repro`` whose up-to-date stamp still holds: report it, engine unloaded."""
    flags = repro_options(args, ui)
    flags.pop("keep_going")
    flags.pop("ignore_errors")
    if args.targets or any(flags.values()):
        return False
    from ...core import uptodate

    root = uptodate.find_root(os.getcwd())
    entries = uptodate.check(root, uptodate.repro_key()) if root else None
    if entries is None:
        return False
    uptodate.replay(entries, ReproRenderer(ui))
    ui.write(UP_TO_DATE)
    return True


def run(args: argparse.Namespace, ui: UI) -> int:
    """Reproduce, streaming progress; a failed stage raises (exit code = its status)."""
    if _answered_by_stamp(args, ui):
        return 0
    project = open_project()
    result = project.repro(
        args.targets,
        **repro_options(args, ui),  # type: ignore[arg-type]
        run_cache=not args.no_run_cache,
        on_event=ReproRenderer(ui),
    )
    print_summary(ui, project, result)
    return 0
