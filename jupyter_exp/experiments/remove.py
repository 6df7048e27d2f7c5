"""``exp remove``: delete experiment refs, here or on a Git remote (``dvc exp remove``).

Which experiments: names (``-g`` resolves them on the remote), ``rev`` (the experiments
of those baselines, ``num`` first-parent commits back from each), ``all_commits``
(every experiment), and ``keep`` turns any of these into "all except". Everything is
resolved before anything is deleted, and local refs go in one atomic ``update-ref``
transaction that checks each ref still points where we saw it.

:func:`select_experiments` is the selection shared with ``exp push`` and ``exp pull``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ExperimentNotFoundError, InvalidArgumentError
from ..git import Git
from .lookup import list_experiments
from .refs import EXEC_APPLY, EXPS_NAMESPACE, ExpRef


@dataclass(frozen=True)
class ExpHandle:
    """An experiment ref and the commit it points to (locally or on a remote)."""

    ref: ExpRef
    sha: str

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.ref.name


def local_experiments(git: Git) -> list[ExpHandle]:
    """Every experiment ref of this repository."""
    return [ExpHandle(exp.ref, exp.sha) for exp in list_experiments(git)]


def remote_experiments(git: Git, remote: str) -> list[ExpHandle]:
    """Every experiment ref on Git ``remote`` (a name, path or URL)."""
    git.check_remote(remote)
    found = []
    for ref, sha in sorted(git.remote_refs(remote, f"{EXPS_NAMESPACE}/").items()):
        parsed = ExpRef.parse(ref)
        if parsed is not None:
            found.append(ExpHandle(parsed, sha))
    return found


def baselines_of(git: Git, revs: Sequence[str], num: int = 1) -> set[str]:
    """Commits of ``revs`` and up to ``num - 1`` first parents back (``num < 0``: all)."""
    found: set[str] = set()
    for rev in revs:
        sha = git.resolve(rev)
        if num == 0:
            continue
        found.update(git.log(sha, num) if num > 0 else git.log(sha, -1))
    return found


def select_experiments(
    git: Git,
    candidates: Sequence[ExpHandle],
    names: Sequence[str] = (),
    *,
    revs: Sequence[str] = (),
    num: int = 1,
    all_commits: bool = False,
) -> list[ExpHandle]:
    """The candidates picked by ``names``, baselines ``revs`` or ``all_commits``.

    A name may be a full ref, a name (the experiment of ``HEAD``'s baseline wins a
    clash; another clash is an error) or a commit sha prefix. Raises
    :class:`ExperimentNotFoundError` naming the first name that matches nothing.
    """
    picked: dict[str, ExpHandle] = {}
    if all_commits:
        picked.update((c.ref.ref, c) for c in candidates)
    for name in names:
        found = _resolve(git, candidates, name)
        picked[found.ref.ref] = found
    if revs:
        wanted = baselines_of(git, revs, num)
        picked.update((c.ref.ref, c) for c in candidates if c.ref.baseline in wanted)
    return list(picked.values())


def _resolve(git: Git, candidates: Sequence[ExpHandle], spec: str) -> ExpHandle:
    spec = spec.strip()
    if spec.startswith(f"{EXPS_NAMESPACE}/"):
        for exp in candidates:
            if exp.ref.ref == spec:
                return exp
        raise ExperimentNotFoundError(spec)
    named = [c for c in candidates if c.name == spec]
    if len(named) == 1:
        return named[0]
    if named:
        head = git.head()
        local = [c for c in named if c.ref.baseline == head]
        if local:
            return local[0]
        baselines = ", ".join(sorted({c.ref.baseline[:7] for c in named}))
        raise InvalidArgumentError(
            f"experiment name '{spec}' is ambiguous: it exists for baselines {baselines}; "
            "use its full ref or commit sha",
            argument=spec,
        )
    if len(spec) >= 4 and all(ch in "0123456789abcdef" for ch in spec.lower()):
        by_sha = [c for c in candidates if c.sha.startswith(spec.lower())]
        if len(by_sha) == 1:
            return by_sha[0]
    raise ExperimentNotFoundError(spec)


def exp_remove(
    git: Git,
    names: Sequence[str] = (),
    *,
    rev: Sequence[str] = (),
    num: int = 1,
    all_commits: bool = False,
    git_remote: str | None = None,
    keep: bool = False,
) -> list[str]:
    """Remove experiments; return the names removed (``[]`` when nothing matched).

    Give ``names``, or ``rev``/``all_commits`` (not both kinds). ``git_remote`` removes
    them from that remote instead of this repository; ``keep`` removes every experiment
    except the selected ones. Nothing is removed when a name is unknown or ambiguous.
    """
    if bool(names) == bool(rev or all_commits):
        raise InvalidArgumentError(
            "either name experiments, or use --rev or --all-commits", argument="names"
        )
    if git_remote is not None:
        candidates = remote_experiments(git, git_remote)
    else:
        candidates = local_experiments(git)
    selected = select_experiments(
        git, candidates, names, revs=rev, num=num, all_commits=all_commits
    )
    if keep:
        chosen = {c.ref.ref for c in selected}
        selected = [c for c in candidates if c.ref.ref not in chosen]
    if not selected:
        return []
    if git_remote is not None:
        statuses = git.push_refspecs(git_remote, [f":{c.ref.ref}" for c in selected])
        return [c.name for c in selected if statuses.get(c.ref.ref) == "deleted"]
    doomed = {c.ref.ref: c.sha for c in selected}
    applied = git.ref_sha(EXEC_APPLY)
    if applied is not None and applied in doomed.values():
        doomed[EXEC_APPLY] = applied  # DVC forgets the applied experiment with it
    git.delete_refs(doomed)
    return [c.name for c in selected]
