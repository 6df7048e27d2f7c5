"""``jupyter exp queue start|status|logs|stop|kill|remove`` (``dvc queue ...``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..render import UI
from . import Subparsers, add_command, open_project

if TYPE_CHECKING:
    from ...events import Event
    from ...experiments.queue.store import QueueEntry

DESCRIPTION = """\
Run queued experiments (`jupyter exp run --queue`) in the background and manage them.

  start    start background workers (or a Dask driver) and return at once
  status   list the queue's experiments and workers
  logs     print an experiment's output (-f: follow it while it runs)
  stop     take no new experiment (--kill: also stop the running ones)
  kill     stop running experiments; they end Failed with their logs kept
  remove   remove entries by name, or --all, --queued, --success, --failed

Same commands as `dvc queue`; experiments run in temporary Git worktrees and land
under refs/exps/ like any other."""


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``queue`` and its sub-commands."""
    parser = add_command(
        subparsers,
        parents,
        "queue",
        help="Run and manage queued experiments (start, status, logs, stop, kill, remove).",
        description=DESCRIPTION,
        run=_no_verb,
    )
    verbs = parser.add_subparsers(title="queue commands", metavar="VERB", dest="verb")

    start = add_command(verbs, parents, "start", help="Start workers on the queue.", run=_start)
    start.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="<number>",
        help="Number of experiments to run at once (default 1).",
    )
    where = start.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="Run on the Dask cluster of this scheduler (workers must share the project's "
        "filesystem). Needs the dask extra.",
    )
    where.add_argument(
        "--cluster",
        choices=["local"],
        default=None,
        help="Run on a Dask LocalCluster of --jobs worker processes. Needs the dask extra.",
    )
    start.add_argument(
        "--retry-failed", action="store_true", help="Put failed experiments back in the queue."
    )

    status = add_command(verbs, parents, "status", help="Show the queue.", run=_status)
    status.add_argument("--json", action="store_true", help="Print the entries as JSON.")

    logs = add_command(verbs, parents, "logs", help="Show an experiment's output.", run=_logs)
    logs.add_argument("name", metavar="NAME", help="Experiment name or task id.")
    logs.add_argument(
        "-f", "--follow", action="store_true", help="Keep printing until the experiment ends."
    )

    stop = add_command(verbs, parents, "stop", help="Stop the workers.", run=_stop)
    stop.add_argument("--kill", action="store_true", help="Also stop the experiments running now.")

    kill = add_command(verbs, parents, "kill", help="Stop running experiments.", run=_kill)
    kill.add_argument("names", nargs="+", metavar="NAME", help="Experiment names or task ids.")

    remove = add_command(verbs, parents, "remove", help="Remove queue entries.", run=_remove)
    remove.add_argument("names", nargs="*", metavar="NAME", help="Experiment names or task ids.")
    for flag, text in (
        ("--all", "every entry that is not running"),
        ("--queued", "entries still waiting"),
        ("--success", "entries that succeeded"),
        ("--failed", "entries that failed"),
    ):
        remove.add_argument(flag, action="store_true", help=f"Remove {text}.")


def _no_verb(args: argparse.Namespace, ui: UI) -> int:
    ui.error("missing queue command: start, status, logs, stop, kill or remove")
    return 2


def _start(args: argparse.Namespace, ui: UI) -> int:
    project = open_project()
    started = project.queue_start(
        args.jobs,
        scheduler=args.scheduler,
        cluster=args.cluster,
        retry_failed=args.retry_failed,
    )
    if not started:
        ui.write("No experiment to run (or enough workers running already).")
    for worker in started:
        where = "Dask driver" if worker.kind == "dask" else "worker"
        ui.write(f"Started {where} '{worker.id}' (pid {worker.pid}).")
    return 0


def format_created(stamp: float) -> str:
    """DVC's ``Created`` column: the time today, the date otherwise."""
    when = datetime.fromtimestamp(stamp)
    if when.date() == datetime.now().date():
        return when.strftime("%I:%M %p")
    return when.strftime("%b %d, %Y")


def _status(args: argparse.Namespace, ui: UI) -> int:
    status = open_project().queue_status()
    if args.json:
        ui.data(json.dumps([e.to_dict() for e in status.entries], indent=2))
        return 0
    rows = [["Task", "Name", "Created", "Status"]]
    rows += [[e.short, e.name, format_created(e.created), e.state] for e in status.entries]
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            ui.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        ui.write()
    else:
        ui.write("No experiments in the queue.")
    ui.write(f"Worker status: {status.active} active, {status.idle} idle")
    return 0


def _logs(args: argparse.Namespace, ui: UI) -> int:
    project = open_project()
    chunks = project.queue_logs(args.name, follow=args.follow)
    last = ""
    for text in [chunks] if isinstance(chunks, str) else chunks:
        ui.stream("stdout", text)
        last = text or last
    if last and not last.endswith("\n"):
        ui.stream("stdout", "\n")
    return 0


def _stop(args: argparse.Namespace, ui: UI) -> int:
    killed = open_project().queue_stop(kill=args.kill)
    ui.write("Workers will take no new experiment.")
    for entry in killed:
        ui.write(f"Stopping experiment '{entry.name}'.")
    return 0


def _kill(args: argparse.Namespace, ui: UI) -> int:
    for entry in open_project().queue_kill(args.names):
        ui.write(f"Stopping experiment '{entry.name}' ({entry.short}).")
    return 0


def _remove(args: argparse.Namespace, ui: UI) -> int:
    removed = open_project().queue_remove(
        args.names, all=args.all, queued=args.queued, success=args.success, failed=args.failed
    )
    if removed:
        ui.write("Removed: " + ", ".join(e.name for e in removed))
    else:
        ui.write("Nothing removed.")
    return 0


# --- rendering a running queue (exp run --run-all) -----------------------------------------


class QueueRenderer:
    """Stream queued experiments' progress: ``[name] line`` for their output, and states."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self.partial: dict[str, str] = {}

    def __call__(self, event: Event) -> None:
        from ...experiments.queue.control import QueueEntryChanged, QueueLogOutput

        if isinstance(event, QueueLogOutput):
            text = self.partial.pop(event.id, "") + event.text
            *lines, rest = text.split("\n")
            for line in lines:
                self.ui.write(f"[{event.name}] {line}")
            if rest:
                self.partial[event.id] = rest
        elif isinstance(event, QueueEntryChanged):
            self._changed(event)

    def _changed(self, event: Any) -> None:
        leftover = self.partial.pop(event.id, "")
        if leftover:
            self.ui.write(f"[{event.name}] {leftover}")
        if event.state == "Running":
            self.ui.write(f"[{event.name}] started")
        elif event.state == "Success":
            if event.identical_to:
                self.ui.write(f"[{event.name}] done: identical to '{event.identical_to}'")
            else:
                self.ui.write(f"[{event.name}] done: experiment '{event.exp_name}'")
        elif event.state == "Failed":
            self.ui.write(f"[{event.name}] failed: {event.error}")


def describe_queued(ui: UI, entries: Sequence[QueueEntry]) -> None:
    """DVC's lines for ``exp run --queue``."""
    for entry in entries:
        if entry.overrides:
            ui.write(f"Queueing with overrides {entry.overrides}.")
        ui.write(f"Queued experiment '{entry.name}' ({entry.short}) for future execution.")


def describe_finished(ui: UI, entries: Sequence[QueueEntry]) -> int:
    """The summary after ``--run-all``; exit status 1 when any experiment failed."""
    landed = [e.exp_name or e.name for e in entries if e.state == "Success"]
    failed = [e for e in entries if e.state == "Failed"]
    waiting = [e.name for e in entries if not e.done]
    ui.write()
    if landed:
        ui.write(f"Ran experiment(s): {', '.join(landed)}")
    for entry in failed:
        ui.error(f"experiment '{entry.name}' failed: {entry.error}")
    if failed:
        ui.write(f"See their output with: jupyter exp queue logs {failed[0].name}")
    if waiting:
        ui.warn(f"still queued (no worker left): {', '.join(waiting)}")
    return 1 if failed or waiting else 0
