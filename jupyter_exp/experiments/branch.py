"""``exp branch``: promote an experiment to a Git branch (``dvc exp branch``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidArgumentError
from ..git import ZERO_SHA, Git
from .lookup import find_experiment


@dataclass(frozen=True)
class BranchResult:
    """The branch created and the experiment it points to."""

    branch: str
    experiment: str
    sha: str


def exp_branch(git: Git, experiment: str, branch: str | None = None) -> BranchResult:
    """Create branch ``branch`` (default ``<name>-branch``, as DVC) at the experiment.

    ``HEAD``, the index and the workspace do not change. Raises
    :class:`ExperimentNotFoundError`, or :class:`InvalidArgumentError` for an invalid
    or existing branch name.
    """
    exp = find_experiment(git, experiment)
    name = branch if branch is not None else f"{exp.name}-branch"
    ref = f"refs/heads/{name}"
    # `git branch` also refuses a leading '-' and the name HEAD.
    if not name or name.startswith("-") or name == "HEAD" or not git.is_valid_ref_name(ref):
        raise InvalidArgumentError(f"invalid branch name '{name}'", argument="branch")
    if git.ref_sha(ref) is not None:
        raise InvalidArgumentError(f"Git branch '{name}' already exists", argument="branch")
    # Atomic create: if another process makes the branch first, Git refuses.
    git.update_ref(
        ref, exp.sha, old=ZERO_SHA, message=f"jupyter-exp: created from experiment '{exp.name}'"
    )
    return BranchResult(name, exp.name, exp.sha)
