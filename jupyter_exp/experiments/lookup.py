"""Finding experiments: list the refs, and resolve what a user typed to one of them.

A user names an experiment by its name (``lr02``), its full ref, or a prefix of its
commit sha, as with DVC. A name is looked up among the experiments of ``HEAD`` first,
then among every baseline's; a name shared by experiments of several baselines is an
error that lists them. A sha prefix may also name a checkpoint inside a checkpoint
experiment's chain (see :mod:`.checkpoints`): the result is then that commit, with the
experiment's ref.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ExperimentNotFoundError, InvalidArgumentError
from ..git import Git, RefInfo
from .refs import EXPS_NAMESPACE, ExpRef, baseline_prefix


@dataclass(frozen=True)
class Experiment:
    """An experiment ref and the facts about its commit."""

    ref: ExpRef
    sha: str
    parents: tuple[str, ...]
    timestamp: int
    message: str

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.ref.name

    @property
    def baseline(self) -> str:
        """The commit the experiment branches from."""
        return self.ref.baseline


def list_experiments(git: Git, baseline: str | None = None) -> list[Experiment]:
    """Experiments of ``baseline`` (or of every baseline), oldest first."""
    prefix = baseline_prefix(baseline) if baseline else f"{EXPS_NAMESPACE}/"
    found = []
    for info in git.refs(prefix):
        ref = ExpRef.parse(info.ref)
        if ref is not None:
            found.append(_experiment(ref, info))
    found.sort(key=lambda e: (e.timestamp, e.name))
    return found


def _experiment(ref: ExpRef, info: RefInfo) -> Experiment:
    return Experiment(ref, info.sha, info.parents, info.timestamp, info.subject)


def find_experiment(git: Git, spec: str, *, baseline: str | None = None) -> Experiment:
    """The experiment ``spec`` names (name, full ref, or commit sha prefix).

    ``baseline`` defaults to ``HEAD``; its experiments win a name clash.
    Raises :class:`ExperimentNotFoundError`, or :class:`InvalidArgumentError` when a
    name is ambiguous across baselines.
    """
    spec = spec.strip()
    if not spec:
        raise ExperimentNotFoundError(spec)
    everything = list_experiments(git)
    if spec.startswith(f"{EXPS_NAMESPACE}/"):
        for exp in everything:
            if exp.ref.ref == spec:
                return exp
        raise ExperimentNotFoundError(spec)
    base = baseline if baseline is not None else git.head()
    named = [e for e in everything if e.name == spec]
    local = [e for e in named if e.baseline == base]
    if local:
        return local[-1]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        baselines = ", ".join(sorted({e.baseline[:7] for e in named}))
        raise InvalidArgumentError(
            f"experiment name '{spec}' is ambiguous: it exists for baselines {baselines}; "
            "use its full ref or commit sha",
            argument=spec,
        )
    if len(spec) >= 4 and all(c in "0123456789abcdef" for c in spec.lower()):
        by_sha = [e for e in everything if e.sha.startswith(spec.lower())]
        if len(by_sha) == 1:
            return by_sha[0]
        if not by_sha:
            found = _checkpoint(git, spec.lower(), everything)
            if found is not None:
                return found
    raise ExperimentNotFoundError(spec)


def _checkpoint(git: Git, prefix: str, everything: list[Experiment]) -> Experiment | None:
    """The checkpoint commit ``prefix`` names inside an experiment's first-parent chain."""
    sha = git.try_resolve(prefix)
    if sha is None or not sha.startswith(prefix):
        return None
    containing = set(git.refs_containing(sha, f"{EXPS_NAMESPACE}/"))
    for exp in reversed(everything):  # newest first
        if exp.ref.ref not in containing or exp.baseline == sha:
            continue
        for info in git.first_parent_chain(exp.sha, exp.baseline):
            if info.sha == sha:
                return Experiment(exp.ref, sha, info.parents, info.timestamp, info.subject)
    return None
