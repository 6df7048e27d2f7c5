"""``exp pull``: experiment refs from a Git remote, their cached outputs from the data remote.

As ``dvc exp pull``: every remote experiment with ``all_commits``, else the named ones
(resolved among the remote's refs), else those of the ``rev`` baselines (``HEAD`` by
default). Each ref is fetched as itself; a local experiment of the same name that the
remote one does not fast-forward is "diverged" and kept unless ``force``. Then the
cached outputs of the experiments now here come from the DVC data remote, when one is
configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.repo import Repo
from ..git import Git
from .push import experiment_outputs
from .refs import EXPS_NAMESPACE
from .remote_data import get_data_remote, pull_objects, pull_run_cache
from .remove import remote_experiments, select_experiments


@dataclass
class PullResult:
    """Names pulled, already up to date, or diverged (kept as they were); data fetched.

    ``missing`` lists objects the DVC remote did not have.
    """

    remote: str
    pulled: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    data_remote: str | None = None
    downloaded: int = 0
    missing: list[str] = field(default_factory=list)
    run_cache: int = 0


def exp_pull(
    repo: Repo,
    git: Git,
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
    """Fetch experiments from ``git_remote`` (a remote name, path or URL).

    Raises :class:`RevisionNotFoundError` for a remote that does not exist and
    :class:`ExperimentNotFoundError` for a name the remote does not have, before
    anything is fetched.
    """
    candidates = remote_experiments(git, git_remote)
    if all_commits:
        selected = list(candidates)
    elif names:
        selected = select_experiments(git, candidates, names)
    else:
        selected = select_experiments(git, candidates, revs=list(rev) or ["HEAD"], num=num)
    data = get_data_remote(repo, dvc_remote) if pull_cache else None
    result = PullResult(git_remote, data_remote=data.name if data else None)
    if not selected:
        return result
    before = {info.ref: info.sha for info in git.refs(f"{EXPS_NAMESPACE}/")}
    plus = "+" if force else ""
    git.fetch_refspecs(git_remote, [f"{plus}{e.ref.ref}:{e.ref.ref}" for e in selected])
    after = {info.ref: info.sha for info in git.refs(f"{EXPS_NAMESPACE}/")}
    here = []
    for exp in selected:
        ref = exp.ref.ref
        if after.get(ref) != exp.sha:
            result.diverged.append(exp.name)
            continue
        (result.up_to_date if before.get(ref) == exp.sha else result.pulled).append(exp.name)
        here.append(exp)
    if data is not None:
        transfer = pull_objects(repo, data, experiment_outputs(repo, git, here, push=True))
        result.downloaded, result.missing = transfer.transferred, transfer.missing
        if run_cache:
            result.run_cache = pull_run_cache(repo, data)
    return result
