"""``make_checkpoint()``: ask the experiment running this code to record a checkpoint.

Call it from a stage's code once its outputs (the model file, ``metrics.json``...) hold
a state worth keeping, e.g. at the end of each epoch::

    from jupyter_exp import make_checkpoint

    for epoch in range(epochs):
        train_one_epoch(model)
        save(model, "model.pt")
        write_metrics("metrics.json")
        make_checkpoint()

Outside a run (``DVC_CHECKPOINT`` not set, e.g. ``python train.py`` by hand) it returns
at once, so the script still runs alone. Inside a run it creates
``$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT`` and waits until the engine has recorded the
checkpoint and deleted the file: DVC 2's protocol, which code in any language can follow
(see ``docs/experiments.md``). This module imports nothing from the engine, so calling
it costs nothing in a training script.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["make_checkpoint"]

# How often to look for the file's removal: short, the handshake is tens of ms.
_POLL_SECONDS = 0.002


def make_checkpoint(*, timeout: float | None = None) -> bool:
    """Record a checkpoint of the running stage; return False when not in a run.

    Blocks until the engine has committed the stage's outputs. ``timeout`` (seconds,
    default: wait as long as it takes) raises :class:`TimeoutError` when the engine did
    not answer in time (the signal file is then left for it to find).
    """
    if not os.environ.get("DVC_CHECKPOINT"):
        return False
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
