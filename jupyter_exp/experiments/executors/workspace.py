"""Run an experiment in the user's workspace, as ``dvc exp run`` does by default.

The ``-S`` overrides are written to the params files (all checked before the first
write), the pipeline is reproduced in place, and the workspace as it then is becomes
the experiment commit. The results stay in the workspace; ``HEAD``, the index and the
branches do not move. A failed or interrupted run records nothing and leaves the
workspace as the failing stage left it (the lock entries of finished stages stay).
"""

from __future__ import annotations

from ...core.index import Index
from ...core.overrides import apply_overrides
from ...core.repo import Repo
from ...core.repro import plan, reproduce
from ...events import EventSink
from ...git import Git
from ..dvcexec import workspace_run
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

# Recording waits a little longer than a command would: another experiment may be
# finishing its own recording in the same workspace.
_RECORD_LOCK_TIMEOUT = 30.0


def run_in_workspace(repo: Repo, git: Git, job: ExpJob, on_event: EventSink) -> ExpRunResult:
    """Apply the overrides, reproduce in place, record the result.

    With checkpoint stages, the experiment is the chain of their checkpoints (see
    :mod:`..checkpoints`), each recorded as the command signals it.
    """
    from ..checkpoints import start_checkpoints

    with repo.lock():
        # Bad pipelines and targets fail before the params files are touched.
        plan(Index.load(repo), job.options)
        changed = apply_overrides(repo, list(job.overrides)) if job.overrides else []
        recorder = start_checkpoints(repo, git, git, job, temp=False)
    options = recorder.options(job.options) if recorder else job.options
    # DVC's run files: `dvc exp show` (and ours) list the run as Running meanwhile.
    running = workspace_run(
        repo.tmp_dir, git_root=git.root, dvc_root=repo.root, baseline=job.baseline, name=job.name
    )
    try:
        with running:
            repro = reproduce(repo, options, on_event)
    finally:
        if recorder is not None:
            recorder.drain()  # every checkpoint answered is recorded, however the run ended
    result = ExpRunResult(name=job.name, baseline=job.baseline, repro=repro, changed_files=changed)
    if recorder is not None and recorder.used(repro):
        with repo.lock(timeout=_RECORD_LOCK_TIMEOUT):
            recorder.finish(repro, result)
            result.metrics = read_metrics(repo, Index.load(repo))
        return result
    with repo.lock(timeout=_RECORD_LOCK_TIMEOUT):
        index = Index.load(repo)
        ran = [*repro.ran, *repro.restored]
        paths = paths_to_track(repo, index, ran)
        tree = git.workspace_tree(add_paths=git_paths(git, repo, paths))
        result.exp_hash = exp_hash(repo, index, ran)
        result.metrics = read_metrics(repo, index)
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
