"""Cancelling a run from another thread (a server handler, a widget's stop button).

A :class:`CancelToken` is handed to the engine with the run's options; whoever holds it
may call :meth:`CancelToken.cancel` at any time. The engine looks at it between stages,
and the shell runner while a command runs: the command's process group is then
stopped as on Ctrl+C and :class:`~jupyter_exp.errors.RunCancelledError` is raised, so
the workspace keeps what the stopped stage left and nothing is recorded.
"""

from __future__ import annotations

import threading

from ..errors import RunCancelledError

__all__ = ["CancelToken"]


class CancelToken:
    """A one-way switch: once cancelled, it stays cancelled."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"

    def cancel(self) -> None:
        """Ask the run to stop (safe from any thread, any number of times)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def check(self, stage: str | None = None) -> None:
        """Raise :class:`RunCancelledError` (naming ``stage``) if cancelled."""
        if self._event.is_set():
            raise RunCancelledError(stage)
