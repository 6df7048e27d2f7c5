"""The local worker pool: N detached processes, each taking queue entries until none is left.

``queue start -j N`` spawns the workers (``python -m jupyter_exp.experiments.queue.workers
ROOT ID``) in their own session and returns at once: they outlive the terminal or the
kernel that started them, and Ctrl+C there does not reach them. A worker claims the
oldest ``Queued`` entry it can lock (:func:`.entry.try_run_entry`; claims are atomic, so
no entry runs twice), runs it, and goes on; it exits when nothing is left to claim or
``queue stop`` was asked, after writing down any entry whose runner died.

Each worker is recorded in ``workers/<id>.json`` (host, pid, start time) by the process
that spawns it, before it runs, so a worker is visible from the first instant; a record
whose process is gone is dropped by :func:`live_workers`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.fsutil import atomic_write_text
from ...lean_imports import skip_unused_imports
from .entry import KilledError, reap, try_run_entry
from .procs import is_alive, start_time
from .store import FAILED, QUEUED, RUNNING, QueueEntry, QueueStore, now, this_host

__all__ = [
    "WorkerInfo",
    "forget_worker",
    "live_workers",
    "requeue_failed",
    "spawn_worker",
    "start_workers",
]


@dataclass(frozen=True)
class WorkerInfo:
    """A worker process: ``kind`` is ``local`` or ``dask`` (a Dask driver)."""

    id: str
    pid: int
    host: str
    kind: str
    started: float
    start_time: str | None = None
    running: str | None = None  # the entry it runs now, if any

    @property
    def owner(self) -> dict[str, Any]:
        """As an owner record for :func:`.procs.is_alive`."""
        return {"pid": self.pid, "host": self.host, "start_time": self.start_time}


def start_workers(
    root: str | os.PathLike[str], jobs: int = 1, *, retry_failed: bool = False
) -> list[WorkerInfo]:
    """Clean up after dead runs, then make sure ``jobs`` local workers serve the queue.

    Returns the workers started now (none when enough run already, or nothing is
    queued). ``retry_failed`` puts ``Failed`` entries back in the queue first.
    """
    if jobs < 1:
        from ...errors import InvalidArgumentError

        raise InvalidArgumentError("--jobs must be at least 1", argument="--jobs")
    root = os.fspath(Path(root).resolve())
    store = prepare_start(root, retry_failed=retry_failed)
    queued = sum(1 for e in store.entries() if e.state == QUEUED)
    alive = live_workers(root)
    wanted = min(jobs - len(alive), queued)
    return [spawn_worker(root, "local", [str(root)]) for _ in range(max(wanted, 0))]


def prepare_start(root: str, *, retry_failed: bool = False) -> QueueStore:
    """What every ``queue start`` does first: clear the stop request, reap, requeue."""
    store = QueueStore(root)
    store.dir.mkdir(parents=True, exist_ok=True)
    store.stop_path.unlink(missing_ok=True)
    reap(root)
    if retry_failed:
        requeue_failed(root)
    return store


def requeue_failed(root: str | os.PathLike[str], names: Sequence[str] = ()) -> list[QueueEntry]:
    """Put ``Failed`` entries (all, or those ``names`` name) back in the queue."""
    store = QueueStore(root)
    wanted = {store.find(n).id for n in names} if names else None
    again = []

    def change(entry: QueueEntry) -> bool:
        if entry.state != FAILED:
            return False
        entry.state, entry.error, entry.owner, entry.finished = QUEUED, None, None, None
        return True

    for entry in store.entries():
        if entry.state == FAILED and (wanted is None or entry.id in wanted):
            updated = store.update(entry.id, change)
            if updated is not None and updated.state == QUEUED:
                again.append(updated)
    return again


def spawn_worker(
    root: str, kind: str, argv: Sequence[str], module: str | None = None
) -> WorkerInfo:
    """Start one detached worker process and record it; return at once.

    ``argv`` follows ``python -m MODULE`` (default: this module) and gets the worker id
    appended. Its stdout/stderr go to ``workers/<id>.log``.
    """
    store = QueueStore(root)
    worker_id = f"w{secrets.token_hex(4)}"
    log_path = store.workers_dir / f"{worker_id}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", module or __name__, *argv, worker_id],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not in the terminal's process group: Ctrl+C spares it
            close_fds=True,
        )
    # A long-lived parent (a kernel) must collect the exit status, or a zombie stays.
    threading.Thread(target=proc.wait, name=f"reap-{worker_id}", daemon=True).start()
    info = WorkerInfo(
        id=worker_id,
        pid=proc.pid,
        host=this_host(),
        kind=kind,
        started=now(),
        start_time=start_time(proc.pid),
    )
    record = {k: v for k, v in info.__dict__.items() if k != "running"}
    atomic_write_text(store.workers_dir / f"{worker_id}.json", json.dumps(record) + "\n")
    return info


def live_workers(root: str | os.PathLike[str]) -> list[WorkerInfo]:
    """The workers whose process still runs (records of dead ones are deleted)."""
    store = QueueStore(root)
    if not store.dir.is_dir():
        return []
    running = {(e.owner or {}).get("worker"): e.id for e in store.entries() if e.state == RUNNING}
    found = []
    for path in sorted(store.workers_dir.glob("w*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        info = WorkerInfo(**{k: v for k, v in record.items() if k != "running"})
        if is_alive(info.owner):
            found.append(WorkerInfo(**{**info.__dict__, "running": running.get(info.id)}))
        elif info.host == this_host():
            path.unlink(missing_ok=True)
            with contextlib.suppress(FileNotFoundError):
                path.with_suffix(".log").unlink()
    return found


def worker_loop(root: str, worker_id: str) -> int:
    """Take entries until none is left or a stop was asked; return the number run."""
    store = QueueStore(root)
    done = 0
    try:
        while not store.stop_requested():
            ran = False
            for entry in store.entries():
                if entry.state != QUEUED:
                    continue
                if store.stop_requested():
                    break
                if try_run_entry(root, entry.id, worker=worker_id):
                    ran, done = True, done + 1
                    break  # re-read: oldest first again
            if not ran:
                break
        reap(root)  # a worker that died mid-run is written down before we go
    except KilledError:
        pass
    finally:
        forget_worker(store, worker_id)
    return done


def forget_worker(store: QueueStore, worker_id: str) -> None:
    """A worker's last act: drop its record, and its log unless something was written."""
    (store.workers_dir / f"{worker_id}.json").unlink(missing_ok=True)
    log = store.workers_dir / f"{worker_id}.log"
    with contextlib.suppress(OSError):
        if log.stat().st_size == 0:  # a worker's own log only matters if it crashed
            log.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jupyter_exp.experiments.queue.workers ROOT WORKER_ID``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        # Internal entry point: a wrong call is a bug, reported on stderr.
        raise SystemExit("usage: python -m jupyter_exp.experiments.queue.workers ROOT WORKER_ID")
    skip_unused_imports()
    worker_loop(args[0], args[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
