"""``exp run``: reproduce the pipeline as an experiment and record it under ``refs/exps``.

Everything that can be refused is refused before anything runs or is written: the
override grammar (and sweeps, which need a queue), the experiment's name (one Git
refuses, or one the baseline already has without ``force``), the pipeline and the
targets, the ``-C`` paths. Then an executor runs it, in the workspace or in a temporary
worktree (``temp``), with ``DVC_EXP_NAME``, ``DVC_EXP_BASELINE_REV`` and ``DVC_ROOT`` in
the stages' environment, and records the result (see :mod:`.executors.base`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..core.overrides import parse_overrides
from ..core.repo import Repo
from ..core.repro import ReproOptions
from ..errors import InvalidArgumentError
from ..events import EventSink
from ..git import Git
from .checkpoints import plan_checkpoints
from .environment import experiment_env
from .executors import ExpJob, ExpRunResult, run_in_temp, run_in_workspace
from .executors.base import choose_name, require_baseline
from .executors.temp import check_copy_paths, run_snapshot

__all__ = ["ExpRunResult", "run_experiment"]

SWEEP_NEEDS_QUEUE = "Sweep overrides can't be used without `--queue`"


def run_experiment(
    repo: Repo,
    options: ReproOptions,
    on_event: EventSink,
    *,
    params: Sequence[str] = (),
    name: str | None = None,
    message: str | None = None,
    temp: bool = False,
    copy_paths: Sequence[str] = (),
    reset: bool = False,
    rev: str | None = None,
) -> ExpRunResult:
    """Run one experiment; ``options.force`` also lets ``name`` replace an experiment.

    ``params`` are ``-S`` overrides (``[file:]key=value``...). A dry run goes to a
    temporary worktree (as in DVC) and records nothing. ``copy_paths`` only apply to
    ``temp`` runs. Raises :class:`InvalidArgumentError`,
    :class:`InvalidExperimentNameError`, :class:`ExperimentExistsError`, pipeline and
    params errors before running; :class:`StageFailedError` when a stage fails.

    With checkpoint stages (see :mod:`.checkpoints`) a workspace run resumes the
    checkpoint the workspace holds (appending to its experiment) unless ``reset``;
    ``rev`` (``temp`` only) names the checkpoint a temporary run continues from.
    """
    git = Git.find(repo.root)
    baseline = require_baseline(git)
    overrides = parse_overrides(list(params))
    if any(o.is_sweep for o in overrides):
        raise InvalidArgumentError(SWEEP_NEEDS_QUEUE, argument="--set-param")
    resume = None
    if not options.dry:
        resume = plan_checkpoints(repo, git, baseline, temp=temp, reset=reset, rev=rev)
    if resume is not None:
        baseline = resume.baseline
    if resume is not None and resume.name is not None and name in (None, resume.name):
        chosen, explicit = resume.name, name is not None  # append to that experiment
    else:
        chosen, explicit = choose_name(git, baseline, name, options.force)
    env = {**options.env, **experiment_env(chosen, baseline, repo.root)}
    job = ExpJob(
        baseline=baseline,
        name=chosen,
        explicit=explicit,
        force=options.force,
        message=message,
        overrides=tuple(overrides),
        options=dataclasses.replace(options, env=env),
        copy_paths=tuple(copy_paths),
        checkpoints=resume,
    )
    if temp and rev is not None and resume is not None:
        # Continue from the checkpoint's own files, as DVC 2's --rev did.
        copies = check_copy_paths(repo, job.copy_paths)
        result = run_snapshot(repo, git, job, resume.parent, on_event, copies=copies)
    else:
        runner = run_in_temp if temp or options.dry else run_in_workspace
        result = runner(repo, git, job, on_event)
    result.overrides = [str(o) for o in overrides]
    return result
