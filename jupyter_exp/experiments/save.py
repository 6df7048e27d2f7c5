"""``exp save``: record the workspace as it is as an experiment, running nothing.

As ``dvc exp save``: the stages are committed first (``dvc commit --force``: each
stage's ``dvc.lock`` entry is rewritten from the workspace and its cached outputs are
saved to the cache; a ``*.dvc`` file whose data changed is re-added), then the
workspace is recorded like the result of ``exp run``. ``include_untracked`` paths are
added even when untracked or git-ignored, because the user named them. A workspace
identical to the baseline or to one of its experiments records nothing (``identical_to``
says which).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.add import add
from ..core.context import RunContext
from ..core.gitignore import ensure_ignored
from ..core.index import Index
from ..core.objects import HashInfo, LockEntry
from ..core.params import stage_params_values
from ..core.pipeline.model import Stage
from ..core.repo import Repo
from ..core.runcache import RunCache, is_cacheable
from ..core.status import stage_status
from ..errors import DataError, InvalidArgumentError, MissingDependencyError
from ..events import EventSink, LockfileUpdated, ignore_events
from ..git import Git
from .executors.base import (
    ExpResult,
    choose_name,
    default_message,
    exp_hash,
    git_paths,
    paths_to_track,
    read_metrics,
    record,
    require_baseline,
)

__all__ = ["commit_stages", "save_experiment"]

_LOCK_TIMEOUT = 30.0


def save_experiment(
    repo: Repo,
    *,
    targets: Sequence[str] = (),
    recursive: bool = False,
    name: str | None = None,
    message: str | None = None,
    force: bool = False,
    include_untracked: Sequence[str] = (),
    on_event: EventSink = ignore_events,
) -> ExpResult:
    """Commit the stages (``targets``, default all) and record the workspace.

    ``include_untracked`` paths are relative to the cwd. Raises
    :class:`InvalidExperimentNameError` / :class:`ExperimentExistsError` for the name,
    :class:`InvalidArgumentError` for an ``include_untracked`` path that does not
    exist, :class:`DataError` when a stage's output or dependency is missing.
    """
    git = Git.find(repo.root)
    baseline = require_baseline(git)
    chosen, explicit = choose_name(git, baseline, name, force)
    extra = []
    for path in include_untracked:
        rel = repo.relpath(path)
        if not repo.abspath(rel).exists():
            raise InvalidArgumentError(f"path '{path}' does not exist", argument=path)
        extra.append(rel)
    with repo.lock(timeout=_LOCK_TIMEOUT):
        index = Index.load(repo)
        selected = index.resolve(tuple(targets), recursive=recursive) if targets else index.stages
        committed = commit_stages(repo, index, selected, on_event)
        index = Index.load(repo)  # .dvc files and dvc.lock may have changed
        paths = paths_to_track(repo, index)
        tree = git.workspace_tree(
            add_paths=git_paths(git, repo, paths), force_paths=git_paths(git, repo, extra)
        )
        digest = exp_hash(repo, index, committed)
        metrics = read_metrics(repo, index)
    done = record(
        git,
        baseline=baseline,
        tree=tree,
        name=chosen,
        explicit=explicit,
        force=force,
        message=message or default_message(digest),
    )
    return ExpResult(
        name=done.name,
        baseline=baseline,
        ref=done.ref,
        sha=done.sha,
        identical_to=done.identical_to,
        exp_hash=digest,
        metrics=metrics,
    )


def commit_stages(
    repo: Repo,
    index: Index,
    stages: Sequence[Stage],
    on_event: EventSink = ignore_events,
    *,
    run_cache: bool = True,
) -> list[str]:
    """Record the workspace state of ``stages`` as ``dvc commit --force`` does.

    Returns the addresses of the pipeline stages committed, in order. Callers hold the
    repository lock. ``run_cache`` False records no run-cache entry (the outputs are a
    moment of work in progress, not what the stage's command produces).
    """
    ctx = RunContext(repo, index.recorded)
    runcache = RunCache(repo)
    committed: list[str] = []
    try:
        for stage in stages:
            if stage.is_data_source:
                _commit_source(repo, ctx, stage)
                continue
            cacheable = run_cache and is_cacheable(stage)
            entry = _lock_entry(repo, ctx, stage, cache_all=cacheable)
            if ctx.write_lock_entry(stage, entry):
                on_event(LockfileUpdated(path=stage.lockfile, stages=(stage.address,)))
            if cacheable:  # DVC's commit records the run in the run-cache too
                runcache.save(entry)
            committed.append(stage.address)
    finally:
        ctx.close()
    return committed


def _lock_entry(repo: Repo, ctx: RunContext, stage: Stage, *, cache_all: bool) -> LockEntry:
    outs: dict[str, HashInfo] = {}
    for out in stage.outs:
        hashed = ctx.hash(out.repo_path)
        if hashed is None:
            raise DataError(f"stage '{stage.address}': output '{out.def_path}' does not exist")
        info, tree = hashed
        # The run-cache needs every output in the cache, `cache: false` ones too.
        if out.cache or cache_all:
            ctx.cache.save(repo.abspath(out.repo_path), info, tree)
        if out.cache:
            ensure_ignored(repo, out.repo_path)
        outs[out.def_path] = info
    deps: dict[str, HashInfo] = {}
    for dep in stage.deps:
        hashed = ctx.hash(dep.repo_path)
        if hashed is None:
            raise MissingDependencyError(dep.repo_path, stage=stage.address)
        deps[dep.def_path] = hashed[0]
    params = stage_params_values(repo, stage)
    return LockEntry(cmd=stage.cmd or "", deps=deps, params=params, outs=outs)


def _commit_source(repo: Repo, ctx: RunContext, stage: Stage) -> None:
    """Re-add a ``*.dvc`` data source whose data changed; a missing one is an error."""
    status = stage_status(ctx, stage)
    for out in stage.outs:
        state = status.outs.get(out.repo_path)
        if state is None:
            continue
        if not repo.abspath(out.repo_path).exists():
            raise DataError(f"'{stage.dvcfile}': output '{out.def_path}' does not exist")
        add(repo, out.repo_path)  # caches the data and rewrites the .dvc file
