"""``make_checkpoint()``: ask the experiment running this code to record a checkpoint.

Call it from a stage's code once its outputs (the model file, ``metrics.json``...) hold
a state worth keeping, e.g. at the end of each epoch::

    from jupyter_exp import make_checkpoint

    for epoch in range(epochs):
        train_one_epoch(model)
        save(model, "model.pt")
        write_metrics("metrics.json")
        make_checkpoint()

Inside a run (a stage with a ``checkpoint: true`` output, ``DVC_CHECKPOINT`` set) it
creates ``$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT`` and waits until the engine has recorded
the checkpoint and deleted the file: DVC 2's protocol, which code in any language can
follow (see ``docs/experiments.md``).

In a process that has a *current experiment* for the project it works in (a Jupyter
kernel after ``%%checkpoint``, see :func:`follow_experiment`), it records the workspace
as that experiment's next checkpoint at once, in-process: the kernel is the experiment's
process, there is no engine to signal. Anywhere else (``python train.py`` by hand) it
returns False at once, so the script still runs alone. This module imports nothing from
the engine until it records in-process, so calling it costs nothing in a training script.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .experiments.workspace_checkpoint import CheckpointResult

__all__ = [
    "current_experiment",
    "follow_experiment",
    "forget_experiment",
    "make_checkpoint",
    "record_checkpoint",
]

# How often to look for the file's removal: short, the handshake is tens of ms.
_POLL_SECONDS = 0.002


def make_checkpoint(*, timeout: float | None = None) -> bool:
    """Record a checkpoint of the running stage; return False when not in a run.

    Blocks until the engine has committed the stage's outputs. ``timeout`` (seconds,
    default: wait as long as it takes) raises :class:`TimeoutError` when the engine did
    not answer in time (the signal file is then left for it to find). In a process with
    a current experiment (see the module's doc) it records in-process and returns True;
    ``timeout`` does not apply there.
    """
    if not os.environ.get("DVC_CHECKPOINT"):
        if not _following:
            return False
        from .core.repo import Repo
        from .errors import NotInRepositoryError

        try:
            root = Repo.find(os.getcwd()).root
        except NotInRepositoryError:
            return False
        if _key(root) not in _following:
            return False
        record_checkpoint(root)
        return True
    root = os.environ.get("DVC_ROOT") or _find_root(os.getcwd())
    if root is None:
        return False
    tmp = os.path.join(root, ".dvc", "tmp")
    os.makedirs(tmp, exist_ok=True)
    signal_file = os.path.join(tmp, "DVC_CHECKPOINT")
    # Written aside, then renamed into place: the file appears whole, and a second signal
    # while the engine is still committing the first one is a new file it can tell apart.
    part = f"{signal_file}.{os.getpid()}.{threading.get_ident()}"
    with open(part, "w", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    os.replace(part, signal_file)
    deadline = None if timeout is None else time.monotonic() + timeout
    while os.path.exists(signal_file):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"no answer to the checkpoint signal {signal_file}")
        time.sleep(_POLL_SECONDS)
    return True


def _find_root(start: str) -> str | None:
    """The nearest folder holding ``.dvc`` above ``start`` (DVC 2's fallback)."""
    path = os.path.realpath(start)
    while True:
        if os.path.isdir(os.path.join(path, ".dvc")):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


# --- the current experiment of this process (a Jupyter kernel) ---------------------------------


@dataclass
class _Following:
    """Where this process's checkpoints of one project go, and how the next one is made."""

    name: str | None
    message: str | None = None
    reset: bool = False
    force: bool = False


# Project root -> its current experiment here. Kept in memory only: a restarted kernel
# finds its experiment again through the workspace's last checkpoint (EXEC_CHECKPOINT).
_following: dict[str, _Following] = {}
_lock = threading.RLock()


def _key(root: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(root))


def follow_experiment(
    root: str | os.PathLike[str],
    name: str | None,
    *,
    message: str | None = None,
    reset: bool = False,
    force: bool = False,
) -> None:
    """Make ``name`` this process's current experiment for the project at ``root``.

    From now on :func:`make_checkpoint` (and :func:`record_checkpoint`) record the
    workspace as that experiment's next checkpoint, in-process. ``name`` None lets the
    first checkpoint choose (the workspace's last checkpoint's experiment, or a new
    one) and remembers its choice. ``message`` is the commit message of the checkpoints
    until the next call; ``reset``/``force`` apply to the next checkpoint only (it
    starts the experiment over, see :meth:`jupyter_exp.Project.exp_checkpoint`).
    """
    with _lock:
        _following[_key(root)] = _Following(name, message, reset, force)


def current_experiment(root: str | os.PathLike[str]) -> str | None:
    """The name of this process's current experiment for the project at ``root``.

    None when there is none, or when it is still to be chosen by the first checkpoint.
    """
    with _lock:
        state = _following.get(_key(root))
        return state.name if state is not None else None


def forget_experiment(root: str | os.PathLike[str]) -> None:
    """Forget the current experiment of the project at ``root``: no more in-process
    checkpoints there until :func:`follow_experiment` is called again."""
    with _lock:
        _following.pop(_key(root), None)


def record_checkpoint(root: str | os.PathLike[str]) -> CheckpointResult:
    """Record the workspace of the project at ``root`` as the next checkpoint of this
    process's current experiment, now; return what was recorded.

    Raises :class:`LookupError` when the process follows no experiment there, and the
    errors of :meth:`jupyter_exp.Project.exp_checkpoint`.
    """
    from .api import Project

    with _lock:  # one checkpoint at a time per process: the choices below are consumed
        state = _following.get(_key(root))
        if state is None:
            raise LookupError(f"no current experiment for the project at {root}")
        result = Project(root).exp_checkpoint(
            state.name, state.message, reset=state.reset, force=state.force
        )
        state.name, state.reset, state.force = result.name, False, False
        return result
