"""Checkpoints of the workspace, taken from the process that did the work (``%%checkpoint``).

A part of :class:`jupyter_exp.Project`, which combines it with the other classes of this
package. Checkpoints signalled by a running stage go through :meth:`exp_run` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.repo import Repo
from ..events import EventSink

if TYPE_CHECKING:  # the experiments layer is imported when called
    from ..experiments.workspace_checkpoint import CheckpointResult
    from ..git import Git


class ExperimentCheckpoints:
    """Recording the workspace as the next checkpoint of an experiment."""

    # Provided by Project.
    repo: Repo
    on_event: EventSink
    _git: Callable[[], Git]

    def exp_checkpoint(
        self,
        name: str | None = None,
        message: str | None = None,
        *,
        reset: bool = False,
        force: bool = False,
        on_event: EventSink | None = None,
    ) -> CheckpointResult:
        """Record the workspace as the next checkpoint of an experiment of ``HEAD``.

        The stages whose outputs exist are committed first (as ``exp save`` does: their
        ``dvc.lock`` entries from the workspace, cached outputs into the cache), then the
        workspace becomes a commit appended to the experiment's ref, laid out as the
        checkpoints of a checkpoint stage. ``name`` continues that experiment, or creates
        it from ``HEAD``; without it, the experiment the workspace's last checkpoint
        belongs to is continued (``refs/exps/exec/EXEC_CHECKPOINT``), or a new one with a
        random name started. ``reset`` starts a new experiment (an existing ``name`` then
        needs ``force``, and is replaced). A workspace equal to the last checkpoint records
        nothing (``result.recorded`` is False). ``HEAD``, the index and the branches do
        not move.
        """
        from ..experiments.workspace_checkpoint import record_workspace_checkpoint

        return record_workspace_checkpoint(
            self.repo,
            name=name,
            message=message,
            reset=reset,
            force=force,
            on_event=on_event or self.on_event,
        )

    def exp_checkpoint_target(
        self, name: str | None = None, *, reset: bool = False, force: bool = False
    ) -> str:
        """The name of the experiment :meth:`exp_checkpoint` would record into, now.

        Checks ``name`` as :meth:`exp_checkpoint` does (raising the same errors) and
        writes nothing: a front end calls it before running work it will checkpoint.
        """
        from ..experiments.executors.base import require_baseline
        from ..experiments.workspace_checkpoint import checkpoint_target

        git = self._git()
        return checkpoint_target(git, require_baseline(git), name, reset=reset, force=force).name
