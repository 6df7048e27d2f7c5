"""How a stage's command executes.

Most commands run in a shell (:mod:`.shell`). Some commands we recognise and run inside
this process instead, like papermill's engine registry picks an engine by name: a
command module registers a parser with :func:`register_in_process`; the first parser
that accepts a command string returns a runner for it. The command stays a plain
string in ``dvc.yaml``, so DVC (which does not know about us) runs it in a shell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from ...events import EventSink
from ..cancel import CancelToken


class InProcessRunner(Protocol):
    """A command we execute without a shell."""

    def __call__(
        self,
        *,
        cwd: Path,
        env: Mapping[str, str],
        stage: str,
        on_event: EventSink,
        cancel: CancelToken | None = None,
    ) -> int:
        """Run to completion and return an exit status (0 = success).

        Once ``cancel`` is cancelled, stop as soon as possible and raise
        :class:`~jupyter_exp.errors.RunCancelledError`.
        """
        ...


CommandParser = Callable[[str], "InProcessRunner | None"]

_PARSERS: list[CommandParser] = []


def register_in_process(parser: CommandParser) -> CommandParser:
    """Register ``parser`` (usable as a decorator); later registrations win."""
    _PARSERS.insert(0, parser)
    return parser


def in_process_runner(cmd: str) -> InProcessRunner | None:
    """The in-process runner for ``cmd``, or None to run it in a shell."""
    _load_builtin_parsers()
    for parser in _PARSERS:
        runner = parser(cmd)
        if runner is not None:
            return runner
    return None


def _load_builtin_parsers() -> None:
    """Import the modules that register our own in-process commands (once)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for module in _BUILTIN:
        try:
            __import__(module, fromlist=["_"])
        except ImportError:
            continue


_LOADED = False
# Modules that call register_in_process at import time.
_BUILTIN: tuple[str, ...] = ("jupyter_exp.core.stages.notebook",)
