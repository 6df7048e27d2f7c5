"""Long operations (``exp run``) run in worker threads; clients poll them by job id.

The engine reports progress through an :data:`~jupyter_exp.events.EventSink`; a job
collects those events (as JSON data) so ``GET jobs/{id}?since=N`` can return the ones a
client has not seen. The server's event loop never waits on a job. A job submitted with
a :class:`~jupyter_exp.core.cancel.CancelToken` can be cancelled (``DELETE jobs/{id}``):
a pending one never starts, a running one is stopped by the engine through the token.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..core.cancel import CancelToken
from ..events import Event, EventSink
from .errors import error_payload
from .serialize import to_data

__all__ = ["Job", "JobManager"]

# Finished jobs kept for polling; the oldest finished ones are forgotten beyond this.
MAX_FINISHED = 200


@dataclass
class Job:
    """One long operation: ``status`` is ``pending``, ``running``, ``success``, ``failed``
    or ``cancelled``. ``cancel`` is the token the work watches (None: not cancellable)."""

    id: str
    kind: str
    project: str
    status: str = "pending"
    created: float = field(default_factory=time.time)
    finished: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    error: dict[str, Any] | None = None
    cancel: CancelToken | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        """True once the job has ended, whatever the outcome."""
        return self.status in ("success", "failed", "cancelled")

    def to_dict(self, since: int = 0) -> dict[str, Any]:
        """JSON-able; ``events`` holds those from index ``since`` on (``next`` = total)."""
        events = self.events[since:]
        return {
            "id": self.id,
            "kind": self.kind,
            "project": self.project,
            "status": self.status,
            "created": self.created,
            "finished": self.finished,
            "events": events,
            "next": since + len(events),
            "result": self.result,
            "error": self.error,
            "cancellable": self.cancel is not None and not self.done,
        }


class JobManager:
    """Runs jobs on a small thread pool and keeps them for polling."""

    def __init__(self, max_workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="jupyter-exp")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        # One job at a time per project: a second run waits (pending) instead of failing
        # on the repository lock.
        self._project_locks: dict[str, threading.Lock] = {}

    def submit(
        self,
        kind: str,
        project: str,
        work: Callable[[EventSink], Any],
        *,
        cancel: CancelToken | None = None,
    ) -> Job:
        """Start ``work(on_event)`` in a worker; its return value becomes the result.

        ``cancel`` is the token ``work`` hands to the engine; with it the job can be
        cancelled (:meth:`cancel`).
        """
        job = Job(id=uuid.uuid4().hex, kind=kind, project=project, cancel=cancel)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with that id, or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        """Every job kept, oldest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created)

    def snapshot(self, job: Job, since: int = 0) -> dict[str, Any]:
        """``job.to_dict(since)`` taken under the lock (the worker appends concurrently)."""
        with self._lock:
            return job.to_dict(since)

    def cancel(self, job: Job) -> bool:
        """Ask ``job`` to stop: a pending job ends ``cancelled`` at once, a running one
        when the engine has stopped its stage. False when it has ended already or
        cannot be cancelled."""
        with self._lock:
            if job.done or job.cancel is None:
                return False
            job.cancel.cancel()
            if job.status == "pending":
                job.status, job.finished = "cancelled", time.time()
        return True

    def shutdown(self) -> None:
        """Stop taking jobs (running ones finish in their threads)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, work: Callable[[EventSink], Any]) -> None:
        def on_event(event: Event) -> None:
            data = to_data(event)
            with self._lock:
                job.events.append({"type": type(event).__name__, **data})

        with self._lock:
            project_lock = self._project_locks.setdefault(job.project, threading.Lock())
        try:
            with project_lock:
                with self._lock:
                    if job.status == "cancelled":
                        return  # cancelled while it waited for the project
                    job.status = "running"
                result = to_data(work(on_event))
        except Exception as exc:  # reported to the client as the job's error
            _, body = error_payload(exc)
            cancelled = job.cancel is not None and job.cancel.cancelled
            with self._lock:
                job.status = "cancelled" if cancelled else "failed"
                job.error, job.finished = body, time.time()
            return
        with self._lock:
            job.status, job.result, job.finished = "success", result, time.time()

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if j.finished is not None]
        for job in sorted(done, key=lambda j: j.created)[: max(0, len(done) - MAX_FINISHED)]:
            del self._jobs[job.id]
