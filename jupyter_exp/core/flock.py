"""The repository lock: an exclusive ``flock`` on ``.dvc/tmp/lock``, as DVC takes it.

DVC locks that file with zc.lockfile, which is ``fcntl.flock(LOCK_EX | LOCK_NB)``; taking
the same kind of lock on the same file makes jupyter-exp and DVC exclude each other.
On POSIX we call ``fcntl`` directly: the filelock library takes the identical lock but
its import (logging, inspect, platform) costs ~10 ms on every command. Elsewhere
(Windows) the filelock library does the work.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import RepositoryLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_POLL = 0.05


@contextmanager
def hold_flock(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path``; wait up to ``timeout`` s (-1: forever)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield from _hold_filelock(path, timeout)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout < 0 else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise RepositoryLockedError(str(path), timeout) from None
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _hold_filelock(path: Path, timeout: float) -> Iterator[None]:  # pragma: no cover
    from filelock import FileLock, Timeout

    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise RepositoryLockedError(str(path), timeout) from None
    try:
        yield
    finally:
        lock.release()
