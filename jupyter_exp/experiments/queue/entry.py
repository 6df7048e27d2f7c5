"""Run one queue entry: claim it, run its snapshot in a worktree, record the outcome.

:func:`run_entry` is safe to call from any process on the same filesystem, any number
of times, at once: the entry's run lock (``locks/<id>.lock``) is taken before the entry
is marked ``Running`` and held until its final state is written, so exactly one process
runs it, and a ``Running`` entry whose lock is free belongs to a process that died (it
is then marked ``Failed`` and its worktree, with anything still running in it, cleaned
up by whoever notices: the next worker, ``queue start`` or ``queue status``).

The experiment lands like any other (:func:`.executors.temp.run_snapshot`): a worktree
``.dvc/tmp/exps/q-<id>`` sharing the project's objects, refs and DVC cache, the result
recorded under ``refs/exps/``. The stages' output goes to ``logs/<id>.log``, kept.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from ...core.repo import Repo
from ...errors import JupyterExpError
from ...events import EventSink, ignore_events
from ...git import Git
from ...lean_imports import skip_unused_imports
from ..checkpoints import CheckpointPlan
from ..environment import experiment_env
from ..executors.base import ExpJob
from ..executors.temp import run_snapshot, worktree_lock
from .enqueue import options_from_entry
from .procs import identity, kill_processes_in
from .store import FAILED, QUEUE_REF_PREFIX, QUEUED, RUNNING, SUCCESS, QueueEntry, QueueStore, now

__all__ = ["KilledError", "reap", "run_entry", "try_run_entry"]

_KILL_POLL = 0.2
DIED = "its worker process died while it ran"


class KilledError(BaseException):
    """A run was stopped on purpose (``queue kill``, ``queue stop --kill``, SIGTERM).

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` on the way up
    swallows it; the stage's process group is stopped by the shell runner.
    ``terminate`` means the whole process was asked to exit.
    """

    def __init__(self, reason: str, *, terminate: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.terminate = terminate


def run_entry(root: str, entry_id: str) -> None:
    """Run queue entry ``entry_id`` of the project at ``root`` unless someone else does.

    Does nothing when the entry is gone, finished, or being run by a live process.
    A failing experiment is recorded as ``Failed`` (with its log kept), not raised.
    """
    try_run_entry(root, entry_id)


def try_run_entry(
    root: str, entry_id: str, *, worker: str | None = None, on_event: EventSink = ignore_events
) -> bool:
    """:func:`run_entry`, returning True when this call ran the entry.

    Raises :class:`KilledError` (after recording the entry ``Failed``) when SIGTERM
    asked this process to exit.
    """
    store = QueueStore(root)
    lock = store.entry_lock(entry_id)
    if not lock.try_acquire():
        return False
    try:
        entry = _claim(store, entry_id, worker)
        if entry is None:
            return False
        _execute(store, entry, on_event)
        return True
    finally:
        lock.release()


def reap(root: str) -> list[str]:
    """Mark ``Failed`` every ``Running`` entry whose process died; clean up after them.

    Returns their ids. Also removes queue worktrees no running entry owns.
    """
    store = QueueStore(root)
    if not store.dir.is_dir():
        return []
    reaped = []
    entries = store.entries()
    for entry in entries:
        if entry.state != RUNNING:
            continue
        lock = store.entry_lock(entry.id)
        if not lock.try_acquire():
            continue  # its run is alive
        try:
            if _claim(store, entry.id, None, only_dead=True) is not None:
                reaped.append(entry.id)
        finally:
            lock.release()
    exps = store.repo.tmp_dir / "exps"
    if exps.is_dir():
        owners = {store.worktree_path(entry.id).name: entry.id for entry in entries}
        for folder in exps.glob("q-*"):
            _remove_unowned_worktree(store, folder, owners.get(folder.name))
    return reaped


def _remove_unowned_worktree(store: QueueStore, folder: Path, entry_id: str | None) -> None:
    """Remove ``folder`` unless its entry's run holds the entry's lock.

    The lock is taken (not just looked at) and kept while removing: an entry claimed
    by a worker after the entries were listed holds it from before its worktree exists
    until its run ends, so a worktree in use is never removed, nor its stage killed.
    """
    if entry_id is None:
        _remove_worktree(store, folder)  # its entry is gone: nobody can claim it
        return
    lock = store.entry_lock(entry_id)
    if not lock.try_acquire():
        return
    try:
        _remove_worktree(store, folder)
    finally:
        lock.release()


# --- claiming -------------------------------------------------------------------------------


def _claim(
    store: QueueStore, entry_id: str, worker: str | None, *, only_dead: bool = False
) -> QueueEntry | None:
    """With the entry's run lock held: mark it ``Running`` by us and return it.

    A ``Running`` entry found here lost its owner (we hold its lock): it is marked
    ``Failed`` and cleaned up, and None returned, as for any entry not ``Queued``.
    """
    dead: QueueEntry | None = None
    with store.locked():
        entry = store.read(entry_id)
        if entry is None:
            return None
        if entry.state == RUNNING:
            entry.state, entry.finished = FAILED, now()
            owner = entry.owner or {}
            entry.error = f"{DIED} (pid {owner.get('pid')} on {owner.get('host')})"
            store.write(entry)
            dead = entry
        elif entry.state == QUEUED and not only_dead:
            entry.state = RUNNING
            entry.owner = identity(worker)
            entry.worktree = str(store.worktree_path(entry.id))
            entry.started, entry.finished = now(), None
            entry.attempts += 1
            entry.error = None
            store.write(entry)
            return entry
        else:
            return None
    _append_log(store, dead.id, f"\nERROR: {dead.error}\n")
    if dead.worktree:
        _remove_worktree(store, Path(dead.worktree))
    return dead if only_dead else None


def _remove_worktree(store: QueueStore, folder: Path) -> None:
    kill_processes_in(folder)  # a dead worker's stage command may still be running there
    with worktree_lock(store.repo):
        Git.find(store.repo.root).remove_worktree(folder)


# --- running --------------------------------------------------------------------------------


def _execute(store: QueueStore, entry: QueueEntry, on_event: EventSink) -> None:
    root = store.repo.root
    repo, git = Repo(root), Git.find(root)
    folder = store.worktree_path(entry.id)
    if folder.exists():  # left by an earlier attempt
        _remove_worktree(store, folder)
    options = options_from_entry(entry, experiment_env(entry.name, entry.baseline, root))
    job = ExpJob(
        baseline=entry.baseline,
        name=entry.name,
        explicit=entry.explicit,
        force=options.force,
        message=entry.message,
        overrides=(),  # already applied to the entry's commit
        options=options,
        copy_paths=tuple(entry.copy_paths),
        checkpoints=CheckpointPlan(**entry.checkpoint) if entry.checkpoint else None,
    )
    kill_path = store.kill_path(entry.id)
    kill_path.unlink(missing_ok=True)
    try:
        with _stoppable(kill_path):
            result = run_snapshot(
                repo,
                git,
                job,
                entry.id,
                on_event,
                copies=entry.copy_paths,
                copy_from=Path(entry.copy_from) if entry.copy_from else None,
                folder=folder,
                log_path=store.log_path(entry.id),
                keep_log=True,
            )
    except KilledError as killed:
        _failed(store, entry.id, killed.reason)
        if killed.terminate:
            raise
        return
    except JupyterExpError as error:
        _failed(store, entry.id, str(error))
        return
    except Exception as error:  # a bug must not leave the entry Running
        _append_log(store, entry.id, traceback.format_exc())
        _failed(store, entry.id, f"{type(error).__name__}: {error}")
        return
    except BaseException:
        _failed(store, entry.id, "interrupted")
        raise
    finally:
        kill_path.unlink(missing_ok=True)

    def landed(current: QueueEntry) -> None:
        current.state, current.finished = SUCCESS, now()
        current.exp_ref, current.exp_sha = result.ref, result.sha
        current.exp_name, current.identical_to = result.name, result.identical_to

    store.update(entry.id, landed)
    # The experiment ref (or the one it equals) keeps the commit's content now.
    with contextlib.suppress(JupyterExpError):
        git.delete_ref(QUEUE_REF_PREFIX + entry.id)


def _failed(store: QueueStore, entry_id: str, error: str) -> None:
    def change(current: QueueEntry) -> None:
        current.state, current.finished, current.error = FAILED, now(), error

    _append_log(store, entry_id, f"\nERROR: {error}\n")
    store.update(entry_id, change)


def _append_log(store: QueueStore, entry_id: str, text: str) -> None:
    with contextlib.suppress(OSError), open(store.log_path(entry_id), "a", encoding="utf-8") as log:
        log.write(text)


# --- being stopped --------------------------------------------------------------------------


def _raise_killed(signum: int, frame: FrameType | None) -> None:
    raise KilledError("killed by `queue kill`")


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise KilledError("its worker was terminated (SIGTERM)", terminate=True)


@contextmanager
def _stoppable(kill_path: Path) -> Iterator[None]:
    """Turn a kill request (the marker file, SIGUSR1) or SIGTERM into :class:`KilledError`.

    Only in the main thread, where Python delivers signals; elsewhere runs go to the end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signal.SIGUSR1: signal.signal(signal.SIGUSR1, _raise_killed),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_terminated),
    }
    done = threading.Event()
    main = threading.main_thread().ident

    def watch() -> None:  # the marker may come from another host (shared filesystem)
        while not done.wait(_KILL_POLL):
            if kill_path.exists():
                assert main is not None
                signal.pthread_kill(main, signal.SIGUSR1)
                return

    watcher = threading.Thread(target=watch, name="jupyter-exp-kill-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jupyter_exp.experiments.queue.entry ROOT ENTRY_ID [WORKER_ID]``.

    Runs one entry in this process (how a Dask task runs it: a process of its own, so
    kill requests and SIGTERM reach it and a crash leaves the Dask worker standing).
    Exit status 0 when the entry was run or needed no run, 143 when terminated.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    skip_unused_imports()
    if len(args) not in (2, 3):
        # Internal entry point: a wrong call is a bug, reported on stderr.
        raise SystemExit(
            "usage: python -m jupyter_exp.experiments.queue.entry ROOT ENTRY_ID [WORKER]"
        )
    try:
        try_run_entry(args[0], args[1], worker=args[2] if len(args) == 3 else None)
    except KilledError:
        return 128 + signal.SIGTERM
    return 0


if __name__ == "__main__":
    sys.exit(main())
