"""Where an experiment runs: in the workspace, or in a temporary Git worktree.

Both end the same way (:func:`.base.record`): one commit whose parent is the baseline,
under the experiment's ref, written without moving ``HEAD``, the index or a branch.
"""

from __future__ import annotations

from .base import ExpJob, ExpResult, ExpRunResult
from .temp import run_in_temp
from .workspace import run_in_workspace

__all__ = ["ExpJob", "ExpResult", "ExpRunResult", "run_in_temp", "run_in_workspace"]
