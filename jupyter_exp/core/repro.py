"""Reproduce a pipeline the way ``dvc repro`` does, reporting progress as events.

Plan: pick the stages the targets and flags cover, in dependency order, and check
before anything runs that their inputs exist. Then, stage by stage: skip what is up to
date; restore outputs from the cache when only they are missing, or from the run-cache
when this exact command/deps/params signature ran before; otherwise run the command,
cache the outputs and record the stage in ``dvc.lock`` at once, so a later failure
keeps every stage that already succeeded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..errors import (
    DataError,
    JupyterExpError,
    MissingDependencyError,
    MissingOutputError,
    ReproductionFailedError,
    StageFailedError,
)
from ..events import (
    DataSourceChecked,
    EventSink,
    LockfileUpdated,
    StageCompleted,
    StageFailed,
    StageRestored,
    StageSkipped,
    StageStarted,
)
from . import uptodate
from .add import add
from .cancel import CancelToken
from .checkout import checkout
from .checkpoint_signal import is_checkpoint_stage, watch_checkpoints
from .context import RunContext
from .fsutil import remove_path
from .gitignore import ensure_ignored
from .index import Index
from .objects import HashInfo, LockEntry
from .params import stage_params_values
from .pipeline.model import Output, Stage
from .repo import Repo
from .runcache import RunCache, is_cacheable
from .runlock import run_once
from .stages import in_process_runner
from .stages.shell import run_command
from .status import StageStatus, stage_status
from .watchlist import watched_paths

Outcome = Literal["ran", "restored", "skipped", "committed", "dry", "failed"]


@dataclass(frozen=True)
class ReproOptions:
    """The flags of ``repro`` (see ``jupyter exp repro --help``)."""

    targets: tuple[str, ...] = ()
    force: bool = False
    single_item: bool = False
    pipeline: bool = False
    all_pipelines: bool = False
    recursive: bool = False
    downstream: bool = False
    force_downstream: bool = False
    keep_going: bool = False
    ignore_errors: bool = False
    dry: bool = False
    interactive: Callable[[str], bool] | None = None
    allow_missing: bool = False
    run_cache: bool = True
    env: dict[str, str] = field(default_factory=dict)
    # Checkpoint stages (an output marked `checkpoint: true`, see checkpoint_signal.py):
    # called after each checkpoint is committed; and whether they run (resume) even
    # when their inputs are unchanged, as an experiment run wants.
    on_checkpoint: Callable[[Stage, LockEntry], None] | None = None
    resume_checkpoints: bool = False
    # Stops the run from another thread (see cancel.py); not a flag of what to run, so
    # it takes no part in comparing options (the up-to-date stamp's key).
    cancel: CancelToken | None = field(default=None, compare=False)


@dataclass
class ReproResult:
    """What a reproduction did, by stage address."""

    ran: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    dry: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Files a Git user may want to stage: lock files and .gitignore files written.
    touched: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when anything in the workspace or a lock file changed."""
        return bool(self.ran or self.restored or self.committed)


def plan(index: Index, options: ReproOptions) -> list[Stage]:
    """The stages ``options`` cover, parents first."""
    graph = index.graph
    if options.all_pipelines:
        return graph.topological()
    roots = (
        index.resolve(options.targets, recursive=options.recursive)
        if options.targets
        else index.default_targets()
    )
    if options.single_item:
        selected = {id(s) for s in roots}
    elif options.pipeline:
        selected = graph.component(roots)
    elif options.downstream:
        selected = graph.with_downstream(roots)
    else:
        selected = graph.with_upstream(roots)
    return graph.topological(selected)


def stamp_key(options: ReproOptions) -> str | None:
    """The up-to-date stamp's key for these options; None when they cannot use it.

    Only a plain ``repro`` (no targets, nothing forced, restricted or simulated) is
    answered from the stamp; flags that cannot change a no-op's outcome are allowed.
    """
    plain = ReproOptions(
        keep_going=options.keep_going,
        ignore_errors=options.ignore_errors,
        run_cache=options.run_cache,
        env=options.env,
    )
    return uptodate.repro_key() if options == plain else None


def reproduce(repo: Repo, options: ReproOptions, on_event: EventSink) -> ReproResult:
    """Load, validate, plan and run; raise :class:`StageFailedError` on failure."""
    key = stamp_key(options)
    if key is not None:
        entries = uptodate.check(str(repo.root), key)
        if entries is not None:
            return ReproResult(skipped=uptodate.replay(entries, on_event))
    with repo.lock():
        index = Index.load(repo)
        stages = plan(index, options)
        _check_inputs(index, stages, options)
        ctx = RunContext(repo, index.recorded)
        try:
            result = _Reproducer(ctx, index, options, on_event).run(stages)
            if key is not None:
                _record_stamp(key, index, ctx, stages, result)
            elif result.changed:
                uptodate.discard(str(repo.root))
            return result
        finally:
            ctx.close()


def _record_stamp(
    key: str, index: Index, ctx: RunContext, stages: list[Stage], result: ReproResult
) -> None:
    """Stamp a run that found everything up to date; drop the stamp otherwise."""
    root = str(index.repo.root)
    if result.changed or result.failed or result.dry:
        uptodate.discard(root)
        return
    if any(s.always_changed for s in stages):
        return
    entries = [["source" if s.is_data_source else "stage", s.address] for s in stages]
    uptodate.write(root, key, entries, watched_paths(index, ctx, stages))


def _check_inputs(index: Index, stages: list[Stage], options: ReproOptions) -> None:
    """Missing deps, params files and keys are errors before any command runs."""
    repo = index.repo
    planned = {id(s) for s in stages}
    for stage in stages:
        if stage.is_data_source:
            continue
        for dep in stage.deps:
            producer = index.graph.outputs.stage_of(dep.repo_path)
            produced_here = producer is not None and id(producer) in planned
            if produced_here or repo.abspath(dep.repo_path).exists():
                continue
            if producer is not None and producer.is_data_source:
                continue  # restored from the cache when the data source is verified
            if not options.allow_missing:
                raise MissingDependencyError(dep.repo_path, stage=stage.address)
        if not any(index.graph.outputs.stage_of(p.repo_path) for p in stage.params):
            stage_params_values(repo, stage)


def _run_cacheable(stage: Stage) -> bool:
    # A checkpoint stage's outputs depend on where it resumed from, not only its inputs.
    return is_cacheable(stage) and not is_checkpoint_stage(stage)


class _Reproducer:
    def __init__(
        self, ctx: RunContext, index: Index, options: ReproOptions, on_event: EventSink
    ) -> None:
        self.ctx = ctx
        self.repo = ctx.repo
        self.index = index
        self.options = options
        self.emit = on_event
        self.result = ReproResult()
        self.runcache = RunCache(self.repo)
        self.link_types = self.repo.config.link_types
        self._checkpointed: dict[str, LockEntry] = {}  # last checkpoint of each stage

    def run(self, stages: list[Stage]) -> ReproResult:
        graph = self.index.graph
        forced: set[int] = set()
        failed: set[int] = set()
        failures: list[JupyterExpError] = []
        total = sum(1 for s in stages if not s.is_data_source)
        position = 0
        for stage in stages:
            if self.options.cancel is not None:
                self.options.cancel.check()
            position += 0 if stage.is_data_source else 1
            if not self.options.ignore_errors and any(
                id(p) in failed for p in graph.parents(stage)
            ):
                failed.add(id(stage))
                self.emit(StageSkipped(stage=stage.address, reason="upstream-failed"))
                self.result.skipped.append(stage.address)
                continue
            try:
                outcome = self._one(stage, id(stage) in forced, position, total)
            except (StageFailedError, DataError) as error:
                failed.add(id(stage))
                failures.append(error)
                self.result.failed.append(stage.address)
                if not (self.options.keep_going or self.options.ignore_errors):
                    raise
                continue
            if self.options.force_downstream and outcome in ("ran", "restored", "dry"):
                forced |= graph.with_downstream([stage])
        if failures:
            raise failures[0] if len(failures) == 1 else ReproductionFailedError(failures)
        return self.result

    # --- one stage -----------------------------------------------------------------------

    def _one(self, stage: Stage, forced: bool, position: int, total: int) -> Outcome:
        if stage.is_data_source:
            return self._verify_source(stage)
        options = self.options
        status = stage_status(self.ctx, stage)
        forced = forced or options.force
        forced = forced or (options.resume_checkpoints and is_checkpoint_stage(stage))
        if not forced and not status.changed(allow_missing=options.allow_missing):
            reason = "frozen" if stage.frozen else "unchanged"
            self.emit(StageSkipped(stage=stage.address, reason=reason))
            self.result.skipped.append(stage.address)
            return "skipped"
        if options.dry:
            self._started(stage, status, position, total)
            self.result.dry.append(stage.address)
            return "dry"
        if options.interactive is not None and not options.interactive(stage.address):
            self.emit(StageSkipped(stage=stage.address, reason="declined"))
            self.result.skipped.append(stage.address)
            return "skipped"
        if not forced and status.only_outputs_missing and self._restore_from_lock(stage):
            return self._restored(stage, "cache")
        shared = not forced and options.run_cache and _run_cacheable(stage)
        # Processes sharing the cache run a signature once; the others wait, then restore.
        with run_once(self.repo, stage, self._dep_hashes(stage) if shared else None):
            if shared and self._restore_from_runcache(stage):
                return self._restored(stage, "run-cache")
            self._execute(stage, status, position, total)
        return "ran"

    def _started(self, stage: Stage, status: StageStatus, position: int, total: int) -> None:
        self.emit(
            StageStarted(
                stage=stage.address,
                cmd=stage.cmd_text,
                reasons=status.reasons(),
                index=position,
                total=total,
            )
        )

    def _restored(self, stage: Stage, source: Literal["run-cache", "cache"]) -> Outcome:
        self.emit(StageRestored(stage=stage.address, source=source))
        self.result.restored.append(stage.address)
        return "restored"

    # --- restoring -----------------------------------------------------------------------

    def _restore_outputs(self, stage: Stage, recorded: dict[str, HashInfo]) -> bool:
        """Check out every output from the cache if all of them are there."""
        if any(
            recorded.get(out.def_path) is None or not self.ctx.cache.has(recorded[out.def_path])
            for out in stage.outs
        ):
            return False
        for out in stage.outs:
            info = recorded[out.def_path]
            link_types = self.link_types if out.cache else ("copy",)
            checkout(self.ctx.cache, info, self.repo.abspath(out.repo_path), link_types)
            if out.cache:
                self._ignore(out)
        self.ctx.forget([o.repo_path for o in stage.outs])
        return True

    def _restore_from_lock(self, stage: Stage) -> bool:
        entry = self.ctx.lock_entry(stage)
        return entry is not None and self._restore_outputs(stage, entry.outs)

    def _restore_from_runcache(self, stage: Stage) -> bool:
        deps = self._dep_hashes(stage)
        if deps is None:
            return False
        probe = LockEntry(
            cmd=stage.cmd or "", deps=deps, params=stage_params_values(self.repo, stage)
        )
        hit = self.runcache.lookup(probe, [o.def_path for o in stage.outs])
        if hit is None or not self._restore_outputs(stage, hit.outs):
            return False
        entry = LockEntry(cmd=probe.cmd, deps=deps, params=probe.params, outs=dict(hit.outs))
        self._write_lock(stage, entry)
        return True

    # --- running -------------------------------------------------------------------------

    def _execute(self, stage: Stage, status: StageStatus, position: int, total: int) -> None:
        self._started(stage, status, position, total)
        started = time.monotonic()
        self._clear_outputs(stage)
        env = {
            **os.environ,
            "DVC_ROOT": str(self.repo.root),
            "DVC_STAGE": stage.address,
            **self.options.env,
        }
        commands = stage.cmd if isinstance(stage.cmd, list) else [stage.cmd or ""]
        cwd = self.repo.abspath(stage.wdir)
        checkpoint = lambda: self._checkpoint(stage)  # noqa: E731
        with watch_checkpoints(self.repo.root, stage, env, checkpoint, self.emit):
            for command in commands:
                runner = in_process_runner(command)
                if runner is not None:
                    code = runner(
                        cwd=cwd,
                        env=env,
                        stage=stage.address,
                        on_event=self.emit,
                        cancel=self.options.cancel,
                    )
                else:
                    code = run_command(
                        command,
                        cwd=cwd,
                        env=env,
                        stage=stage.address,
                        on_event=self.emit,
                        cancel=self.options.cancel,
                    )
                if self.options.cancel is not None:
                    self.options.cancel.check(stage.address)  # stopped as it ended
                if code != 0:
                    error = StageFailedError(stage.address, code, command)
                    self.emit(StageFailed(stage=stage.address, returncode=code, message=str(error)))
                    raise error
        self.ctx.forget([o.repo_path for o in stage.outs] + [d.repo_path for d in stage.deps])
        entry = self._commit(stage)
        self._write_lock(stage, entry)
        if self.options.run_cache and _run_cacheable(stage):
            self.runcache.save(entry)
        self.emit(StageCompleted(stage=stage.address, duration=time.monotonic() - started))
        self.result.ran.append(stage.address)

    def _clear_outputs(self, stage: Stage) -> None:
        """Delete outputs before the command runs, as DVC does (except ``persist``).

        A cached output whose current content is not in the cache yet (edited by hand
        since the last run) is saved there first, so nothing the user had is lost.
        """
        for out in stage.outs:
            path = self.repo.abspath(out.repo_path)
            # A checkpoint output is the state a checkpoint stage resumes from.
            if out.persist or out.checkpoint or not (path.exists() or path.is_symlink()):
                continue
            current = self.ctx.hash(out.repo_path)
            if out.cache and current is not None and not self.ctx.cache.has(current[0]):
                self.ctx.cache.save(path, current[0], current[1])
            remove_path(path)
        self.ctx.forget([o.repo_path for o in stage.outs])

    def _checkpoint(self, stage: Stage) -> bool:
        """A checkpoint signalled by the running command: commit, record, tell.

        False when nothing changed since the stage's last checkpoint in this run (a
        signal seen twice while its writer was still creating the file).
        """
        self.ctx.forget([o.repo_path for o in stage.outs] + [d.repo_path for d in stage.deps])
        entry = self._commit(stage, relink=False)
        if self._checkpointed.get(stage.address) == entry:
            return False
        self._checkpointed[stage.address] = entry
        self._write_lock(stage, entry)
        if self.options.on_checkpoint is not None:
            self.options.on_checkpoint(stage, entry)
        return True

    def _commit(self, stage: Stage, *, relink: bool = True) -> LockEntry:
        """Hash and cache the outputs of a finished command; build its lock entry.

        ``relink`` False (a checkpoint: the command still writes its outputs) keeps the
        workspace copies as they are instead of linking them to the cache.
        """
        outs: dict[str, HashInfo] = {}
        # The run-cache needs every output in the cache, cached or not (as in DVC).
        keep_all = self.options.run_cache and _run_cacheable(stage)
        for out in stage.outs:
            hashed = self.ctx.hash(out.repo_path)
            if hashed is None:
                raise MissingOutputError(out.def_path, stage=stage.address)
            info, tree = hashed
            if out.cache or keep_all:
                self.ctx.cache.save(self.repo.abspath(out.repo_path), info, tree)
            if out.cache:
                if relink:
                    self._relink(out, info, tree)
                self._ignore(out)
            outs[out.def_path] = info
        deps = self._dep_hashes(stage)
        if deps is None:
            missing = next(d for d in stage.deps if self.ctx.hash(d.repo_path) is None)
            raise MissingDependencyError(missing.repo_path, stage=stage.address)
        params = stage_params_values(self.repo, stage)
        return LockEntry(cmd=stage.cmd or "", deps=deps, params=params, outs=outs)

    def _relink(self, out: Output, info: HashInfo, tree: object) -> None:
        # With the copy-safe default the workspace copy stays as written; with links
        # configured, replace it by a link into the cache as DVC does.
        if self.link_types[0] in ("hardlink", "symlink"):
            checkout(self.ctx.cache, info, self.repo.abspath(out.repo_path), self.link_types)
            self.ctx.forget([out.repo_path])

    def _dep_hashes(self, stage: Stage) -> dict[str, HashInfo] | None:
        deps: dict[str, HashInfo] = {}
        for dep in stage.deps:
            hashed = self.ctx.hash(dep.repo_path)
            if hashed is None:
                return None
            deps[dep.def_path] = hashed[0]
        return deps

    # --- bookkeeping ---------------------------------------------------------------------

    def _write_lock(self, stage: Stage, entry: LockEntry) -> None:
        if self.ctx.write_lock_entry(stage, entry):
            self.emit(LockfileUpdated(path=stage.lockfile, stages=(stage.address,)))
            self._touched(stage.lockfile)

    def _ignore(self, out: Output) -> None:
        changed = ensure_ignored(self.repo, out.repo_path)
        if changed:
            self._touched(changed)

    def _touched(self, path: str) -> None:
        if path not in self.result.touched:
            self.result.touched.append(path)

    def _verify_source(self, stage: Stage) -> Outcome:
        """A ``*.dvc`` data source: restore it if missing, re-commit it if edited."""
        status = stage_status(self.ctx, stage)
        if not status.outs:
            self.emit(DataSourceChecked(path=stage.dvcfile, changed=False))
            return "skipped"
        recorded = self.index.recorded.get(stage.dvcfile, {})
        if all(s in ("deleted", "not in cache") for s in status.outs.values()):
            if self.options.allow_missing or self._restore_outputs(stage, recorded):
                self.emit(DataSourceChecked(path=stage.dvcfile, changed=False))
                return "skipped"
            missing = next(iter(status.outs))
            raise MissingDependencyError(missing, stage=stage.address)
        if self.options.dry:
            self.result.dry.append(stage.address)
            return "dry"
        for out in stage.outs:
            add(self.repo, out.repo_path)
        self.ctx.forget([o.repo_path for o in stage.outs])
        self.emit(DataSourceChecked(path=stage.dvcfile, changed=True))
        self.result.committed.append(stage.address)
        self._touched(stage.dvcfile)
        return "committed"
