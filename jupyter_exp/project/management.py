"""Managing experiments (``exp diff/apply/branch/remove/push/pull``).

A part of :class:`jupyter_exp.Project`, which combines it with the other classes of this
package. The methods are thin: they turn arguments into the experiments layer's calls
and return its results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.repo import Repo
from ..events import EventSink

if TYPE_CHECKING:  # experiment results: their modules are imported when called
    from ..experiments.apply import ApplyResult
    from ..experiments.branch import BranchResult
    from ..experiments.diff import ExpDiff
    from ..experiments.pull import PullResult
    from ..experiments.push import PushResult
    from ..git import Git


class ExperimentManagement:
    """Managing experiments (``exp diff/apply/branch/remove/push/pull``)."""

    # Provided by Project.
    repo: Repo
    on_event: EventSink
    root: Path
    _git: Callable[[], Git]

    def exp_diff(
        self,
        a: str | None = None,
        b: str | None = None,
        *,
        all: bool = False,
        param_deps: bool = False,
    ) -> ExpDiff:
        """Params, metrics, deps and outs that differ between ``a`` and ``b``.

        ``a`` defaults to ``HEAD`` and ``b`` to the workspace; each may be a Git revision
        or an experiment name. ``all`` keeps unchanged values too. The result's
        ``to_dict()`` is ``dvc exp diff --json`` plus ``deps``/``outs``;
        ``to_dataframe()`` gives one row per change.
        """
        from ..experiments.diff import exp_diff

        return exp_diff(self.repo, self._git(), a, b, all=all, param_deps=param_deps)

    def exp_apply(self, experiment: str, *, force: bool = False) -> ApplyResult:
        """Put ``experiment``'s files and cached outputs into the workspace.

        ``HEAD`` and the branch stay. Uncommitted edits it would overwrite are a
        :class:`~jupyter_exp.errors.WorkspaceConflictError` unless ``force``; either way
        the workspace is first saved under ``refs/exps/apply/stash`` (see
        ``ApplyResult.restore_hint``).
        """
        from ..experiments.apply import exp_apply

        return exp_apply(self.repo, self._git(), experiment, force=force)

    def exp_branch(self, experiment: str, branch: str | None = None) -> BranchResult:
        """Create Git branch ``branch`` (default ``<name>-branch``) at the experiment."""
        from ..experiments.branch import exp_branch

        return exp_branch(self._git(), experiment, branch)

    def exp_remove(
        self,
        names: Sequence[str] = (),
        *,
        rev: Sequence[str] = (),
        num: int = 1,
        all_commits: bool = False,
        git_remote: str | None = None,
        keep: bool = False,
    ) -> list[str]:
        """Remove experiments (here, or on ``git_remote``); return the names removed.

        Select by ``names``, or by baselines ``rev`` (``num`` first-parent commits back),
        or ``all_commits``; ``keep`` removes all but the selected ones.
        """
        from ..experiments.remove import exp_remove

        return exp_remove(
            self._git(),
            names,
            rev=rev,
            num=num,
            all_commits=all_commits,
            git_remote=git_remote,
            keep=keep,
        )

    def exp_push(
        self,
        git_remote: str,
        names: Sequence[str] = (),
        *,
        all_commits: bool = False,
        rev: Sequence[str] = (),
        num: int = 1,
        force: bool = False,
        push_cache: bool = True,
        dvc_remote: str | None = None,
        run_cache: bool = False,
    ) -> PushResult:
        """Push experiment refs to ``git_remote`` and their outputs to the DVC remote.

        Default selection: the experiments of ``HEAD``. Outputs go to ``dvc_remote`` (or
        ``core.remote`` of ``.dvc/config``) when one is configured and ``push_cache``.
        """
        from ..experiments.push import exp_push

        with self.repo.lock():
            return exp_push(
                self.repo,
                self._git(),
                git_remote,
                names,
                all_commits=all_commits,
                rev=rev,
                num=num,
                force=force,
                push_cache=push_cache,
                dvc_remote=dvc_remote,
                run_cache=run_cache,
            )

    def exp_pull(
        self,
        git_remote: str,
        names: Sequence[str] = (),
        *,
        all_commits: bool = False,
        rev: Sequence[str] = (),
        num: int = 1,
        force: bool = False,
        pull_cache: bool = True,
        dvc_remote: str | None = None,
        run_cache: bool = False,
    ) -> PullResult:
        """Fetch experiment refs from ``git_remote`` and their outputs from the DVC remote.

        Default selection: the remote's experiments of ``HEAD``.
        """
        from ..experiments.pull import exp_pull

        with self.repo.lock():
            return exp_pull(
                self.repo,
                self._git(),
                git_remote,
                names,
                all_commits=all_commits,
                rev=rev,
                num=num,
                force=force,
                pull_cache=pull_cache,
                dvc_remote=dvc_remote,
                run_cache=run_cache,
            )
