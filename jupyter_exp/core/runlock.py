"""One run per stage signature among processes that share a cache.

Queued experiments run at the same time in separate worktrees sharing one DVC cache.
When several need the same stage with the same signature (command, dependency hashes,
params: the run-cache key), only one should run it; the others should take its outputs
from the run-cache. So before restoring from the run-cache or running, the reproducer
takes an exclusive lock named by the run-cache key and, once it holds it, looks in the
run-cache again: the process that ran the stage first has saved its record by then.

The lock files live where the cache is shared: ``.dvc/tmp/runlocks/`` of the project
that owns the default cache (a queue worktree's cache is its project's), or
``<cache>/.jupyter-exp/runlocks/`` for a ``cache.dir`` set elsewhere (outside ``runs/``,
whose every file DVC pushes as run-cache; DVC's object listings skip such paths). A
lock is a ``flock``, so a process that dies, even by SIGKILL, releases it and a waiting
one takes over and runs the stage itself. The holder deletes the file when it is done
(waiters check they locked the file still at that path), so none pile up.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .objects import HashInfo, LockEntry
from .params import stage_params_values
from .pipeline.model import Stage
from .repo import Repo
from .runcache import RunCache

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process exclusion
    fcntl = None  # type: ignore[assignment]

__all__ = ["lock_path", "run_once", "signature_key"]

LOCK_DIR = (".jupyter-exp", "runlocks")


def signature_key(repo: Repo, stage: Stage, deps: dict[str, HashInfo]) -> str | None:
    """The stage's run-cache key for these dependency hashes (None: not hashable)."""
    outs = {o.def_path: HashInfo(md5="") for o in stage.outs}  # the key uses the paths only
    entry = LockEntry(
        cmd=stage.cmd or "", deps=deps, params=stage_params_values(repo, stage), outs=outs
    )
    try:
        return RunCache.key(entry)
    except (TypeError, ValueError):  # a params value JSON cannot encode
        return None


def lock_path(repo: Repo, key: str) -> Path:
    """The lock file of run-cache key ``key``."""
    cache = repo.cache_dir
    if cache.name == "cache" and cache.parent.name == ".dvc":
        return cache.parent / "tmp" / "runlocks" / f"{key}.lock"
    return cache.joinpath(*LOCK_DIR, f"{key}.lock")


@contextmanager
def run_once(repo: Repo, stage: Stage, deps: dict[str, HashInfo] | None) -> Iterator[None]:
    """Hold the lock of ``stage``'s signature, waiting while another process holds it.

    ``deps`` None (the stage cannot use the run-cache, or a dependency is missing)
    takes no lock. The caller checks the run-cache again inside.
    """
    key = signature_key(repo, stage, deps) if deps is not None and fcntl is not None else None
    if key is None:
        yield
        return
    path = lock_path(repo, key)
    fd = _lock(path)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # before unlocking: a waiter then sees it locked a stale file
        os.close(fd)  # releases the flock


def _lock(path: Path) -> int:
    """An fd holding the flock of the file now at ``path`` (waits for its holder)."""
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the folder went between mkdir and open
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits as long as the other run takes
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current is not None and (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev):
            return fd
        os.close(fd)  # the holder removed it when done: lock the file there now
