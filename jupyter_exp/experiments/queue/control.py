"""Looking at and steering the queue: status, logs, waiting, stop, kill, remove.

Waiting and following report typed events (:class:`QueueEntryChanged` when an entry
changes state, :class:`QueueLogOutput` for new log text), so the CLI streams them to a
terminal and a notebook can render them its own way.
"""

from __future__ import annotations

import codecs
import contextlib
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from ...errors import InvalidArgumentError
from ...events import Event, EventSink
from ...git import Git
from .entry import reap
from .procs import signal_owner
from .store import FAILED, QUEUE_REF_PREFIX, QUEUED, RUNNING, SUCCESS, QueueEntry, QueueStore
from .workers import WorkerInfo, live_workers, start_workers

__all__ = [
    "QueueEntryChanged",
    "QueueLogOutput",
    "QueueStatus",
    "follow_log",
    "kill_entries",
    "queue_status",
    "read_log",
    "remove_entries",
    "run_all",
    "stop_queue",
    "wait_for",
]

_REAP_EVERY = 1.0


@dataclass(frozen=True)
class QueueEntryChanged(Event):
    """A queue entry reached ``state`` (``Running``, ``Success``, ``Failed``...)."""

    kind: ClassVar[str] = "queue-entry-changed"
    id: str
    name: str
    state: str
    exp_name: str | None = None
    identical_to: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class QueueLogOutput(Event):
    """New text in a queue entry's log (its stages' output)."""

    kind: ClassVar[str] = "queue-log-output"
    id: str
    name: str
    text: str


@dataclass
class QueueStatus:
    """Every entry (oldest first) and the live workers."""

    entries: list[QueueEntry] = field(default_factory=list)
    workers: list[WorkerInfo] = field(default_factory=list)

    @property
    def active(self) -> int:
        """Workers running an entry now."""
        return sum(1 for w in self.workers if w.running)

    @property
    def idle(self) -> int:
        """Workers alive but between entries."""
        return len(self.workers) - self.active


def queue_status(root: str) -> QueueStatus:
    """The queue as it is, after writing down runs whose process died."""
    store = QueueStore(root)
    if not store.dir.is_dir():
        return QueueStatus()
    reap(root)
    return QueueStatus(store.entries(), live_workers(root))


# --- logs and waiting ----------------------------------------------------------------------


def read_log(root: str, name: str) -> str:
    """The log of the entry ``name`` names (its last run; empty before it ran)."""
    store = QueueStore(root)
    entry = store.find(name)
    try:
        return store.log_path(entry.id).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def follow_log(root: str, name: str, *, poll: float = 0.1) -> Iterator[str]:
    """The entry's log as it grows, until the entry has finished (``queue logs -f``)."""
    entry = QueueStore(root).find(name)
    for event in _watch(root, [entry.id], poll=poll):
        if isinstance(event, QueueLogOutput):
            yield event.text


def wait_for(
    root: str, ids: Sequence[str] | None, on_event: EventSink, *, poll: float = 0.1
) -> list[QueueEntry]:
    """Wait until the entries (default: every unfinished one) are done; report progress.

    Returns early, with some entries still ``Queued``, when no worker is left to run
    them (``queue stop``, or every worker killed).
    """
    store = QueueStore(root)
    if ids is None:
        ids = [e.id for e in store.entries() if not e.done]
    for event in _watch(root, list(ids), poll=poll):
        on_event(event)
    return [e for e in (store.read(i) for i in ids) if e is not None]


def _watch(root: str, ids: list[str], *, poll: float) -> Iterator[Event]:
    store = QueueStore(root)
    offsets = dict.fromkeys(ids, 0)
    decoders = {i: codecs.getincrementaldecoder("utf-8")(errors="replace") for i in ids}
    states: dict[str, str] = {}
    last_reap = time.monotonic()
    while True:
        pending = []
        for entry_id in ids:
            entry = store.read(entry_id)
            if entry is None:
                continue
            change = None
            if states.get(entry_id) != entry.state:
                states[entry_id] = entry.state
                change = QueueEntryChanged(
                    id=entry.id,
                    name=entry.name,
                    state=entry.state,
                    exp_name=entry.exp_name,
                    identical_to=entry.identical_to,
                    error=entry.error,
                )
            if change is not None and not entry.done:  # started: before its output
                yield change
            yield from _new_log(store, entry, offsets, decoders)
            if change is not None and entry.done:  # finished: after its last output
                yield change
            if not entry.done:
                pending.append(entry)
        if not pending:
            return
        if time.monotonic() - last_reap >= _REAP_EVERY:
            last_reap = time.monotonic()
            reap(root)
            if not live_workers(root) and all(e.state == QUEUED for e in pending):
                return  # nobody left to run them
        time.sleep(poll)


def _new_log(
    store: QueueStore, entry: QueueEntry, offsets: dict[str, int], decoders: dict
) -> Iterator[Event]:
    path = store.log_path(entry.id)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size < offsets[entry.id]:  # a new attempt started the log again
        offsets[entry.id] = 0
    if size == offsets[entry.id]:
        return
    with open(path, "rb") as log:
        log.seek(offsets[entry.id])
        data = log.read(size - offsets[entry.id])
    offsets[entry.id] += len(data)
    text = decoders[entry.id].decode(data)
    if text:
        yield QueueLogOutput(id=entry.id, name=entry.name, text=text)


# --- stop, kill, remove ----------------------------------------------------------------------


def stop_queue(root: str, *, kill: bool = False) -> list[QueueEntry]:
    """Ask workers to take no new entry; with ``kill`` also stop the running ones.

    Returns the entries asked to stop. Workers finish (or abandon) their current entry
    and exit; queued entries stay queued for the next ``queue start``.
    """
    store = QueueStore(root)
    store.dir.mkdir(parents=True, exist_ok=True)
    store.stop_path.touch()
    if not kill:
        return []
    return [_kill(store, e) for e in store.entries() if e.state == RUNNING]


def kill_entries(root: str, names: Sequence[str]) -> list[QueueEntry]:
    """Stop the running entries ``names`` name; they end ``Failed`` with their logs.

    Raises :class:`InvalidArgumentError` for an entry that is not running.
    """
    store = QueueStore(root)
    entries = [store.find(n) for n in names]
    for entry, name in zip(entries, names, strict=True):
        if store.effective_state(entry) != RUNNING:
            raise InvalidArgumentError(
                f"experiment '{name}' is not running ({entry.state})", argument=name
            )
    return [_kill(store, e) for e in entries]


def _kill(store: QueueStore, entry: QueueEntry) -> QueueEntry:
    # The marker reaches a runner on any host sharing the filesystem (it polls for it);
    # the signal makes a runner on this host stop at once.
    store.kill_path(entry.id).touch()
    signal_owner(entry.owner)
    return entry


def remove_entries(
    root: str,
    names: Sequence[str] = (),
    *,
    all: bool = False,
    queued: bool = False,
    success: bool = False,
    failed: bool = False,
) -> list[QueueEntry]:
    """Remove entries from the queue (their snapshot ref, log and record); return them.

    ``names`` picks entries by name or id; the flags pick by state (``all``: every
    entry that is not running). Running entries are refused: kill them first.
    """
    if not (names or all or queued or success or failed):
        raise InvalidArgumentError(
            "name the experiments to remove, or use --all, --queued, --success or --failed"
        )
    store = QueueStore(root)
    if not store.dir.is_dir():
        if names:
            store.find(names[0])  # raises not found
        return []
    reap(root)
    chosen: dict[str, QueueEntry] = {}
    for name in names:
        entry = store.find(name)
        if entry.state == RUNNING:
            raise InvalidArgumentError(
                f"experiment '{name}' is running: use `queue kill` first", argument=name
            )
        chosen[entry.id] = entry
    states = {QUEUED, SUCCESS, FAILED} if all else set()
    picked = ((QUEUED, queued), (SUCCESS, success), (FAILED, failed))
    states |= {state for state, wanted in picked if wanted}
    for entry in store.entries():
        if entry.state in states:
            chosen[entry.id] = entry
    git = Git.find(root)
    removed = []
    for entry in chosen.values():
        lock = store.entry_lock(entry.id)
        if not lock.try_acquire():
            continue  # a worker claimed it meanwhile
        try:
            with store.locked():
                current = store.read(entry.id)
                if current is None or current.state == RUNNING:
                    continue
                store.delete(entry.id)
            with contextlib.suppress(Exception):
                git.delete_ref(QUEUE_REF_PREFIX + entry.id)
            removed.append(current)
        finally:
            lock.release()
    _drop_unused_copies(store)
    return removed


def _drop_unused_copies(store: QueueStore) -> None:
    used = {e.copy_from for e in store.entries() if e.copy_from}
    for folder in store.copies_dir.iterdir():
        if str(folder) not in used:
            shutil.rmtree(folder, ignore_errors=True)


# --- exp run --run-all -------------------------------------------------------------------------


def run_all(
    root: str,
    jobs: int,
    on_event: EventSink,
    *,
    scheduler: str | None = None,
    cluster: str | None = None,
) -> list[QueueEntry]:
    """Start ``jobs`` workers (or a Dask driver), then wait for every unfinished entry.

    Failed entries are not retried here (``queue start --retry-failed`` does that).
    """
    store = QueueStore(root)
    ids = [e.id for e in store.entries() if not e.done] if store.dir.is_dir() else []
    if scheduler or cluster:
        from .dask_backend import start_dask

        start_dask(root, jobs, scheduler=scheduler, cluster=cluster)
    else:
        start_workers(root, jobs)
    return wait_for(root, ids, on_event)
