"""Run a stage's shell command, streaming its output as events.

The command runs as DVC runs it (``$SHELL -c CMD``, bash/zsh without rc files, cwd =
the stage's wdir, ``DVC_ROOT`` and ``DVC_STAGE`` set) but in its own process group, so
an interrupt reaches the whole tree it started (``make -j``, ``python`` + workers) and
nothing is left running behind us.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from ...errors import RunCancelledError
from ...events import EventSink, StageOutput
from ..cancel import CancelToken

# Seconds to wait for the process group after SIGINT, then after SIGTERM, before SIGKILL.
_GRACE = (3.0, 2.0)

_SHELL_OPTIONS = {"bash": ["--noprofile", "--norc"], "zsh": ["--no-rcs"]}

# How often a cancellable command's output loop looks at its cancel token, in seconds.
_CANCEL_POLL = 0.1


def shell_argv(cmd: str) -> list[str]:
    """The argv DVC would use for ``cmd``: ``$SHELL [no-rc flags] -c cmd``."""
    shell = os.environ.get("SHELL") or "/bin/sh"
    name = os.path.basename(shell).lower()
    return [shell, *_SHELL_OPTIONS.get(name, []), "-c", cmd]


def run_command(
    cmd: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    stage: str,
    on_event: EventSink,
    cancel: CancelToken | None = None,
) -> int:
    """Run ``cmd`` to completion and return its exit status (negative: killed by signal).

    stdout/stderr are streamed as :class:`StageOutput` events as they arrive. On
    ``KeyboardInterrupt`` the process group gets SIGINT, then SIGTERM, then SIGKILL,
    and the interrupt is re-raised once the group is gone. ``cancel`` is looked at
    while the command runs: once cancelled, the group is stopped the same way and
    :class:`~jupyter_exp.errors.RunCancelledError` is raised.
    """
    if cancel is not None:
        cancel.check(stage)
    proc = subprocess.Popen(
        shell_argv(cmd),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
    )
    try:
        _pump(proc, stage, on_event, cancel)
        code = proc.wait()
        if cancel is not None:
            cancel.check(stage)  # stopped as it ended: a cancelled run never succeeds
        return code
    except BaseException:
        _terminate_group(proc)
        raise


def _pump(
    proc: subprocess.Popen[bytes], stage: str, on_event: EventSink, cancel: CancelToken | None
) -> None:
    streams: dict[int, tuple[Literal["stdout", "stderr"], codecs.IncrementalDecoder]] = {}
    selector = selectors.DefaultSelector()
    for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        assert pipe is not None
        fd = pipe.fileno()
        os.set_blocking(fd, False)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        streams[fd] = (name, decoder)  # type: ignore[assignment]
        selector.register(fd, selectors.EVENT_READ)
    try:
        timeout = None if cancel is None else _CANCEL_POLL
        while streams:
            ready = selector.select(timeout)
            if cancel is not None and cancel.cancelled:
                raise RunCancelledError(stage)
            for key, _ in ready:
                fd = key.fd
                name, decoder = streams[fd]
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                text = decoder.decode(chunk, final=not chunk)
                if text:
                    on_event(StageOutput(stage=stage, stream=name, text=text))
                if not chunk:
                    selector.unregister(fd)
                    del streams[fd]
    finally:
        selector.close()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _terminate_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the command's whole process group: SIGINT, SIGTERM, then SIGKILL."""
    for sig, grace in ((signal.SIGINT, _GRACE[0]), (signal.SIGTERM, _GRACE[1])):
        if not _signal_group(proc, sig):
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not _group_alive(proc.pid):
                return
            time.sleep(0.05)
    _signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> bool:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
