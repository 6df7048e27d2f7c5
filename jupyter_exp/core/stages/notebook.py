"""Run ``jupyter exp notebook ...`` stage commands in this process.

A stage whose ``cmd`` is exactly ``jupyter exp notebook NB [-o OUT] [-p KEY[:NAME]]...``
(or ``jupyter-exp notebook ...``) is executed here with papermill instead of a shell:
no second Python start-up, cell progress as events, and a failing cell raises a
:class:`~jupyter_exp.errors.NotebookCellError` naming the cell and the exception. The
command is parsed with the CLI's own argument definition, so both paths run the same
request; anything it does not accept exactly goes to the shell, where the CLI runs it.

Importing this module is cheap: papermill is imported when a notebook stage runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...events import EventSink, StageFailed
from ...notebook import NotebookRequest, parse_command
from ..cancel import CancelToken
from . import InProcessRunner, register_in_process

__all__ = ["NotebookRunner", "notebook_runner"]


class NotebookRunner:
    """The in-process runner for one parsed notebook command."""

    def __init__(self, request: NotebookRequest, cmd: str) -> None:
        self.request = request
        self.cmd = cmd

    def __call__(
        self,
        *,
        cwd: Path,
        env: Mapping[str, str],
        stage: str,
        on_event: EventSink,
        cancel: CancelToken | None = None,
    ) -> int:
        """Execute the notebook; return 0, or raise the notebook's error.

        A cell error is raised (not returned as a status) so the engine reports the
        cell and the exception; the ``StageFailed`` event is sent first, as the engine
        does for a non-zero exit status. A cancelled run stops the kernel (see
        :func:`~jupyter_exp.notebook.execute.execute_notebook`) and raises
        :class:`~jupyter_exp.errors.RunCancelledError`.
        """
        from ...errors import NotebookError
        from ...notebook.execute import execute_notebook

        try:
            execute_notebook(
                self.request,
                cwd=cwd,
                env=env,
                stage=stage,
                on_event=on_event,
                cmd=self.cmd,
                cancel=cancel,
            )
        except NotebookError as error:
            if cancel is not None:
                cancel.check(stage)  # the kernel was stopped because of the cancel
            on_event(StageFailed(stage=stage, returncode=error.returncode, message=str(error)))
            raise
        return 0

    def __repr__(self) -> str:
        return f"NotebookRunner({self.cmd!r})"


@register_in_process
def notebook_runner(cmd: str) -> InProcessRunner | None:
    """A runner when ``cmd`` is exactly our notebook command, else None (use the shell)."""
    request = parse_command(cmd)
    return None if request is None else NotebookRunner(request, cmd)
