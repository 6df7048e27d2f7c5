"""Checkpoint experiments: a chain of commits on one experiment ref, resumable.

A stage with an output marked ``checkpoint: true`` signals checkpoints while it runs
(:mod:`jupyter_exp.core.checkpoint_signal`). In an experiment run each checkpoint
becomes a commit appended to the experiment's ref, holding that moment's params,
metrics and ``dvc.lock`` (whose hashes point at the outputs just cached): the first
checkpoint's parent is the baseline (or the checkpoint resumed from), each next one's
the previous checkpoint, so first parents lead back to the baseline as in DVC 2. At the
end of the run a wrap-up checkpoint is added when the workspace changed since the last
one (downstream stages ran, the command wrote more before exiting). Each ref update is
atomic, so an interrupted run keeps every checkpoint taken.

Resuming (:func:`plan_checkpoints`): a workspace run continues from the checkpoint the
workspace holds, the last one recorded there (``refs/exps/exec/EXEC_CHECKPOINT``, DVC
2's ref) or the one ``exp apply`` restored (``EXEC_APPLY``), when the workspace's
``dvc.lock`` records that checkpoint's outputs and its chain starts at ``HEAD``. The
outputs are restored from the cache (the command may have written past the checkpoint
before it was interrupted), and the commits are appended to that experiment (or, from a
checkpoint that is not a tip, to a new experiment branching there). ``--reset`` deletes
the checkpoint outputs and starts a new chain at ``HEAD``. ``--temp`` and queued runs
start over unless ``--rev`` names the checkpoint to continue.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.cache import Cache
from ..core.checkout import checkout
from ..core.checkpoint_signal import is_checkpoint_stage
from ..core.fsutil import remove_path
from ..core.hashing import hash_path
from ..core.index import Index
from ..core.lockfile import read_lockfile
from ..core.objects import LockEntry
from ..core.pipeline.model import Stage
from ..core.repo import Repo
from ..core.state import StateDB, state_path
from ..core.yamlio import load_yaml
from ..errors import InvalidArgumentError
from ..git import Git
from .executors.base import ExpJob
from .lookup import Experiment, find_experiment
from .refs import EXEC_APPLY, EXEC_NAMESPACE, ExpRef, baseline_prefix
from .revision import git_prefix

if TYPE_CHECKING:
    from .checkpoint_recorder import CheckpointRecorder

__all__ = [
    "EXEC_CHECKPOINT",
    "Checkpoint",
    "CheckpointPlan",
    "checkpoint_chain",
    "checkpoint_stages",
    "plan_checkpoints",
    "prepare_checkpoints",
    "resolve_checkpoint",
]

# DVC 2's ref for the last checkpoint recorded from the workspace.
EXEC_CHECKPOINT = f"{EXEC_NAMESPACE}/EXEC_CHECKPOINT"


@dataclass(frozen=True)
class Checkpoint:
    """One commit of a checkpoint chain; ``step`` 0 is the first after the baseline."""

    sha: str
    step: int
    parent: str
    timestamp: int
    message: str


@dataclass(frozen=True)
class CheckpointPlan:
    """Where an experiment's checkpoint stages start from.

    ``parent`` is the commit the run's first checkpoint follows: the baseline, or the
    checkpoint resumed. ``name`` is the experiment whose tip ``parent`` is (the run
    appends to it), None for a new experiment. ``reset`` deletes the checkpoint outputs
    before running; ``restore`` checks them out from the cache as ``dvc.lock`` records
    them (a workspace resume); ``marker`` keeps ``EXEC_CHECKPOINT`` at the last commit
    (runs in the workspace).
    """

    parent: str
    baseline: str
    name: str | None = None
    reset: bool = False
    restore: bool = False
    marker: bool = False


def checkpoint_stages(index: Index) -> list[Stage]:
    """The pipeline's stages with a ``checkpoint: true`` output."""
    return [s for s in index.stages if not s.is_data_source and is_checkpoint_stage(s)]


# --- chains ----------------------------------------------------------------------------------


def checkpoint_chain(git: Git, exp: Experiment) -> list[Checkpoint]:
    """The commits of ``exp`` from its baseline to its tip (oldest first), one git call.

    An experiment of ours without checkpoints is a chain of one.
    """
    chain = git.first_parent_chain(exp.sha, exp.baseline)
    total = len(chain)
    return [
        Checkpoint(
            sha=info.sha,
            step=total - 1 - i,
            parent=info.parents[0] if info.parents else "",
            timestamp=info.timestamp,
            message=info.subject,
        )
        for i, info in enumerate(chain)
    ][::-1]


def resolve_checkpoint(git: Git, spec: str) -> CheckpointPlan:
    """``--rev``: the checkpoint ``spec`` names (experiment name, ref or commit prefix).

    A name or ref means its tip. Raises :class:`ExperimentNotFoundError`.
    """
    exp = find_experiment(git, spec)
    tip = git.ref_sha(exp.ref.ref)
    return CheckpointPlan(
        parent=exp.sha, baseline=exp.baseline, name=exp.name if tip == exp.sha else None
    )


# --- planning a run -----------------------------------------------------------------------


def plan_checkpoints(
    repo: Repo,
    git: Git,
    baseline: str,
    *,
    temp: bool,
    reset: bool = False,
    rev: str | None = None,
) -> CheckpointPlan | None:
    """How checkpoint stages start in this run; None when the pipeline has none.

    Raises :class:`InvalidArgumentError` for ``rev`` with ``reset``, ``rev`` in the
    workspace (apply the checkpoint first, as with DVC) or ``rev`` on a pipeline without
    checkpoint outputs.
    """
    if rev is not None and reset:
        raise InvalidArgumentError("--rev and --reset cannot be used together", argument="--rev")
    stages = checkpoint_stages(Index.load(repo))
    if not stages:
        if rev is not None:
            raise InvalidArgumentError(
                "--rev resumes a checkpoint experiment: no stage has a checkpoint output",
                argument="--rev",
            )
        return None
    if rev is not None:
        if not temp:
            raise InvalidArgumentError(
                "--rev only applies to --temp and --queue runs: apply the checkpoint "
                "(jupyter exp apply) and run again to resume it in the workspace",
                argument="--rev",
            )
        return resolve_checkpoint(git, rev)
    if temp or reset:
        return CheckpointPlan(parent=baseline, baseline=baseline, reset=True, marker=not temp)
    found = _workspace_checkpoint(repo, git, stages, baseline)
    if found is None:
        return CheckpointPlan(parent=baseline, baseline=baseline, marker=True)
    sha, name = found
    return CheckpointPlan(parent=sha, baseline=baseline, name=name, restore=True, marker=True)


def _workspace_checkpoint(
    repo: Repo, git: Git, stages: list[Stage], baseline: str
) -> tuple[str, str | None] | None:
    """The checkpoint the workspace holds, and the experiment whose tip it is."""
    current = _workspace_hashes(repo, stages)
    if not current:
        return None
    prefix = git_prefix(repo, git)
    for marker in (EXEC_CHECKPOINT, EXEC_APPLY):
        sha = git.ref_sha(marker)
        if sha is None or sha == baseline:
            continue
        chain = git.first_parent_chain(sha, baseline)
        if not chain or chain[-1].parents[:1] != (baseline,):
            continue  # not a chain of experiment commits on this baseline
        if _hashes_at(git, prefix, sha, stages) != current:
            continue
        tips = sorted(
            parsed.name
            for info in git.refs(baseline_prefix(baseline))
            if info.sha == sha and (parsed := ExpRef.parse(info.ref)) is not None
        )
        return sha, (tips[0] if tips else None)
    return None


def _workspace_hashes(repo: Repo, stages: list[Stage]) -> dict[tuple[str, str, str], str]:
    found = {}
    locks: dict[str, dict[str, LockEntry]] = {}
    for stage in stages:
        if stage.lockfile not in locks:
            locks[stage.lockfile] = read_lockfile(repo, stage.lockfile)
        entry = locks[stage.lockfile].get(stage.name)
        for out in stage.outs:
            info = entry.outs.get(out.def_path) if entry else None
            if out.checkpoint and info is not None:
                found[(stage.lockfile, stage.name, out.def_path)] = info.md5
    return found


def _hashes_at(
    git: Git, prefix: str, sha: str, stages: list[Stage]
) -> dict[tuple[str, str, str], str]:
    """What ``sha``'s lock files record for the checkpoint outputs of ``stages``."""
    lockfiles = sorted({s.lockfile for s in stages})
    texts = git.read_files(sha, [prefix + path for path in lockfiles])
    found = {}
    for lockfile in lockfiles:
        raw = texts.get(prefix + lockfile)
        try:
            data = load_yaml(raw.decode("utf-8"), lockfile) if raw else None
        except Exception:  # an unreadable lock matches nothing
            data = None
        recorded = (data or {}).get("stages") if isinstance(data, dict) else None
        for stage in stages:
            if stage.lockfile != lockfile or not isinstance(recorded, dict):
                continue
            outs = _lock_outs(recorded.get(stage.name))
            for out in stage.outs:
                if out.checkpoint and out.def_path in outs:
                    found[(lockfile, stage.name, out.def_path)] = outs[out.def_path]
    return found


def _lock_outs(entry: Any) -> dict[str, str]:
    outs = entry.get("outs") if isinstance(entry, dict) else None
    return {
        str(item["path"]): str(item["md5"])
        for item in outs or ()
        if isinstance(item, dict) and "path" in item and "md5" in item
    }


# --- before the run ------------------------------------------------------------------------


def start_checkpoints(
    repo: Repo, work_git: Git, git: Git, job: ExpJob, *, temp: bool, exclude: Iterable[str] = ()
) -> CheckpointRecorder | None:
    """Before an experiment runs in ``repo``: prepare its checkpoint outputs and return
    the recorder to pass as ``on_checkpoint`` (None when no stage has checkpoints).

    ``job.checkpoints`` says where to start; without it a workspace run resumes what the
    workspace holds and a ``temp`` run (a queued one) starts over.
    """
    if job.options.dry or not checkpoint_stages(Index.load(repo)):
        return None
    plan = job.checkpoints or plan_checkpoints(repo, git, job.baseline, temp=temp)
    assert plan is not None
    prepare_checkpoints(repo, plan, git)
    from .checkpoint_recorder import CheckpointRecorder

    return CheckpointRecorder(
        repo,
        work_git,
        git,
        plan,
        name=job.name,
        explicit=job.explicit,
        force=job.force,
        message=job.message,
        exclude=tuple(exclude),
    )


def prepare_checkpoints(repo: Repo, plan: CheckpointPlan, git: Git | None = None) -> list[str]:
    """Reset or restore the checkpoint outputs as ``plan`` says; return the paths changed.

    Reset deletes them (content found nowhere else is saved to the cache first) and,
    given ``git``, forgets the workspace's last checkpoint. Restore checks them out from
    the cache as ``dvc.lock`` records them, as plain copies: the command rewrites them in
    place, which must never write through a link into the cache.
    """
    if plan.reset and plan.marker and git is not None and git.ref_sha(EXEC_CHECKPOINT):
        git.delete_ref(EXEC_CHECKPOINT)
    stages = checkpoint_stages(Index.load(repo))
    cache = Cache(repo)
    changed = []
    with StateDB(state_path(repo.tmp_dir)) as state:
        recorded = _workspace_entries(repo, stages) if plan.restore else {}
        for stage in stages:
            for out in stage.outs:
                if not out.checkpoint:
                    continue
                path = repo.abspath(out.repo_path)
                current = hash_path(repo, out.repo_path, state)
                if plan.reset:
                    if current is not None:
                        if out.cache and not cache.has(current[0], current[1]):
                            cache.save(path, current[0], current[1])
                        remove_path(path)
                        changed.append(out.repo_path)
                    continue
                info = recorded.get((stage.name, out.def_path))
                if info is None or not out.cache:
                    continue
                if current is not None and current[0].md5 == info.md5:
                    _unlink_from_cache(path)
                    continue
                if cache.has(info):
                    checkout(cache, info, path, ("copy",), state=state)
                    changed.append(out.repo_path)
    return changed


def _workspace_entries(repo: Repo, stages: list[Stage]) -> dict[tuple[str, str], Any]:
    found = {}
    for stage in stages:
        entry = read_lockfile(repo, stage.lockfile).get(stage.name)
        for def_path, info in (entry.outs if entry else {}).items():
            found[(stage.name, def_path)] = info
    return found


def _unlink_from_cache(path: os.PathLike[str]) -> None:
    """Replace a symlink or hard link into the cache by a writable copy."""
    for file in _files(path):
        st = os.lstat(file)
        if stat.S_ISLNK(st.st_mode) or st.st_nlink > 1:
            tmp = f"{file}.jupyter-exp-tmp"
            shutil.copyfile(file, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, file)


def _files(path: os.PathLike[str]) -> Iterable[str]:
    if os.path.isdir(path) and not os.path.islink(path):
        for folder, _dirs, names in os.walk(path):
            for name in names:
                yield os.path.join(folder, name)
    elif os.path.lexists(path):
        yield os.fspath(path)
