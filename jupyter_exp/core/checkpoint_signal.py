"""The checkpoint signal: a running stage asks for a checkpoint, the engine takes it.

The protocol is DVC 2's, so the R and Julia snippets of its documentation work as they
are. A stage with an output marked ``checkpoint: true`` runs with ``DVC_CHECKPOINT=1``
and ``DVC_ROOT`` in its environment. When its outputs are worth keeping, the command
creates ``$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT`` and waits for the file to disappear.
Meanwhile a :class:`SignalWatcher` thread polls for the file; on seeing it, the engine
commits the stage's outputs (hash, cache, ``dvc.lock`` entry) and the experiments layer
records the checkpoint, then the file is deleted and the command goes on. The command
is blocked while its outputs are read, so what is recorded is what it had written.

Faults:

* a signal arriving while the previous one is being committed changes the file's inode
  or size (:func:`jupyter_exp.make_checkpoint` renames a new file into place; a shell
  can append, ``echo >> "$file"``): one more checkpoint is taken before the file goes,
  so the signal is queued, not lost (signals that land during the same commit count as
  one: they all see the same outputs). A second writer that only truncates or touches
  the existing file is not told apart from the first. A writer still filling the file
  when it was seen looks like a second signal; the engine then finds nothing changed
  and records nothing twice;
* a command that ends (or dies) with a signal not yet picked up leaves a stale file: it
  is deleted and nothing is recorded for it; the last complete checkpoint stands;
* a checkpoint that fails (an output missing, a full disk) is an error of the stage: the
  signal and any later ones are released without being recorded, and the error is
  raised once the command ends (we cannot stop a command we did not start).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from ..events import CheckpointTaken, EventSink
from .pipeline.model import Stage

__all__ = [
    "ENV_CHECKPOINT",
    "SIGNAL_FILE",
    "SignalWatcher",
    "is_checkpoint_stage",
    "signal_path",
    "watch_checkpoints",
]

SIGNAL_FILE = "DVC_CHECKPOINT"
ENV_CHECKPOINT = "DVC_CHECKPOINT"
# Polling the file costs one stat() per tick; 5 ms keeps the handshake short.
POLL_INTERVAL = 0.005


def signal_path(root: Path) -> Path:
    """The signal file of the project at ``root``: ``$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT``."""
    return Path(root) / ".dvc" / "tmp" / SIGNAL_FILE


def is_checkpoint_stage(stage: Stage) -> bool:
    """True when one of the stage's outputs is marked ``checkpoint: true``."""
    return any(out.checkpoint for out in stage.outs)


def _identity(path: Path) -> tuple[int, int] | None:
    # Not the time: `touch` creates the file, then sets its time (one signal, two looks).
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size


class SignalWatcher:
    """Polls ``path`` in a thread and calls ``take()`` for each signal, then releases it.

    ``take`` runs in the watcher's thread and returns whether it recorded a checkpoint
    (counted in :attr:`taken`); an exception it raises is kept in :attr:`error` and
    stops further checkpoints (signals are still released).
    """

    def __init__(
        self, path: Path, take: Callable[[], bool | None], *, interval: float = POLL_INTERVAL
    ) -> None:
        self.path = Path(path)
        self.take = take
        self.interval = interval
        self.taken = 0
        self.discarded = False
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="checkpoint-watcher", daemon=True)

    def start(self) -> None:
        """Remove a stale signal file, then watch."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._release()
        self._thread.start()

    def stop(self) -> None:
        """Stop watching: wait for a checkpoint in progress, drop a signal left behind."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        # The command is gone: nobody waits for a signal still there, and the outputs
        # it stood for may have been left half-written. Nothing is recorded for it.
        if self.path.exists():
            self.discarded = True
            self._release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            seen = _identity(self.path)
            if seen is None:
                self._stop.wait(self.interval)
                continue
            self._serve(seen)

    def _serve(self, seen: tuple[int, int]) -> None:
        """Take checkpoints until no new signal came in during the last one; release."""
        while self.error is None:
            try:
                recorded = self.take()
            except BaseException as exc:  # kept and raised in the stage's thread
                self.error = exc
                break
            self.taken += 0 if recorded is False else 1
            now = _identity(self.path)
            if now is None or now == seen:
                break
            seen = now  # signalled again while we were committing: queue one more
        self._release()

    def _release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


@contextmanager
def watch_checkpoints(
    root: Path,
    stage: Stage,
    env: MutableMapping[str, str],
    commit: Callable[[], bool],
    on_event: EventSink,
) -> Iterator[SignalWatcher | None]:
    """Around a stage's command: serve its checkpoint signals with ``commit``.

    Does nothing (yields None) unless ``stage`` is a checkpoint stage; otherwise sets
    ``DVC_CHECKPOINT=1`` and ``DVC_ROOT`` (``root``, where the stage runs: a temporary
    worktree has its own signal file, as in DVC 2) in ``env``, the command's environment
    before it starts, and watches. ``commit`` returns False when it found nothing new to
    record. A checkpoint that failed is raised when the command is over, in place of its
    own failure (an interrupt still wins).
    """
    if not is_checkpoint_stage(stage):
        yield None
        return
    env[ENV_CHECKPOINT] = "1"
    env["DVC_ROOT"] = str(root)

    def take() -> bool:
        started = time.monotonic()
        if not commit():
            return False
        count = watcher.taken + 1
        on_event(CheckpointTaken(stage.address, count, time.monotonic() - started))
        return True

    watcher = SignalWatcher(signal_path(root), take)
    watcher.start()
    try:
        yield watcher
    except KeyboardInterrupt:
        watcher.stop()
        raise
    except BaseException as exc:
        watcher.stop()
        if watcher.error is not None:
            raise watcher.error from exc
        raise
    watcher.stop()
    if watcher.error is not None:
        raise watcher.error
