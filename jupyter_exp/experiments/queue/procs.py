"""Process facts the queue needs: who we are, whether an owner lives, what it left behind.

A pid alone is not an identity (pids are reused), so an owner is recorded as
``(host, pid, start time)``; the start time comes from ``/proc/<pid>/stat`` (clock ticks
since boot). Liveness of a running entry is decided by its lock (see :mod:`.store`);
these facts serve signalling the right process and cleaning up after a dead one. Off
Linux the start time is None and only the pid is compared.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from .store import this_host

__all__ = ["identity", "is_alive", "kill_processes_in", "signal_owner"]


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` from the state on (the name may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()


def start_time(pid: int) -> str | None:
    """The process's start time (ticks since boot) as text, None when unknown."""
    found = _stat_fields(pid)
    return found[19] if found and len(found) > 19 else None


def identity(worker: str | None = None) -> dict[str, Any]:
    """This process as an owner record: host, pid, parent pid, start time, worker id."""
    pid = os.getpid()
    return {
        "host": this_host(),
        "pid": pid,
        "ppid": os.getppid(),
        "start_time": start_time(pid),
        "worker": worker,
    }


def is_alive(owner: dict[str, Any] | None) -> bool:
    """True when the owner process runs on this host (same pid and start time, not a zombie).

    An owner on another host is assumed alive: only its lock can tell.
    """
    if not owner or not owner.get("pid"):
        return False
    if owner.get("host") != this_host():
        return True
    pid = int(owner["pid"])
    found = _stat_fields(pid)
    if found is None:
        if not Path("/proc").is_dir():  # no procfs: ask the kernel about the pid
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        return False
    if found[0] in ("Z", "X"):
        return False
    recorded = owner.get("start_time")
    return recorded is None or found[19] == recorded


def signal_owner(owner: dict[str, Any] | None, sig: int = signal.SIGUSR1) -> bool:
    """Send ``sig`` to the owner if it is alive on this host; True when sent."""
    if not owner or owner.get("host") != this_host() or not is_alive(owner):
        return False
    try:
        os.kill(int(owner["pid"]), sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_processes_in(folder: str | os.PathLike[str]) -> list[int]:
    """SIGKILL every process of this user whose working directory is inside ``folder``.

    A worker killed with SIGKILL leaves its stage command running (stages run in their
    own process group); before its worktree is removed, whatever still runs there goes.
    Linux only (reads ``/proc/*/cwd``); elsewhere nothing is done.
    """
    base = os.path.realpath(folder)
    killed = []
    proc = Path("/proc")
    if not proc.is_dir():
        return killed
    me = os.getpid()
    for item in proc.iterdir():
        if not item.name.isdigit() or int(item.name) == me:
            continue
        try:
            cwd = os.readlink(item / "cwd")
        except OSError:
            continue
        cwd = cwd.removesuffix(" (deleted)")
        if cwd == base or cwd.startswith(base + os.sep):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(item.name), signal.SIGKILL)
                killed.append(int(item.name))
    return killed
