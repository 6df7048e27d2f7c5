"""The experiment queue (``queue start/status/logs/stop/kill/remove``).

A part of :class:`jupyter_exp.Project`, which combines it with the other classes of this
package. The methods are thin: they turn arguments into the experiments layer's calls
and return its results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.repo import Repo
from ..events import EventSink

if TYPE_CHECKING:  # experiment results: their modules are imported when called
    from ..git import Git

if TYPE_CHECKING:  # the experiment queue
    from collections.abc import Iterator

    from ..experiments.queue.control import QueueStatus
    from ..experiments.queue.store import QueueEntry
    from ..experiments.queue.workers import WorkerInfo


class QueueControl:
    """The experiment queue (``queue start/status/logs/stop/kill/remove``)."""

    # Provided by Project.
    repo: Repo
    on_event: EventSink
    root: Path
    _git: Callable[[], Git]

    def queue_start(
        self,
        jobs: int = 1,
        *,
        scheduler: str | None = None,
        cluster: str | None = None,
        retry_failed: bool = False,
    ) -> list[WorkerInfo]:
        """Start ``jobs`` background workers on the queue and return at once.

        ``scheduler`` (``tcp://HOST:PORT``) or ``cluster="local"`` run the queue on Dask
        workers instead (the ``dask`` extra). ``retry_failed`` requeues failed entries.
        """
        if scheduler or cluster:
            from ..experiments.queue.dask_backend import start_dask

            return [
                start_dask(
                    str(self.root),
                    jobs,
                    scheduler=scheduler,
                    cluster=cluster,
                    retry_failed=retry_failed,
                )
            ]
        from ..experiments.queue.workers import start_workers

        return start_workers(self.root, jobs, retry_failed=retry_failed)

    def queue_status(self) -> QueueStatus:
        """Every queue entry with its state, and the live workers."""
        from ..experiments.queue.control import queue_status

        return queue_status(str(self.root))

    def queue_logs(self, name: str, *, follow: bool = False) -> str | Iterator[str]:
        """The log of a queued experiment; with ``follow``, its text as it grows."""
        from ..experiments.queue.control import follow_log, read_log

        return follow_log(str(self.root), name) if follow else read_log(str(self.root), name)

    def queue_wait(
        self, names: Sequence[str] | None = None, *, on_event: EventSink | None = None
    ) -> list[QueueEntry]:
        """Wait for queued experiments (default: all unfinished), reporting progress."""
        from ..experiments.queue.control import wait_for
        from ..experiments.queue.store import QueueStore

        store = QueueStore(self.root)
        ids = None if names is None else [store.find(n).id for n in names]
        return wait_for(str(self.root), ids, on_event or self.on_event)

    def queue_stop(self, *, kill: bool = False) -> list[QueueEntry]:
        """Let workers take no new entry; ``kill`` also stops the running experiments."""
        from ..experiments.queue.control import stop_queue

        return stop_queue(str(self.root), kill=kill)

    def queue_kill(self, names: Sequence[str]) -> list[QueueEntry]:
        """Stop running queued experiments; they end Failed with their logs kept."""
        from ..experiments.queue.control import kill_entries

        return kill_entries(str(self.root), names)

    def queue_remove(
        self,
        names: Sequence[str] = (),
        *,
        all: bool = False,
        queued: bool = False,
        success: bool = False,
        failed: bool = False,
    ) -> list[QueueEntry]:
        """Remove queue entries by name, or all of some states; running ones are refused."""
        from ..experiments.queue.control import remove_entries

        return remove_entries(
            str(self.root), names, all=all, queued=queued, success=success, failed=failed
        )
