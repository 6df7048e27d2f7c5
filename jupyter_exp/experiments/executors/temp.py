"""Run an experiment in a temporary Git worktree (``exp run --temp``).

The worktree, ``.dvc/tmp/exps/<id>``, starts from a snapshot commit of the workspace:
its tracked files with their uncommitted edits, what is staged, and the untracked
files an experiment carries (``dvc.lock``, params files...). It shares the project's
object database and refs (it is a ``git worktree``) and its DVC cache (``cache.dir``
in the worktree's ``.dvc/config.local``); cached outputs are checked out from that
cache, and ``-C`` copies named untracked or ignored paths in (they never go into the
experiment). The overrides are applied there, the pipeline runs there, and the result
is recorded as the experiment ref. The user's workspace is only read, once, at the
start: it stays free to edit while the experiment runs.

The worktree is removed afterwards, also on failure; the stages' output of a failed
run is kept in ``.dvc/tmp/exps/<id>.log``.
"""

from __future__ import annotations

import configparser
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from ...core.cache import Cache
from ...core.checkout import checkout
from ...core.context import RunContext
from ...core.flock import hold_flock
from ...core.index import Index
from ...core.overrides import apply_overrides
from ...core.repo import Repo
from ...core.repro import plan, reproduce
from ...errors import CacheMissingError, InvalidArgumentError
from ...events import (
    Event,
    EventSink,
    StageCompleted,
    StageFailed,
    StageOutput,
    StageRestored,
    StageSkipped,
    StageStarted,
)
from ...git import Git
from ..dvcexec import temp_run
from .base import (
    ExpJob,
    ExpRunResult,
    default_message,
    exp_hash,
    git_paths,
    paths_to_track,
    read_metrics,
    record,
)

EXPS_TMP = "exps"
_WORKTREE_LOCK_TIMEOUT = 120.0


def run_in_temp(repo: Repo, git: Git, job: ExpJob, on_event: EventSink) -> ExpRunResult:
    """Run ``job`` in a fresh worktree and record it; the workspace is not changed."""
    copies = check_copy_paths(repo, job.copy_paths)
    snapshot = snapshot_workspace(repo, git, job, copies)
    return run_snapshot(repo, git, job, snapshot, on_event, copies=copies)


def snapshot_workspace(repo: Repo, git: Git, job: ExpJob, copies: Sequence[str] = ()) -> str:
    """Commit the workspace as ``job`` will see it, without touching it; return the sha.

    The pipeline and targets are checked first (bad targets fail before anything is
    written). The commit's parent is the baseline; it holds the tracked files with their
    edits, what is staged, and the untracked files an experiment carries (``dvc.lock``,
    params files, the files the ``-S`` overrides name), but not ``copies``.
    """
    index = Index.load(repo)
    plan(index, job.options)
    carry = paths_to_track(repo, index, [s.address for s in index.stages], exclude=copies)
    carry += [p for p in _override_files(repo, job) if p not in carry]
    return git.snapshot(
        message="jupyter-exp: workspace snapshot for a temporary experiment",
        parent=job.baseline,
        add_paths=git_paths(git, repo, carry),
    )


def run_snapshot(
    repo: Repo,
    git: Git,
    job: ExpJob,
    snapshot: str,
    on_event: EventSink,
    *,
    copies: Sequence[str] = (),
    copy_from: Path | None = None,
    folder: Path | None = None,
    log_path: Path | None = None,
    keep_log: bool = False,
) -> ExpRunResult:
    """Check ``snapshot`` out in a worktree of ``repo``, run ``job`` there, record it.

    ``job.overrides`` are applied in the worktree first. ``copies`` (repo paths) are
    copied in from ``copy_from`` (default: the workspace). ``folder`` is the worktree
    (default: a fresh one under ``.dvc/tmp/exps/``) and ``log_path`` the stages' log
    (default: next to it); the worktree is removed afterwards, also on failure, and the
    log kept on failure or with ``keep_log``.
    """
    folder = folder or new_worktree_path(repo)
    log_path = log_path or worktree_log(folder)
    with worktree_lock(repo):
        git.add_worktree(folder, snapshot)
    succeeded = False
    try:
        work_git = Git(folder)
        # HEAD at the baseline, the snapshot's files staged on it, as DVC's temporary
        # repositories are: `dvc exp show` lists their changes as the running experiment.
        work_git.run("reset", "-q", "--soft", job.baseline)
        work = _prepare(repo, git, folder)
        _copy_in(copy_from or repo.root, work, list(copies))
        changed = apply_overrides(work, list(job.overrides)) if job.overrides else []
        running = temp_run(
            repo.tmp_dir,
            snapshot,
            git_root=folder,
            dvc_root=work.root,
            baseline=job.baseline,
            name=job.name,
            log=log_path,
        )
        with running, open(log_path, "w", encoding="utf-8") as log:
            result = _run(work, work_git, git, job, list(copies), _Tee(on_event, log))
        result.changed_files = changed
        succeeded = True
        return result
    finally:
        with worktree_lock(repo):
            git.remove_worktree(folder)
        if succeeded and not keep_log:
            log_path.unlink(missing_ok=True)


def _run(
    work: Repo, work_git: Git, git: Git, job: ExpJob, copies: list[str], sink: EventSink
) -> ExpRunResult:
    from ..checkpoints import start_checkpoints

    # Checkpoint stages start over here unless job.checkpoints names where to resume.
    recorder = start_checkpoints(work, work_git, git, job, temp=True, exclude=copies)
    try:
        repro = reproduce(work, recorder.options(job.options) if recorder else job.options, sink)
    finally:
        if recorder is not None:
            recorder.drain()  # before the worktree goes: every checkpoint answered is kept
    result = ExpRunResult(name=job.name, baseline=job.baseline, repro=repro, temp=True)
    if job.options.dry:
        return result
    if recorder is not None and recorder.used(repro):
        recorder.finish(repro, result)
        result.metrics = read_metrics(work, Index.load(work))
        return result
    index = Index.load(work)
    ran = [*repro.ran, *repro.restored]
    paths = paths_to_track(work, index, ran, exclude=copies)
    tree = work_git.workspace_tree(add_paths=git_paths(work_git, work, paths))
    result.exp_hash = exp_hash(work, index, ran)
    result.metrics = read_metrics(work, index)
    # The worktree shares the repository's objects and refs: record from the main one.
    done = record(
        git,
        baseline=job.baseline,
        tree=tree,
        name=job.name,
        explicit=job.explicit,
        force=job.force,
        message=job.message or default_message(result.exp_hash),
    )
    result.name, result.ref, result.sha = done.name, done.ref, done.sha
    result.identical_to = done.identical_to
    return result


# --- preparing the worktree ----------------------------------------------------------------


def check_copy_paths(repo: Repo, paths: tuple[str, ...]) -> list[str]:
    """Repo paths of ``-C`` arguments (relative to the cwd); each must be a file or folder."""
    found = []
    for path in paths:
        rel = repo.relpath(path)
        target = repo.abspath(rel)
        if rel == "." or not (target.is_file() or target.is_dir()):
            raise InvalidArgumentError(
                f"unable to copy '{path}': it is not a file or directory in the project",
                argument=path,
            )
        found.append(rel)
    return found


@contextmanager
def worktree_lock(repo: Repo) -> Iterator[None]:
    """Serialise adding and removing worktrees between processes.

    ``git worktree remove`` ends with ``git worktree prune``, which deletes the admin
    folder of a worktree another process is still creating (``worktree add`` failed
    with "could not open .git/worktrees/<name>/gitdir" about 1 run in 4 with two queue
    workers). Both steps take a few tens of milliseconds.
    """
    folder = repo.tmp_dir / "jupyter-exp"
    folder.mkdir(parents=True, exist_ok=True)
    with hold_flock(folder / "worktrees.lock", _WORKTREE_LOCK_TIMEOUT):
        yield


def new_worktree_path(repo: Repo) -> Path:
    """A fresh, not yet existing folder under ``.dvc/tmp/exps/``."""
    repo.ensure_dvc_dir()
    parent = repo.tmp_dir / EXPS_TMP
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        folder = parent / f"tmp{secrets.token_hex(4)}"
        if not folder.exists():
            return folder


def _override_files(repo: Repo, job: ExpJob) -> list[str]:
    """Params files ``-S`` names, so an untracked one reaches the worktree too."""
    files = []
    for override in job.overrides:
        name = override.file if override.file is not None else "params.yaml"
        try:
            rel = repo.relpath(repo.root / name)
        except Exception:  # apply_overrides reports bad file names in the worktree
            continue
        if repo.abspath(rel).is_file():
            files.append(rel)
    return files


def _prepare(repo: Repo, git: Git, folder: Path) -> Repo:
    """Make the worktree a DVC project sharing ``repo``'s cache, outputs checked out."""
    prefix = repo.root.relative_to(git.root)
    root = folder / prefix
    dvc_dir = root / ".dvc"
    dvc_dir.mkdir(parents=True, exist_ok=True)
    config = repo.dvc_dir / "config"
    if config.is_file() and not (dvc_dir / "config").exists():
        shutil.copyfile(config, dvc_dir / "config")  # an untracked config still applies
    _write_local_config(repo, dvc_dir / "config.local")
    work = Repo(root)
    work.ensure_dvc_dir()
    _checkout_outputs(work)
    return work


def _write_local_config(repo: Repo, dest: Path) -> None:
    """The project's ``config.local`` with ``cache.dir`` pointing at its cache (as DVC)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    local = repo.dvc_dir / "config.local"
    if local.is_file():
        parser.read_string(local.read_text(encoding="utf-8"))
    if not parser.has_section("cache"):
        parser.add_section("cache")
    parser.set("cache", "dir", str(repo.cache_dir))
    lines = []
    for section in parser.sections():
        lines.append(f"[{section}]")
        lines.extend(f"    {key} = {value}" for key, value in parser.items(section))
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _checkout_outputs(work: Repo) -> None:
    """Check out the cached outputs ``dvc.lock`` and ``*.dvc`` record, when cached."""
    index = Index.load(work)
    cache = Cache(work)
    link_types = work.config.link_types
    ctx = RunContext(work, index.recorded)
    try:
        for stage in index.stages:
            entry = ctx.lock_entry(stage)
            if entry is None:
                continue
            for out in stage.outs:
                info = entry.outs.get(out.def_path)
                dest = work.abspath(out.repo_path)
                if not out.cache or info is None or dest.exists() or not cache.has(info):
                    continue
                try:
                    checkout(cache, info, dest, link_types)
                except CacheMissingError:
                    continue  # the stage will run again
    finally:
        ctx.close()


def _copy_in(source: Path, work: Repo, copies: list[str]) -> None:
    for rel in copies:
        src, dest = source / rel, work.abspath(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
        else:
            if dest.is_dir():
                shutil.rmtree(dest)
            shutil.copy2(src, dest)


class _Tee:
    """Forward events and keep the stages' output in the run's log file."""

    def __init__(self, forward: EventSink, log: TextIO) -> None:
        self.forward = forward
        self.log = log

    def __call__(self, event: Event) -> None:
        if isinstance(event, StageStarted):
            self.log.write(f"Running stage '{event.stage}':\n> {event.cmd}\n")
        elif isinstance(event, StageOutput):
            self.log.write(event.text)
        elif isinstance(event, StageCompleted):
            self.log.write(f"Stage '{event.stage}' done in {event.duration:.2f}s\n")
        elif isinstance(event, StageFailed):
            self.log.write(f"{event.message}\n")
        elif isinstance(event, StageRestored):
            self.log.write(f"Stage '{event.stage}' restored from the {event.source}\n")
        elif isinstance(event, StageSkipped):
            self.log.write(f"Stage '{event.stage}' skipped ({event.reason})\n")
        self.log.flush()
        self.forward(event)


def worktree_log(folder: str | os.PathLike[str]) -> Path:
    """Where the log of the run in worktree ``folder`` is kept."""
    path = Path(folder)
    return path.with_name(path.name + ".log")
