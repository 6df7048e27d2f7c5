"""``exp push``: experiment refs to a Git remote, their cached outputs to the data remote.

As ``dvc exp push``: the experiments are the named ones, every one with
``all_commits``, else those of the ``rev`` baselines (``HEAD`` by default, ``num``
first-parent commits back). Each ref is pushed as itself (``refs/exps/...``); a remote
experiment of the same name that is not an ancestor is "diverged" and left alone unless
``force``. Then the cached outputs of every experiment now on the remote go to the DVC
data remote of ``.dvc/config`` (or the one named), when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..core.objects import HashInfo
from ..core.repo import Repo
from ..git import Git
from .remote_data import get_data_remote, push_objects, push_run_cache
from .remove import ExpHandle, local_experiments, select_experiments
from .revision import open_revision


@dataclass
class PushResult:
    """Names pushed, already up to date, or diverged (not pushed); data uploaded.

    ``data_remote`` is the DVC remote used (None when none is configured or
    ``push_cache`` was off); ``missing`` lists objects the local cache lacked.
    """

    remote: str
    pushed: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    data_remote: str | None = None
    uploaded: int = 0
    missing: list[str] = field(default_factory=list)
    run_cache: int = 0


def exp_push(
    repo: Repo,
    git: Git,
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
    """Push experiments to ``git_remote`` (a remote name, path or URL).

    Raises :class:`RevisionNotFoundError` for a remote that does not exist and
    :class:`ExperimentNotFoundError` for an unknown name, before anything is pushed.
    """
    git.check_remote(git_remote)
    candidates = local_experiments(git)
    if names or all_commits:
        selected = select_experiments(git, candidates, names, all_commits=all_commits)
    else:
        selected = select_experiments(git, candidates, revs=list(rev) or ["HEAD"], num=num)
    data = get_data_remote(repo, dvc_remote) if push_cache else None
    result = PushResult(git_remote, data_remote=data.name if data else None)
    if not selected:
        return result
    refspecs = [f"{exp.ref.ref}:{exp.ref.ref}" for exp in selected]
    statuses = git.push_refspecs(git_remote, refspecs, force=force)
    on_remote = []
    for exp in selected:
        status = statuses.get(exp.ref.ref, "rejected")
        if status == "up_to_date":
            result.up_to_date.append(exp.name)
        elif status in ("new", "updated"):
            result.pushed.append(exp.name)
        else:
            result.diverged.append(exp.name)
            continue
        on_remote.append(exp)
    if data is not None:
        transfer = push_objects(repo, data, experiment_outputs(repo, git, on_remote, push=True))
        result.uploaded, result.missing = transfer.transferred, transfer.missing
        if run_cache:
            result.run_cache = push_run_cache(repo, data)
    return result


def experiment_outputs(
    repo: Repo, git: Git, exps: Iterable[ExpHandle], *, push: bool = False
) -> list[HashInfo]:
    """Hashes of the cached outputs the experiments' locks record (``push: false`` skipped
    when ``push``)."""
    infos: dict[str, HashInfo] = {}
    for exp in exps:
        with open_revision(repo, git, exp.sha) as view:
            for _path, out, info in view.cached_outputs():
                if out.push or not push:
                    infos.setdefault(info.md5, info)
    return list(infos.values())
