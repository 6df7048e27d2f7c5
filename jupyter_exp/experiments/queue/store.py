"""The persistent experiment queue: one JSON file per entry, one Git ref per snapshot.

Everything lives in the main project's ``.dvc/tmp/jupyter-exp/queue/`` so it survives
kernel restarts and reboots, and every process on the same filesystem (local workers,
Dask workers on a shared volume) sees the same queue::

    entries/<id>.json   one entry: name, baseline, options, state, owner, result
    logs/<id>.log       the stages' output of its last run (kept after the run)
    locks/<id>.lock     flock held by the process running the entry, for the whole run
    kill/<id>           asks the process running the entry to stop it
    copies/<batch>/     ``-C`` paths copied in when the entry was queued
    workers/<w>.json    a worker process (+ ``<w>.lock`` held while it lives)
    store.lock          flock around every read-modify-write of an entry
    stop                asks workers to take no new entry

An entry's ``id`` is the sha of its snapshot commit (the workspace when it was queued,
with its ``-S`` overrides applied), kept reachable by ``refs/jupyter-exp/queue/<id>``
until the experiment lands. That namespace is outside ``refs/exps/`` on purpose: DVC
reads every 5-part ref under ``refs/exps/`` as an experiment (``dvc exp list -A``
would list queue entries as experiments of a baseline named ``jupyter-expqueue``).

Liveness is lock ownership, not pids: a ``Running`` entry whose run lock nobody holds
belongs to a dead process (the kernel drops a flock when its holder dies, even by
SIGKILL, on this host or, through the NFS lock manager, another one).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from ...core.flock import hold_flock
from ...core.fsutil import atomic_write_text
from ...core.repo import Repo
from ...errors import ExperimentNotFoundError, InvalidArgumentError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no queue liveness checks
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FAILED",
    "QUEUED",
    "QUEUE_REF_PREFIX",
    "RUNNING",
    "SUCCESS",
    "EntryLock",
    "QueueEntry",
    "QueueRow",
    "QueueStore",
    "exp_show_entries",
    "queue_rows",
]

QUEUED, RUNNING, SUCCESS, FAILED = "Queued", "Running", "Success", "Failed"
STATES = (QUEUED, RUNNING, SUCCESS, FAILED)
QUEUE_DIR = ("jupyter-exp", "queue")
QUEUE_REF_PREFIX = "refs/jupyter-exp/queue/"
_STORE_LOCK_TIMEOUT = 60.0


@dataclass
class QueueEntry:
    """One queued experiment and what became of it.

    ``id`` is the snapshot commit's sha; ``options`` are the :class:`ReproOptions`
    fields that apply (targets, force, ...). ``owner`` (pid, start time, host, worker)
    and ``worktree`` are set while it runs; ``exp_ref``/``exp_sha``/``exp_name`` when it
    landed (``identical_to`` when its result equalled an existing experiment), ``error``
    when it failed. ``checkpoint`` is the checkpoint a ``--rev`` entry resumes (the
    fields of :class:`~jupyter_exp.experiments.checkpoints.CheckpointPlan`), None for an
    entry that starts over. Times are Unix seconds.
    """

    id: str
    name: str
    baseline: str
    created: float
    explicit: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    message: str | None = None
    copy_paths: list[str] = field(default_factory=list)
    copy_from: str | None = None
    checkpoint: dict[str, Any] | None = None
    state: str = QUEUED
    owner: dict[str, Any] | None = None
    worktree: str | None = None
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    exp_ref: str | None = None
    exp_sha: str | None = None
    exp_name: str | None = None
    identical_to: str | None = None
    error: str | None = None

    @property
    def short(self) -> str:
        """The 7-character task id DVC shows."""
        return self.id[:7]

    @property
    def done(self) -> bool:
        """True once it succeeded or failed."""
        return self.state in (SUCCESS, FAILED)

    def to_dict(self) -> dict[str, Any]:
        """As stored in ``entries/<id>.json``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueueEntry:
        """Back from :meth:`to_dict`; unknown keys (a newer version's) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class QueueRow:
    """What ``exp show`` needs of a queue entry (see :func:`queue_rows`)."""

    id: str
    name: str
    state: str
    baseline: str
    created: datetime
    overrides: tuple[str, ...]
    commit: str | None
    error: str | None = None


class EntryLock:
    """The flock a process holds on ``locks/<id>.lock`` while it runs that entry."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Drop the lock (closing the file releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None


class QueueStore:
    """The queue of the project at ``root`` (the main project, not a worktree)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.repo = Repo(root)
        self.dir = self.repo.tmp_dir.joinpath(*QUEUE_DIR)

    # --- layout --------------------------------------------------------------------------

    def _sub(self, name: str) -> Path:
        path = self.dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def entry_path(self, entry_id: str) -> Path:
        """``entries/<id>.json``."""
        return self._sub("entries") / f"{entry_id}.json"

    def log_path(self, entry_id: str) -> Path:
        """``logs/<id>.log``: the stages' output of the entry's last run."""
        return self._sub("logs") / f"{entry_id}.log"

    def entry_lock(self, entry_id: str) -> EntryLock:
        """The run lock of an entry (not taken yet)."""
        return EntryLock(self._sub("locks") / f"{entry_id}.lock")

    def kill_path(self, entry_id: str) -> Path:
        """``kill/<id>``: present when someone asked to kill the entry's run."""
        return self._sub("kill") / entry_id

    @property
    def copies_dir(self) -> Path:
        """``copies/``: ``-C`` paths saved when entries were queued."""
        return self._sub("copies")

    @property
    def workers_dir(self) -> Path:
        """``workers/``: one JSON + lock file per worker process."""
        return self._sub("workers")

    @property
    def stop_path(self) -> Path:
        """``stop``: present when workers must take no new entry."""
        return self.dir / "stop"

    def worktree_path(self, entry_id: str) -> Path:
        """The entry's temporary worktree, ``.dvc/tmp/exps/q-<id[:12]>``."""
        return self.repo.tmp_dir / "exps" / f"q-{entry_id[:12]}"

    # --- reading -------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store lock (every state change happens under it)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with hold_flock(self.dir / "store.lock", _STORE_LOCK_TIMEOUT):
            yield

    def read(self, entry_id: str) -> QueueEntry | None:
        """The entry, or None when there is none (removed, or never queued)."""
        try:
            text = self.entry_path(entry_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return QueueEntry.from_dict(json.loads(text))

    def entries(self) -> list[QueueEntry]:
        """Every entry, oldest first."""
        found = []
        folder = self._sub("entries")
        for name in os.listdir(folder):
            if not name.endswith(".json"):
                continue
            entry = self.read(name[: -len(".json")])
            if entry is not None:
                found.append(entry)
        found.sort(key=lambda e: (e.created, e.id))
        return found

    def find(self, spec: str) -> QueueEntry:
        """The entry named ``spec`` (its name, its id or an id prefix of 4+ characters).

        The newest entry wins when several have that name. Raises
        :class:`ExperimentNotFoundError`, or :class:`InvalidArgumentError` for an
        ambiguous id prefix.
        """
        entries = self.entries()
        by_name = [e for e in entries if spec in (e.name, e.exp_name)]
        if by_name:
            return by_name[-1]
        by_id = [e for e in entries if len(spec) >= 4 and e.id.startswith(spec.lower())]
        if len(by_id) > 1:
            raise InvalidArgumentError(f"'{spec}' names several queue entries", argument=spec)
        if not by_id:
            raise ExperimentNotFoundError(spec)
        return by_id[0]

    # --- writing -------------------------------------------------------------------------

    def write(self, entry: QueueEntry) -> None:
        """Write the entry atomically (callers hold :meth:`locked` for a change)."""
        text = json.dumps(entry.to_dict(), indent=1, sort_keys=True)
        atomic_write_text(self.entry_path(entry.id), text + "\n")

    def update(
        self, entry_id: str, change: Callable[[QueueEntry], bool | None]
    ) -> QueueEntry | None:
        """Read, ``change`` and write one entry under the store lock.

        ``change`` returns False to leave the entry as it was. Returns the entry as it
        is afterwards, None when it does not exist.
        """
        with self.locked():
            entry = self.read(entry_id)
            if entry is None:
                return None
            if change(entry) is not False:
                self.write(entry)
            return entry

    def delete(self, entry_id: str) -> None:
        """Forget an entry: its JSON, log, lock and kill marker."""
        for path in (
            self.entry_path(entry_id),
            self.log_path(entry_id),
            self._sub("locks") / f"{entry_id}.lock",
            self.kill_path(entry_id),
        ):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # --- liveness ------------------------------------------------------------------------

    def effective_state(self, entry: QueueEntry) -> str:
        """The entry's state, with a ``Running`` one whose owner died read as ``Failed``.

        Read-only: :func:`.entry.reap` is what writes that down and cleans up.
        """
        if entry.state != RUNNING or fcntl is None:
            return entry.state
        lock = self.entry_lock(entry.id)
        if not lock.try_acquire():
            return RUNNING
        try:  # free lock: re-read, the owner may have finished just now
            again = self.read(entry.id)
            return FAILED if again is None or again.state == RUNNING else again.state
        finally:
            lock.release()

    def stop_requested(self) -> bool:
        """True when ``queue stop`` asked workers to take no new entry."""
        return self.stop_path.exists()


def this_host() -> str:
    """The name owners are recorded with."""
    return socket.gethostname()


def now() -> float:
    """Unix time, for entries."""
    return time.time()


# --- exp show ------------------------------------------------------------------------------


def queue_rows(repo: Repo | str | os.PathLike[str]) -> list[QueueRow]:
    """Queue entries ``exp show`` lists besides experiment refs, oldest first.

    Queued, Running and Failed entries (a landed entry is its experiment ref; Success
    entries that recorded nothing are left out too). A Running entry whose worker died
    is reported Failed. ``commit`` is the snapshot whose params the entry runs with.
    """
    root = repo.root if isinstance(repo, Repo) else Path(repo)
    store = QueueStore(root)
    if not store.dir.is_dir():
        return []
    rows = []
    for entry in store.entries():
        state = store.effective_state(entry)
        if state == SUCCESS:
            continue
        rows.append(
            QueueRow(
                id=entry.id,
                name=entry.name,
                state=state,
                baseline=entry.baseline,
                created=datetime.fromtimestamp(entry.created),
                overrides=tuple(entry.overrides),
                commit=entry.id,
                error=entry.error if state == FAILED else None,
            )
        )
    return rows


def exp_show_entries(repo: Repo, git: Any, baselines: Sequence[str]) -> list[Any]:
    """Queue entries of ``baselines`` as ``exp show`` records (``ExternalExperiment``).

    The signature of ``collect.register_entry_source``: pass this function to it. Each
    record carries DVC's executor info (``dvc-task``; the worktree, log and pid while
    running) so ``exp show --json`` matches what DVC's celery queue reports.
    """
    from ..expstate import ExternalExperiment

    store = QueueStore(repo.root)
    wanted = set(baselines)
    found = []
    for row in queue_rows(repo):
        if row.baseline not in wanted:
            continue
        entry = store.read(row.id)
        local: dict[str, Any] = {
            "root": None,
            "log": None,
            "pid": None,
            "returncode": None,
            "task_id": row.id,
        }
        if row.state == RUNNING and entry is not None:
            local["root"] = entry.worktree
            local["log"] = str(store.log_path(row.id))
            local["pid"] = (entry.owner or {}).get("pid")
        elif row.state == FAILED:
            local["log"] = str(store.log_path(row.id))
        executor = {
            "state": row.state.lower(),
            "name": None if row.state == FAILED else "dvc-task",
            "local": local,
        }
        found.append(
            ExternalExperiment(
                baseline=row.baseline,
                rev=row.id,
                state=row.state,
                name=row.name,
                executor=executor["name"],
                timestamp=row.created,
                commit=row.commit,
                executor_info=executor,
            )
        )
    return found
