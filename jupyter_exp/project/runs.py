"""Running and saving experiments (``exp run``, ``exp save``).

A part of :class:`jupyter_exp.Project`, which combines it with the other classes of this
package. The methods are thin: they turn arguments into the experiments layer's calls
and return its results.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.cancel import CancelToken
from ..core.repo import Repo
from ..core.repro import ReproOptions
from ..events import EventSink

if TYPE_CHECKING:  # experiment results: their modules are imported when called
    from ..experiments.executors import ExpResult, ExpRunResult
    from ..git import Git

if TYPE_CHECKING:  # the experiment queue
    from ..experiments.queue.store import QueueEntry


class ExperimentRuns:
    """Running and saving experiments (``exp run``, ``exp save``)."""

    # Provided by Project.
    repo: Repo
    on_event: EventSink
    root: Path
    _git: Callable[[], Git]

    def exp_run(
        self,
        targets: Sequence[str] = (),
        *,
        params: Sequence[str] = (),
        name: str | None = None,
        message: str | None = None,
        force: bool = False,
        temp: bool = False,
        queue: bool = False,
        run_all: bool = False,
        jobs: int = 1,
        copy_paths: Sequence[str | os.PathLike[str]] = (),
        reset: bool = False,
        rev: str | None = None,
        single_item: bool = False,
        pipeline: bool = False,
        all_pipelines: bool = False,
        recursive: bool = False,
        downstream: bool = False,
        force_downstream: bool = False,
        keep_going: bool = False,
        ignore_errors: bool = False,
        dry: bool = False,
        interactive: Callable[[str], bool] | None = None,
        allow_missing: bool = False,
        run_cache: bool = True,
        env: dict[str, str] | None = None,
        on_event: EventSink | None = None,
        cancel: CancelToken | None = None,
    ) -> ExpRunResult | list[QueueEntry]:
        """Run the pipeline as an experiment and record it, as ``dvc exp run`` does.

        ``params`` are ``-S`` overrides (``train.lr=0.1``, ``+new=1``, ``~old``,
        ``file.json:key=v``), written to the params files before the run. The result is
        one commit on ``HEAD`` under ``refs/exps/.../<name>`` (``name`` defaults to a
        random ``adjective-noun``); ``HEAD``, the index and the branches do not move and
        the results stay in the workspace. ``force`` re-runs every stage and lets
        ``name`` replace an experiment of the same baseline. ``temp`` runs in a
        temporary worktree (``.dvc/tmp/exps/``) instead, leaving the workspace alone;
        ``copy_paths`` are untracked paths copied into it. A result identical to the
        baseline or to one of its experiments records nothing: see
        ``result.identical_to``. The other flags are :meth:`repro`'s.

        ``queue`` queues the experiment instead (one per combination of ``-S`` sweeps
        such as ``lr=0.1,0.2``, ``choice(...)``, ``range(...)``; ``name`` then names them
        ``name-1``...) and returns the queued entries; ``run_all`` (with or without
        ``queue``) starts ``jobs`` workers, waits for every queued experiment, streams
        their progress to ``on_event`` and returns the entries as they ended.

        Checkpoint stages (an output marked ``checkpoint: true``) record a commit per
        checkpoint the code signals (:func:`jupyter_exp.make_checkpoint`); a workspace
        run resumes from the checkpoint the workspace holds unless ``reset``; ``rev``
        names the checkpoint a ``temp`` or ``queue`` run continues from (without it they
        start over).

        ``cancel`` (a :class:`~jupyter_exp.core.cancel.CancelToken`) stops a workspace or
        ``temp`` run from another thread: the running stage's processes are stopped as on
        Ctrl+C, :class:`~jupyter_exp.errors.RunCancelledError` is raised and nothing is
        recorded; the workspace keeps what the stopped stage left. Queued runs do not take
        it (``queue kill`` stops them).
        """
        from ..errors import InvalidArgumentError
        from ..experiments.run import run_experiment

        options = ReproOptions(
            targets=tuple(targets),
            force=force,
            single_item=single_item,
            pipeline=pipeline,
            all_pipelines=all_pipelines,
            recursive=recursive,
            downstream=downstream,
            force_downstream=force_downstream,
            keep_going=keep_going,
            ignore_errors=ignore_errors,
            dry=dry,
            interactive=interactive,
            allow_missing=allow_missing,
            run_cache=run_cache,
            env=dict(env or {}),
            cancel=cancel,
        )
        if queue or run_all:
            if rev is not None and not queue:
                raise InvalidArgumentError(
                    "--rev only applies to --temp and --queue runs", argument="--rev"
                )
            from ..experiments.queue.control import run_all as run_queue
            from ..experiments.queue.enqueue import queue_experiments

            queued: list[QueueEntry] = []
            if queue:
                queued = queue_experiments(
                    self.repo,
                    options,
                    params=params,
                    name=name,
                    message=message,
                    copy_paths=[os.fspath(p) for p in copy_paths],
                    rev=rev,
                    reset=reset,
                )
            if not run_all:
                return queued
            return run_queue(str(self.root), jobs, on_event or self.on_event)
        return run_experiment(
            self.repo,
            options,
            on_event or self.on_event,
            params=params,
            name=name,
            message=message,
            temp=temp,
            copy_paths=[os.fspath(p) for p in copy_paths],
            reset=reset,
            rev=rev,
        )

    def exp_save(
        self,
        targets: Sequence[str] = (),
        *,
        name: str | None = None,
        message: str | None = None,
        force: bool = False,
        include_untracked: Sequence[str | os.PathLike[str]] = (),
        recursive: bool = False,
        on_event: EventSink | None = None,
    ) -> ExpResult:
        """Record the workspace as an experiment without running anything (``dvc exp save``).

        The stages (``targets``, default all) are committed first as ``dvc commit -f``
        does: ``dvc.lock`` gets the workspace's hashes and cached outputs go to the
        cache. ``include_untracked`` paths go into the experiment even when untracked
        or git-ignored. ``force`` lets ``name`` replace an existing experiment.
        """
        from ..experiments.save import save_experiment

        return save_experiment(
            self.repo,
            targets=targets,
            recursive=recursive,
            name=name,
            message=message,
            force=force,
            include_untracked=[os.fspath(p) for p in include_untracked],
            on_event=on_event or self.on_event,
        )
