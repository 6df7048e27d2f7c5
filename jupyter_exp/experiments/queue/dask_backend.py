"""The queue on a Dask cluster (``dask.distributed``): ``queue start --scheduler | --cluster``.

Dask is the engine; we add nothing to it but tasks. ``queue start --scheduler
tcp://HOST:PORT`` (a cluster started by ``dask-jobqueue`` on SLURM/PBS, by dask-gateway
or on Kubernetes) or ``--cluster local`` (a ``LocalCluster`` of ``-j`` worker processes)
spawns a detached *driver* process, recorded like a local worker, and returns at once.
The driver connects a ``Client``, submits one task per ``Queued`` entry (submitting new
ones as they are queued) and exits when none is left, or when ``queue stop`` asks.

A task runs :func:`.entry.run_entry` in a fresh Python process on the Dask worker, so
the Dask workers must see the project at the same path (a shared filesystem, as on an
HPC cluster or a Kubernetes volume) and have jupyter-exp installed. Everything else is
the queue's usual machinery: the entry's run lock makes a task that Dask resubmits
after a worker died a no-op (or writes the dead run down as ``Failed``), the kill
marker reaches the run on any host, and logs land in the shared ``logs/`` folder.

The ``dask`` extra: ``pip install 'jupyter-exp[dask]'``; ``distributed`` is imported only
by the driver and the tasks.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ...errors import InvalidArgumentError
from .store import QUEUED, QueueStore
from .workers import WorkerInfo, forget_worker, prepare_start, spawn_worker

__all__ = ["require_distributed", "run_entry_task", "start_dask"]

_POLL = 0.2
_CONNECT_TIMEOUT = 5.0
INSTALL_HINT = "pip install 'jupyter-exp[dask]'"


def require_distributed(argument: str = "--scheduler") -> None:
    """Raise :class:`InvalidArgumentError` when ``dask.distributed`` is not installed."""
    if importlib.util.find_spec("distributed") is None:
        raise InvalidArgumentError(
            f"the Dask backend needs dask.distributed, which is not installed: {INSTALL_HINT}",
            argument=argument,
        )


def start_dask(
    root: str,
    jobs: int = 1,
    *,
    scheduler: str | None = None,
    cluster: str | None = None,
    retry_failed: bool = False,
) -> WorkerInfo:
    """Start a detached Dask driver on the queue and return at once.

    ``scheduler`` is a Dask scheduler address; ``cluster="local"`` starts a
    ``LocalCluster`` of ``jobs`` single-threaded worker processes on 127.0.0.1 instead.
    Raises :class:`InvalidArgumentError` for both or neither, an unknown cluster kind, a
    scheduler that does not answer, or a missing ``distributed``.
    """
    if bool(scheduler) == bool(cluster):
        raise InvalidArgumentError("give either a Dask scheduler address or --cluster local")
    if cluster is not None and cluster != "local":
        raise InvalidArgumentError(
            f"unknown Dask cluster '{cluster}': use 'local'", argument=cluster
        )
    if jobs < 1:
        raise InvalidArgumentError("--jobs must be at least 1", argument="--jobs")
    require_distributed("--scheduler" if scheduler else "--cluster")
    if scheduler:
        _check_reachable(scheduler)
    root = os.fspath(os.path.realpath(root))
    prepare_start(root, retry_failed=retry_failed)
    argv = [root, scheduler or "local", str(jobs)]
    return spawn_worker(root, "dask", argv, module=__name__)


def _check_reachable(address: str) -> None:
    """Fail now, not in the detached driver, when a tcp:// scheduler does not answer."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp" or not parts.hostname or not parts.port:
        return  # tls://, ucx://... : left to Dask
    try:
        with socket.create_connection((parts.hostname, parts.port), _CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise InvalidArgumentError(
            f"no Dask scheduler answers at {address}: {exc.strerror or exc}", argument=address
        ) from None


# --- on the Dask workers --------------------------------------------------------------------


def run_entry_task(root: str, entry_id: str, worker: str) -> int:
    """The Dask task: run the entry in its own Python process; return that exit status."""
    if QueueStore(root).stop_requested():
        return 0
    module = "jupyter_exp.experiments.queue.entry"
    done = subprocess.run(
        [sys.executable, "-m", module, root, entry_id, worker],
        cwd=root,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return done.returncode


# --- the driver -----------------------------------------------------------------------------


def drive(root: str, address: str, jobs: int, worker_id: str) -> int:
    """Submit every queued entry to Dask until none is left; return how many were sent."""
    from distributed import Client, LocalCluster

    store = QueueStore(root)
    with contextlib.ExitStack() as stack:
        if address == "local":
            cluster: Any = stack.enter_context(
                LocalCluster(
                    n_workers=jobs,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(address))
        return _submit_all(client, store, root, worker_id)


def _submit_all(client: Any, store: QueueStore, root: str, worker_id: str) -> int:
    pending: dict[str, Any] = {}
    sent = 0
    while True:
        stopping = store.stop_requested()
        if not stopping:
            for entry in store.entries():
                if entry.state == QUEUED and entry.id not in pending:
                    pending[entry.id] = client.submit(
                        run_entry_task,
                        root,
                        entry.id,
                        worker_id,
                        key=f"jupyter-exp-{entry.id[:12]}-{secrets.token_hex(4)}",
                        pure=False,
                    )
                    sent += 1
        # After a stop, tasks that start find the stop request and return at once;
        # running ones finish: the driver waits for them, then goes.
        for entry_id, future in list(pending.items()):
            if future.done():
                del pending[entry_id]
        if not pending and (stopping or not any(e.state == QUEUED for e in store.entries())):
            return sent
        time.sleep(_POLL)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jupyter_exp.experiments.queue.dask_backend ROOT ADDRESS JOBS WORKER_ID``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 4:
        # Internal entry point: a wrong call is a bug, reported on stderr.
        raise SystemExit(
            "usage: python -m jupyter_exp.experiments.queue.dask_backend ROOT ADDRESS JOBS ID"
        )
    root, address, jobs, worker_id = args
    store = QueueStore(root)
    try:
        drive(root, address, int(jobs), worker_id)
    finally:
        forget_worker(store, worker_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
