"""Record the workspace as the next checkpoint of an experiment (``%%checkpoint``).

An engine-run checkpoint stage signals its checkpoints while its command runs
(:mod:`.checkpoint_recorder`). Code running in a Jupyter kernel is not a stage's
command: the kernel *is* the experiment's process, and a checkpoint records the
workspace as the kernel left it, at once. The commit is laid out exactly as an engine
checkpoint: the experiment's first checkpoint has the baseline (``HEAD``) as parent,
each next one the previous checkpoint, on ``refs/exps/<baseline>/<name>``, so ``exp
show`` draws the chain and ``dvc exp show --json`` reads it.

What a checkpoint holds (as ``exp save``, :mod:`.save`):

* ``dvc.lock``: the entry of every stage whose outputs and dependencies all exist is
  rewritten from the workspace (``dvc commit --force``: the hashes of its deps, params
  and outputs as they are now), and its cached outputs are copied into the cache, so
  ``exp apply`` of the checkpoint restores them. The code that wrote them ran in the
  kernel rather than as the stage's command, so no run-cache entry is made. A stage with
  an output or dependency missing (its code has not run yet) keeps the entry it had, or
  none: ``dvc status`` then reports it as changed, which it is. ``*.dvc`` data whose
  content changed is re-added.
* the tree: the tracked files as they are (with unstaged edits, so a saved notebook
  goes in), ``dvc.lock``, params files, uncached outputs such as ``metrics.json`` and the
  ``.gitignore`` files of cached outputs; never ``HEAD``, the index or a branch.

Which experiment (:func:`checkpoint_target`): a named one is continued when the baseline
has it (its tip is the new commit's parent), created otherwise; without a name, the
experiment whose tip is the workspace's last checkpoint (``EXEC_CHECKPOINT``, the ref
``exp run`` resumes from) is continued, otherwise a new one gets a random name. Each
checkpoint moves ``EXEC_CHECKPOINT`` too, so a restarted kernel, or a later
``jupyter exp run`` of a checkpoint pipeline, continues the same experiment.

Concurrent writers: the files are committed and the tree written under the repository
lock; the ref moves with ``update-ref`` expecting the tip just read, in one transaction
with ``EXEC_CHECKPOINT``; when another writer appended meanwhile, the commit is remade on
the new tip, so both checkpoints land, one after the other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..core.index import Index
from ..core.pipeline.model import Stage
from ..core.repo import Repo
from ..errors import ExperimentError, ExperimentExistsError, GitError, InvalidExperimentNameError
from ..events import CheckpointTaken, EventSink, ignore_events
from ..git import ZERO_SHA, Git
from .checkpoints import EXEC_CHECKPOINT
from .executors.base import (
    default_message,
    exp_hash,
    fresh_name,
    git_paths,
    paths_to_track,
    read_metrics,
    require_baseline,
)
from .refs import ExpRef, baseline_prefix, validate_name
from .save import commit_stages

__all__ = ["CheckpointResult", "checkpoint_target", "record_workspace_checkpoint"]

# Waits longer than a command would: a run may be committing its own checkpoint.
_LOCK_TIMEOUT = 30.0
_ATTEMPTS = 20


@dataclass(frozen=True)
class CheckpointResult:
    """A workspace checkpoint: where it went and what it holds.

    ``sha`` is the checkpoint's commit and ``step`` its place in the experiment (0 for
    the first after the baseline, as the ``Step`` column of ``exp show``). ``recorded``
    is False when the workspace equalled the experiment's last checkpoint: nothing new
    was written and ``sha``/``step`` are that checkpoint's. ``created`` is True when
    this checkpoint started the experiment. ``stages`` are the addresses of the stages
    whose ``dvc.lock`` entries it holds from the workspace; ``metrics`` maps each
    metrics file to its parsed content.
    """

    name: str
    baseline: str
    ref: str
    sha: str
    step: int
    recorded: bool = True
    created: bool = False
    stages: tuple[str, ...] = ()
    exp_hash: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        """The checkpoint's number in its experiment, counting from 1."""
        return self.step + 1


@dataclass(frozen=True)
class CheckpointTarget:
    """The experiment the next workspace checkpoint goes to (see :func:`checkpoint_target`).

    ``tip`` is its last commit, None when the checkpoint will create it; ``replace``
    says that an existing experiment of that name is to be replaced (``reset`` with
    ``force``).
    """

    name: str
    baseline: str
    tip: str | None
    replace: bool = False


def checkpoint_target(
    git: Git, baseline: str, name: str | None = None, *, reset: bool = False, force: bool = False
) -> CheckpointTarget:
    """The experiment of ``baseline`` the next workspace checkpoint goes to.

    ``name`` continues that experiment when it exists and creates it otherwise;
    ``reset`` always starts a new one (an existing ``name`` then needs ``force``).
    Without ``name``: the experiment whose tip is ``EXEC_CHECKPOINT`` unless
    ``reset``, else a fresh random name. Raises :class:`InvalidExperimentNameError`
    and :class:`ExperimentExistsError`; writes nothing.
    """
    if name is None:
        if not reset:
            found = _workspace_experiment(git, baseline)
            if found is not None:
                return CheckpointTarget(found[0], baseline, found[1])
        return CheckpointTarget(fresh_name(git, baseline), baseline, None)
    validate_name(name)
    ref = ExpRef(baseline, name).ref
    if not git.is_valid_ref_name(ref):
        raise InvalidExperimentNameError(name, "Git does not accept it in a ref name")
    tip = git.ref_sha(ref)
    if tip is None:
        return CheckpointTarget(name, baseline, None)
    if not reset:
        return CheckpointTarget(name, baseline, tip)
    if not force:
        raise ExperimentExistsError(name)
    return CheckpointTarget(name, baseline, None, replace=True)


def _workspace_experiment(git: Git, baseline: str) -> tuple[str, str] | None:
    """(name, tip) of ``baseline``'s experiment whose tip ``EXEC_CHECKPOINT`` is."""
    marker = git.ref_sha(EXEC_CHECKPOINT)
    if marker is None or marker == baseline:
        return None
    names = sorted(
        parsed.name
        for info in git.refs(baseline_prefix(baseline))
        if info.sha == marker and (parsed := ExpRef.parse(info.ref)) is not None
    )
    return (names[0], marker) if names else None


def record_workspace_checkpoint(
    repo: Repo,
    *,
    name: str | None = None,
    message: str | None = None,
    reset: bool = False,
    force: bool = False,
    on_event: EventSink = ignore_events,
) -> CheckpointResult:
    """Commit the workspace's stages and record it as the next checkpoint (see module doc).

    ``name``, ``reset`` and ``force`` choose the experiment as :func:`checkpoint_target`
    does; ``message`` is the commit message (default: DVC's, with the experiment hash).
    Emits :class:`CheckpointTaken` (``stage``: the stages it holds, comma separated;
    ``count``: the checkpoint's number). Raises name errors, :class:`DataError` when
    a ``*.dvc`` file's data is missing, :class:`ExperimentError` when the ref keeps
    moving.
    """
    started = time.monotonic()
    git = Git.find(repo.root)
    baseline = require_baseline(git)
    target = checkpoint_target(git, baseline, name, reset=reset, force=force)
    with repo.lock(timeout=_LOCK_TIMEOUT):
        index = Index.load(repo)
        ready = [s for s in index.stages if _ready(repo, s)]
        committed = commit_stages(repo, index, ready, on_event, run_cache=False)
        index = Index.load(repo)  # dvc.lock and .dvc files may have changed
        tree = git.workspace_tree(add_paths=git_paths(git, repo, paths_to_track(repo, index)))
        digest = exp_hash(repo, index, committed)
        metrics = read_metrics(repo, index)
        sha, created, recorded = _append(git, target, tree, message or default_message(digest))
    step = len(git.first_parent_chain(sha, baseline)) - 1
    result = CheckpointResult(
        name=target.name,
        baseline=baseline,
        ref=ExpRef(baseline, target.name).ref,
        sha=sha,
        step=step,
        recorded=recorded,
        created=created,
        stages=tuple(committed),
        exp_hash=digest,
        metrics=metrics,
    )
    if recorded:
        on_event(CheckpointTaken(", ".join(committed), result.number, time.monotonic() - started))
    return result


def _ready(repo: Repo, stage: Stage) -> bool:
    """True when every output (and, for a pipeline stage, dependency) of ``stage`` exists."""
    paths = [o.repo_path for o in stage.outs]
    if not stage.is_data_source:
        paths += [d.repo_path for d in stage.deps]
    return bool(stage.outs) and all(repo.abspath(p).exists() for p in paths)


def _append(git: Git, target: CheckpointTarget, tree: str, message: str) -> tuple[str, bool, bool]:
    """Commit ``tree`` on the experiment's tip and move its ref and ``EXEC_CHECKPOINT``.

    Returns (commit, created the experiment, recorded). A tree equal to
    the tip's records nothing (the tip is returned). When another writer moved the ref
    between our read and our write, the commit is remade on the new tip.
    """
    ref = ExpRef(target.baseline, target.name).ref
    replace = target.replace
    for _ in range(_ATTEMPTS):
        current = git.ref_sha(ref)
        if replace:
            parent, old = target.baseline, current or ZERO_SHA
        elif current is None:
            parent, old = target.baseline, ZERO_SHA
        else:
            parent, old = current, current
            if git.tree_of(current) == tree:
                if git.ref_sha(EXEC_CHECKPOINT) != current:
                    git.update_refs([(EXEC_CHECKPOINT, current, None)])
                return current, False, False
        sha = git.commit_tree(tree, [parent], message)
        try:
            git.update_refs([(ref, sha, old), (EXEC_CHECKPOINT, sha, None)])
        except GitError:
            replace = False  # someone else wrote the ref: append to what they wrote
            continue
        return sha, parent == target.baseline, True
    raise ExperimentError(f"could not record a checkpoint of '{target.name}': its ref kept moving")
