"""``jupyter exp run``: run the pipeline as an experiment (``dvc exp run``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..render import UI, ReproRenderer
from . import Subparsers, add_command, open_project
from .repro import add_repro_arguments, repro_options

if TYPE_CHECKING:
    from ...experiments.executors import ExpResult

DESCRIPTION = """\
Run or resume an experiment: reproduce the pipeline, then record the result as a Git
commit on HEAD under refs/exps/ without touching any branch, the index or HEAD.

Only stages whose inputs changed run. The results stay in the workspace (unless
--temp); `jupyter exp show` lists the experiment, `jupyter exp apply` brings it back.
Same flags and behaviour as `dvc exp run`."""


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``run``."""
    parser = add_command(
        subparsers,
        parents,
        "run",
        help="Run an experiment: reproduce the pipeline and record the result.",
        description=DESCRIPTION,
        run=run,
    )
    add_repro_arguments(parser)
    parser.add_argument(
        "-S",
        "--set-param",
        action="append",
        default=[],
        metavar="[<filename>:]<override>",
        help=(
            "Set a param for this experiment (Hydra override: key=value, +key=value, "
            "++key=value, ~key). Default file: params.yaml. Repeatable."
        ),
    )
    parser.add_argument(
        "-n", "--name", default=None, metavar="<name>", help="Name of the experiment."
    )
    parser.add_argument(
        "-m",
        "--message",
        default=None,
        metavar="<message>",
        help="Commit message (default: 'dvc: commit experiment <hash>').",
    )
    parser.add_argument(
        "--temp",
        action="store_true",
        default=False,
        help="Run in a temporary worktree under .dvc/tmp/exps, leaving the workspace free.",
    )
    parser.add_argument(
        "-C",
        "--copy-paths",
        action="append",
        default=[],
        metavar="<path>",
        help="Untracked or ignored path to copy into the temporary worktree (--temp, --queue).",
    )
    parser.add_argument(
        "--queue",
        action="store_true",
        default=False,
        help="Queue the experiment (one per combination of -S sweeps) instead of running it; "
        "`jupyter exp queue start` runs the queue.",
    )
    parser.add_argument(
        "--run-all",
        action="store_true",
        default=False,
        help="Run every queued experiment in the background and wait, streaming their output.",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="<number>",
        help="Queued experiments to run at once with --run-all (default 1).",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        default=False,
        help="Checkpoint stages start over: delete their checkpoint outputs and begin a new "
        "experiment instead of resuming the last checkpoint.",
    )
    parser.add_argument(
        "-r",
        "--rev",
        default=None,
        metavar="<experiment_rev>",
        help="Checkpoint (experiment name or commit) a --temp or --queue run continues from.",
    )


def describe_outcome(ui: UI, result: ExpResult, *, temp: bool) -> None:
    """DVC's closing lines, or why nothing was recorded."""
    if result.recorded:
        ui.write()
        ui.write(f"Ran experiment(s): {result.name}")
    elif result.identical_to == "HEAD":
        ui.write()
        ui.write(
            f"The results are identical to the baseline (HEAD, {result.baseline[:7]}): "
            "no experiment recorded."
        )
    else:
        ui.write()
        ui.write(
            f"The results are identical to experiment '{result.identical_to}': "
            "no new experiment recorded."
        )
    if temp:
        ui.write("To apply the results of an experiment to your workspace run:")
        ui.write()
        ui.write("\tjupyter exp apply <exp>")
    else:
        ui.write("Experiment results have been applied to your workspace.")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Run one experiment, streaming the stages' progress."""
    project = open_project()
    if args.queue or args.run_all:
        return _run_queue(project, args, ui)
    if args.copy_paths and not args.temp:
        ui.warn("--copy-paths only applies to --temp and --queue runs; ignored")
    result = project.exp_run(
        args.targets,
        params=args.set_param,
        name=args.name,
        message=args.message,
        temp=args.temp,
        copy_paths=args.copy_paths,
        reset=args.reset,
        rev=args.rev,
        **repro_options(args, ui),  # type: ignore[arg-type]
        on_event=ReproRenderer(ui),
    )
    if args.dry:
        return 0
    describe_outcome(ui, result, temp=args.temp)
    return 0


def _run_queue(project: Any, args: argparse.Namespace, ui: UI) -> int:
    """``--queue`` and/or ``--run-all``."""
    from .queue import QueueRenderer, describe_finished, describe_queued

    options = repro_options(args, ui)
    if args.queue:
        queued = project.exp_run(
            args.targets,
            params=args.set_param,
            name=args.name,
            message=args.message,
            copy_paths=args.copy_paths,
            queue=True,
            rev=args.rev,
            **options,
        )
        describe_queued(ui, queued)
    if not args.run_all:
        return 0
    finished = project.exp_run(run_all=True, jobs=args.jobs, on_event=QueueRenderer(ui))
    return describe_finished(ui, finished)
