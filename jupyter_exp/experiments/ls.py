"""``exp list``: experiment names per baseline, local or on a Git remote (``dvc exp ls``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..git import Git
from .collect import CollectOptions, RefState, baseline_revs, describe
from .refs import EXPS_NAMESPACE, ExpRef

__all__ = ["BaselineExperiments", "ListedExperiment", "list_by_baseline"]


@dataclass(frozen=True)
class ListedExperiment:
    """An experiment's name and commit (None when listed from a remote)."""

    name: str
    rev: str | None


@dataclass
class BaselineExperiments:
    """The experiments of one baseline commit; ``name`` is its branch or tag, if any."""

    baseline: str
    name: str | None
    experiments: list[ListedExperiment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "baseline": self.baseline,
            "name": self.name,
            "experiments": [{"name": e.name, "rev": e.rev} for e in self.experiments],
        }


def list_by_baseline(
    git: Git,
    *,
    revs: Sequence[str] = (),
    all_commits: bool = False,
    num: int = 1,
    git_remote: str | None = None,
) -> list[BaselineExperiments]:
    """Experiments of ``revs`` (``HEAD`` by default, ``num`` first-parent commits each).

    ``all_commits`` lists every baseline. With ``git_remote`` (a remote name or URL)
    the remote's experiment refs are listed instead, without commits, as DVC does.
    Raises :class:`~jupyter_exp.errors.RevisionNotFoundError` for an unknown revision
    or remote.
    """
    state = RefState.read(git)
    wanted: set[str] | None = None
    if not all_commits:
        if state.head is None:
            return []
        options = CollectOptions(revs=tuple(revs) or ("HEAD",), num=num)
        wanted = set(baseline_revs(git, options, state))
    if git_remote is not None:
        git.check_remote(git_remote)
        exp_refs = git.remote_refs(git_remote, f"{EXPS_NAMESPACE}/")
    else:
        exp_refs = {r: s for r, s in state.refs.items() if r.startswith(f"{EXPS_NAMESPACE}/")}
    grouped: dict[str, list[ListedExperiment]] = {}
    for ref in sorted(exp_refs):
        info = ExpRef.parse(ref)
        if info is None or (wanted is not None and info.baseline not in wanted):
            continue
        rev = None if git_remote is not None else exp_refs[ref]
        grouped.setdefault(info.baseline, []).append(ListedExperiment(info.name, rev))
    names = describe(grouped, state)
    return [BaselineExperiments(b, names.get(b), exps) for b, exps in grouped.items()]
