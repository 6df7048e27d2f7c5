"""The recorder of a checkpoint experiment: one commit per checkpoint on its ref.

Passed to the engine as ``ReproOptions.on_checkpoint`` (see :mod:`.checkpoints`), it is
called in the engine's watcher thread while the stage's command waits, so that part is
one git call: the files that change from one checkpoint to the next (``dvc.lock`` and
the uncached outputs the commands write, e.g. ``metrics.json``) are stored as blobs as
they are at that moment. The command then goes on, and a worker thread makes the commit:
the tree comes from a scratch index made once per run (the tracked files with their
edits) into which each checkpoint puts those blobs and re-adds the other files a run
carries (params files, ``.gitignore``...); the commit is appended to the experiment's
ref and ``EXEC_CHECKPOINT`` moved in one atomic ``update-ref`` transaction.

The worker is not a daemon and commits in order; :meth:`CheckpointRecorder.drain` waits
for it (an executor calls it however the run ended, so an interrupted run records every
checkpoint whose signal was answered).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.index import Index
from ..core.objects import LockEntry
from ..core.pipeline.model import Stage
from ..core.repo import Repo
from ..core.repro import ReproOptions, ReproResult
from ..git import Git
from .checkpoints import EXEC_CHECKPOINT, CheckpointPlan, checkpoint_stages
from .executors.base import (
    BASELINE,
    ExpRunResult,
    claim_ref,
    default_message,
    exp_hash,
    git_paths,
    paths_to_track,
)
from .refs import ExpRef

__all__ = ["CheckpointRecorder"]

# (paths to re-add, {path: (mode, blob)}, stages that ran): one checkpoint to commit.
_Job = tuple[list[str], dict[str, tuple[str, str]], list[str]]
# The worker ends when idle that long (a new checkpoint starts another).
_IDLE_SECONDS = 0.5


@dataclass
class CheckpointRecorder:
    """The ``on_checkpoint`` callback: one commit per checkpoint on the experiment's ref.

    ``repo``/``work_git`` are where the stages run (the workspace, or a worktree whose
    objects and refs are ``git``'s). ``exclude`` are paths kept out of the commits
    (``--copy-paths``). ``commits`` are those recorded so far, oldest first.
    """

    repo: Repo
    work_git: Git
    git: Git
    plan: CheckpointPlan
    name: str
    explicit: bool = False
    force: bool = False
    message: str | None = None
    exclude: tuple[str, ...] = ()
    commits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tip = self.plan.parent
        continuing = self.plan.name is not None and self.plan.name == self.name
        self.ref: str | None = ExpRef(self.plan.baseline, self.name).ref if continuing else None
        self.index = Index.load(self.repo)  # the pipeline cannot change mid-run
        self.addresses = {s.address for s in checkpoint_stages(self.index)}
        self.error: BaseException | None = None
        self._volatile = self._written_by_runs()
        self._scratch = self.repo.tmp_dir / "jupyter-exp" / "checkpoint.index"
        self._fresh = True
        self._ran: dict[str, None] = {}
        self._last_tree: str | None = None
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def options(self, options: ReproOptions) -> ReproOptions:
        """``options`` with this recorder as the callback; checkpoint stages resume."""
        return dataclasses.replace(options, on_checkpoint=self, resume_checkpoints=True)

    def __call__(self, stage: Stage, entry: LockEntry) -> None:
        """Capture the checkpoint the engine just committed for ``stage``; queue its commit."""
        with self._lock:
            self._ran[stage.address] = None
            paths = git_paths(self.work_git, self.repo, self._paths(self._ran))
            moving = [p for p in paths if p in self._volatile]
            blobs = self.work_git.write_blobs(moving)
            modes = {p: _mode(self.work_git.root / p) for p in moving}
            captured = {p: (modes[p], sha) for p, sha in blobs.items()}
            steady = [p for p in paths if p not in self._volatile]
            self._jobs.put((steady, captured, list(self._ran)))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="checkpoint-commits")
                self._worker.start()

    def drain(self) -> None:
        """Wait until every queued checkpoint is committed."""
        self._jobs.join()

    def used(self, repro: ReproResult) -> bool:
        """True when a checkpoint stage ran (the experiment is then this chain)."""
        return bool(self.commits) or bool(self._ran) or any(a in self.addresses for a in repro.ran)

    def finish(self, repro: ReproResult, result: ExpRunResult) -> None:
        """The wrap-up checkpoint (when the workspace changed since the last), into ``result``.

        Raises the error of a checkpoint that could not be committed.
        """
        self.drain()
        if self.error is not None:
            raise self.error
        ran = dict.fromkeys([*self._ran, *repro.ran, *repro.restored])
        add = git_paths(self.work_git, self.repo, self._paths(ran))
        tree = self.work_git.index_tree(self._scratch, add_paths=add, fresh=True)
        self.close()
        if tree != (self._last_tree or self.git.tree_of(self.tip)):
            self._append(tree, list(ran))
        result.exp_hash = exp_hash(self.repo, self.index, list(ran))
        result.checkpoints = list(self.commits)
        result.name, result.sha = self.name, self.tip
        if self.commits:
            result.ref, result.identical_to = self.ref, None
        else:  # nothing new since the checkpoint resumed (or the baseline)
            plan = self.plan
            result.ref = None
            result.identical_to = plan.name or (
                BASELINE if self.tip == plan.baseline else self.tip[:7]
            )

    def close(self) -> None:
        """Drop the scratch index."""
        with contextlib.suppress(FileNotFoundError):
            self._scratch.unlink()

    # --- recording ---------------------------------------------------------------------

    def _written_by_runs(self) -> set[str]:
        """Git paths a run rewrites: lock files and uncached outputs (not git-ignored)."""
        paths = {s.lockfile for s in self.index.stages if not s.is_data_source}
        paths |= {o.repo_path for s in self.index.stages for o in s.outs if not o.cache}
        found = git_paths(self.work_git, self.repo, sorted(paths))
        return set(found) - self.work_git.ignored(found)

    def _paths(self, ran: Iterable[str]) -> list[str]:
        return paths_to_track(self.repo, self.index, ran, exclude=self.exclude)

    def _work(self) -> None:
        while True:
            try:
                steady, captured, ran = self._jobs.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:  # __call__ starts a new worker once this one is gone
                    if self._jobs.empty():
                        self._worker = None
                        return
                continue
            try:
                if self.error is None:
                    fresh, self._fresh = self._fresh, False
                    tree = self.work_git.index_tree(
                        self._scratch, add_paths=steady, blobs=captured, fresh=fresh
                    )
                    self._append(tree, ran)
            except BaseException as exc:  # raised by finish(); later checkpoints skipped
                self.error = exc
            finally:
                self._jobs.task_done()

    def _append(self, tree: str, ran: list[str]) -> None:
        message = self.message or default_message(exp_hash(self.repo, self.index, ran))
        sha = self.git.commit_tree(tree, [self.tip], message)
        marker = [(EXEC_CHECKPOINT, sha, None)] if self.plan.marker else []
        if self.ref is None:
            self.name, self.ref = claim_ref(
                self.git,
                baseline=self.plan.baseline,
                name=self.name,
                explicit=self.explicit,
                force=self.force,
                sha=sha,
            )
            if marker:
                self.git.update_refs(marker)
        else:
            self.git.update_refs([(self.ref, sha, self.tip), *marker])
        self.tip = sha
        self._last_tree = tree
        self.commits.append(sha)


def _mode(path: os.PathLike[str]) -> str:
    try:
        executable = os.stat(path).st_mode & stat.S_IXUSR
    except OSError:
        return "100644"
    return "100755" if executable else "100644"
