"""`Project`: the single Python API every front end calls.

The CLI, the IPython magics, the widgets and the Jupyter Server extension are thin
adapters over this class: they parse their input, call a method, and render what comes
back (results, :mod:`~jupyter_exp.events` while it runs, :mod:`~jupyter_exp.errors`
when it fails).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .core.add import add
from .core.dag import DagFormat, render_dag
from .core.index import Index
from .core.repo import Repo
from .core.repro import ReproOptions, ReproResult, reproduce
from .core.status import StatusReport, compute_status
from .events import EventSink, ignore_events

__all__ = ["Project"]

if TYPE_CHECKING:  # experiment results: their modules are imported when called
    from .experiments.apply import ApplyResult
    from .experiments.branch import BranchResult
    from .experiments.diff import ExpDiff
    from .experiments.executors import ExpResult, ExpRunResult
    from .experiments.pull import PullResult
    from .experiments.push import PushResult
    from .git import Git

if TYPE_CHECKING:  # the experiment queue
    from collections.abc import Iterator

    from .experiments.queue.control import QueueStatus
    from .experiments.queue.store import QueueEntry
    from .experiments.queue.workers import WorkerInfo

if TYPE_CHECKING:  # exp show / list
    import pandas as pd

    from .experiments.collect import CollectOptions
    from .experiments.ls import BaselineExperiments
    from .experiments.show import ExpTable


class Project:
    """A DVC-compatible project: the Git repository containing ``path``.

    ``on_event`` receives progress events from every long operation unless a call
    passes its own.
    """

    def __init__(
        self, path: str | os.PathLike[str] = ".", *, on_event: EventSink | None = None
    ) -> None:
        self.repo = Repo.find(path)
        self.on_event: EventSink = on_event or ignore_events

    @property
    def root(self) -> Path:
        """Absolute path of the project root."""
        return self.repo.root

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    # --- setup ---------------------------------------------------------------------------

    def init(self) -> bool:
        """Create ``.dvc/`` as ``dvc init`` does. Returns False if it already existed."""
        return self.repo.ensure_dvc_dir()

    # --- pipeline ------------------------------------------------------------------------

    def index(self) -> Index:
        """Load and validate every ``dvc.yaml`` and ``*.dvc`` file of the project."""
        return Index.load(self.repo)

    def repro(
        self,
        targets: Sequence[str] = (),
        *,
        force: bool = False,
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
    ) -> ReproResult:
        """Run the stale stages of the pipeline, as ``dvc repro`` does.

        Targets are stage names (``train``, ``train@1``), ``dvc.yaml`` paths, addresses
        (``sub/dvc.yaml:train``) or ``*.dvc`` files; empty means every pipeline of the
        project. ``interactive`` is asked ``stage address -> run it?`` before each stage.
        Raises :class:`~jupyter_exp.errors.StageFailedError` when a stage fails.
        """
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
        )
        return reproduce(self.repo, options, on_event or self.on_event)

    def status(self, targets: Sequence[str] = ()) -> StatusReport:
        """What changed since the last run, as ``dvc status --json`` reports it.

        An empty mapping means everything is up to date.
        """
        return compute_status(self.repo, tuple(targets))

    def dag(self, targets: Sequence[str] = (), *, fmt: DagFormat = "text") -> str:
        """The stage graph as text, Mermaid, Graphviz dot, or JSON."""
        return render_dag(self.index(), tuple(targets), fmt)

    # --- data ----------------------------------------------------------------------------

    def add(self, paths: Sequence[str | os.PathLike[str]]) -> list[str]:
        """Track files or directories with DVC: cache them and write ``PATH.dvc`` files.

        Relative paths are taken from the project root. Returns the repo-relative
        paths of the ``.dvc`` files written.
        """
        written = []
        with self.repo.lock():
            index = self.index()
            for path in paths:
                rel = self.repo.relpath(self.root / path)
                index.check_addable(rel)
                written.append(add(self.repo, rel, on_event=self.on_event))
        return written

    # --- experiments: run and save (experiments/run.py, save.py) -------------------------

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
        names the checkpoint a ``temp`` run continues from (queued runs start over).
        """
        from .errors import InvalidArgumentError
        from .experiments.run import run_experiment

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
        )
        if queue or run_all:
            if rev is not None:
                raise InvalidArgumentError(
                    "--rev with --queue is not supported yet: use --temp", argument="--rev"
                )
            from .experiments.queue.control import run_all as run_queue
            from .experiments.queue.enqueue import queue_experiments

            queued: list[QueueEntry] = []
            if queue:
                queued = queue_experiments(
                    self.repo,
                    options,
                    params=params,
                    name=name,
                    message=message,
                    copy_paths=[os.fspath(p) for p in copy_paths],
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
        from .experiments.save import save_experiment

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

    # --- the experiment queue (experiments/queue/) ---------------------------------------

    def queue_start(
        self,
        jobs: int = 1,
        *,
        scheduler: str | None = None,
        cluster: str | None = None,
        retry_failed: bool = False,
    ) -> list[WorkerInfo]:
        """Start ``jobs`` background workers on the queue and return at once.

        ``scheduler`` (``tcp://HOST:PORT``) or ``cluster="local"`` run the queue on Dask
        workers instead (the ``dask`` extra). ``retry_failed`` requeues failed entries.
        """
        if scheduler or cluster:
            from .experiments.queue.dask_backend import start_dask

            return [
                start_dask(
                    str(self.root),
                    jobs,
                    scheduler=scheduler,
                    cluster=cluster,
                    retry_failed=retry_failed,
                )
            ]
        from .experiments.queue.workers import start_workers

        return start_workers(self.root, jobs, retry_failed=retry_failed)

    def queue_status(self) -> QueueStatus:
        """Every queue entry with its state, and the live workers."""
        from .experiments.queue.control import queue_status

        return queue_status(str(self.root))

    def queue_logs(self, name: str, *, follow: bool = False) -> str | Iterator[str]:
        """The log of a queued experiment; with ``follow``, its text as it grows."""
        from .experiments.queue.control import follow_log, read_log

        return follow_log(str(self.root), name) if follow else read_log(str(self.root), name)

    def queue_wait(
        self, names: Sequence[str] | None = None, *, on_event: EventSink | None = None
    ) -> list[QueueEntry]:
        """Wait for queued experiments (default: all unfinished), reporting progress."""
        from .experiments.queue.control import wait_for
        from .experiments.queue.store import QueueStore

        store = QueueStore(self.root)
        ids = None if names is None else [store.find(n).id for n in names]
        return wait_for(str(self.root), ids, on_event or self.on_event)

    def queue_stop(self, *, kill: bool = False) -> list[QueueEntry]:
        """Let workers take no new entry; ``kill`` also stops the running experiments."""
        from .experiments.queue.control import stop_queue

        return stop_queue(str(self.root), kill=kill)

    def queue_kill(self, names: Sequence[str]) -> list[QueueEntry]:
        """Stop running queued experiments; they end Failed with their logs kept."""
        from .experiments.queue.control import kill_entries

        return kill_entries(str(self.root), names)

    def queue_remove(
        self,
        names: Sequence[str] = (),
        *,
        all: bool = False,
        queued: bool = False,
        success: bool = False,
        failed: bool = False,
    ) -> list[QueueEntry]:
        """Remove queue entries by name, or all of some states; running ones are refused."""
        from .experiments.queue.control import remove_entries

        return remove_entries(
            str(self.root), names, all=all, queued=queued, success=success, failed=failed
        )

    # --- experiments: show and list (experiments/show.py, collect.py) --------------------

    def exp_show(
        self,
        revs: str | Sequence[str] | None = None,
        num: int = 1,
        param_deps: bool = False,
        force: bool = False,
        *,
        all_branches: bool = False,
        all_tags: bool = False,
        all_commits: bool = False,
        hide_workspace: bool = False,
        hide_queued: bool = False,
        hide_failed: bool = False,
        sha_only: bool = False,
        include_metrics: Sequence[str] = (),
        exclude_metrics: Sequence[str] = (),
        include_params: Sequence[str] = (),
        exclude_params: Sequence[str] = (),
        keep: Sequence[str] = (),
        drop: Sequence[str] = (),
        only_changed: bool = False,
        sort_by: str | None = None,
        sort_order: Literal["asc", "desc"] = "asc",
    ) -> pd.DataFrame:
        """Experiments as a pandas DataFrame, one row per workspace/baseline/experiment.

        Columns are named and ordered as ``dvc.api.exp_show`` names them (``Experiment,
        rev, typ, Created, parent, State, Executor``, metrics, params, dependency
        hashes), with typed values (see :mod:`jupyter_exp.experiments.dataframe`).
        ``revs``/``num``/``param_deps`` are ``dvc.api.exp_show``'s; ``force`` is accepted
        for it and changes nothing (we keep no cache that could be stale). The other
        arguments are ``jupyter exp show``'s flags. Raises
        :class:`~jupyter_exp.errors.RevisionNotFoundError` or
        :class:`~jupyter_exp.errors.InvalidArgumentError`.
        """
        from .experiments.dataframe import to_dataframe

        return to_dataframe(self._exp_table(locals()))

    def exp_show_data(
        self,
        revs: str | Sequence[str] | None = None,
        num: int = 1,
        param_deps: bool = False,
        force: bool = False,
        *,
        all_branches: bool = False,
        all_tags: bool = False,
        all_commits: bool = False,
        hide_workspace: bool = False,
        hide_queued: bool = False,
        hide_failed: bool = False,
        sha_only: bool = False,
        include_metrics: Sequence[str] = (),
        exclude_metrics: Sequence[str] = (),
        include_params: Sequence[str] = (),
        exclude_params: Sequence[str] = (),
        keep: Sequence[str] = (),
        drop: Sequence[str] = (),
        only_changed: bool = False,
        sort_by: str | None = None,
        sort_order: Literal["asc", "desc"] = "asc",
    ) -> dict[str, Any]:
        """The same table as :meth:`exp_show`, JSON-able, for the server and widgets.

        ``{"columns": [{"name", "kind", "path", "key"}...], "rows": [{"id", "baseline",
        "Experiment", "rev", "typ", "Created", "parent", "State", "Executor", "values",
        "errors"}...]}``; ``kind`` is ``meta``, ``metric``, ``param`` or ``dep``.
        """
        return self._exp_table(locals()).to_dict()

    def exp_show_table(
        self,
        revs: str | Sequence[str] | None = None,
        num: int = 1,
        param_deps: bool = False,
        force: bool = False,
        *,
        all_branches: bool = False,
        all_tags: bool = False,
        all_commits: bool = False,
        hide_workspace: bool = False,
        hide_queued: bool = False,
        hide_failed: bool = False,
        sha_only: bool = False,
        include_metrics: Sequence[str] = (),
        exclude_metrics: Sequence[str] = (),
        include_params: Sequence[str] = (),
        exclude_params: Sequence[str] = (),
        keep: Sequence[str] = (),
        drop: Sequence[str] = (),
        only_changed: bool = False,
        sort_by: str | None = None,
        sort_order: Literal["asc", "desc"] = "asc",
    ) -> ExpTable:
        """The table behind :meth:`exp_show` as the neutral model front ends render.

        Same arguments as :meth:`exp_show`; see :class:`~jupyter_exp.experiments.show.ExpTable`.
        """
        return self._exp_table(locals())

    def exp_show_json(
        self,
        revs: str | Sequence[str] | None = None,
        num: int = 1,
        param_deps: bool = False,
        *,
        all_branches: bool = False,
        all_tags: bool = False,
        all_commits: bool = False,
        hide_workspace: bool = False,
        hide_queued: bool = False,
        hide_failed: bool = False,
        sha_only: bool = False,
    ) -> list[dict[str, Any]]:
        """What ``dvc exp show --json`` prints: DVC's ``ExpState`` records as data."""
        from .experiments.collect import collect_states, states_to_json

        options = _collect_options(locals())
        return states_to_json(collect_states(self.repo, options))

    def exp_list(
        self,
        revs: str | Sequence[str] | None = None,
        *,
        all_commits: bool = False,
        num: int = 1,
        git_remote: str | None = None,
    ) -> list[BaselineExperiments]:
        """Experiment names per baseline (``HEAD`` by default), as ``dvc exp list``.

        With ``git_remote`` (a remote name or URL) the experiments on that remote are
        listed, without their commits.
        """
        from .experiments.ls import list_by_baseline
        from .git import Git

        return list_by_baseline(
            Git.find(self.root),
            revs=[revs] if isinstance(revs, str) else list(revs or ()),
            all_commits=all_commits,
            num=num,
            git_remote=git_remote,
        )

    def _exp_table(self, args: dict[str, Any]) -> ExpTable:
        from .experiments.show import ShowOptions, show_table

        show = ShowOptions(
            include_metrics=tuple(args["include_metrics"]),
            exclude_metrics=tuple(args["exclude_metrics"]),
            include_params=tuple(args["include_params"]),
            exclude_params=tuple(args["exclude_params"]),
            keep=tuple(args["keep"]),
            drop=tuple(args["drop"]),
            only_changed=args["only_changed"],
            sort_by=args["sort_by"],
            sort_order=args["sort_order"],
        )
        return show_table(self.repo, _collect_options(args), show)

    # --- experiments: diff, apply, branch, remove, push, pull ----------------------------

    def exp_diff(
        self,
        a: str | None = None,
        b: str | None = None,
        *,
        all: bool = False,
        param_deps: bool = False,
    ) -> ExpDiff:
        """Params, metrics, deps and outs that differ between ``a`` and ``b``.

        ``a`` defaults to ``HEAD`` and ``b`` to the workspace; each may be a Git revision
        or an experiment name. ``all`` keeps unchanged values too. The result's
        ``to_dict()`` is ``dvc exp diff --json`` plus ``deps``/``outs``;
        ``to_dataframe()`` gives one row per change.
        """
        from .experiments.diff import exp_diff

        return exp_diff(self.repo, self._git(), a, b, all=all, param_deps=param_deps)

    def exp_apply(self, experiment: str, *, force: bool = False) -> ApplyResult:
        """Put ``experiment``'s files and cached outputs into the workspace.

        ``HEAD`` and the branch stay. Uncommitted edits it would overwrite are a
        :class:`~jupyter_exp.errors.WorkspaceConflictError` unless ``force``; either way
        the workspace is first saved under ``refs/exps/apply/stash`` (see
        ``ApplyResult.restore_hint``).
        """
        from .experiments.apply import exp_apply

        return exp_apply(self.repo, self._git(), experiment, force=force)

    def exp_branch(self, experiment: str, branch: str | None = None) -> BranchResult:
        """Create Git branch ``branch`` (default ``<name>-branch``) at the experiment."""
        from .experiments.branch import exp_branch

        return exp_branch(self._git(), experiment, branch)

    def exp_remove(
        self,
        names: Sequence[str] = (),
        *,
        rev: Sequence[str] = (),
        num: int = 1,
        all_commits: bool = False,
        git_remote: str | None = None,
        keep: bool = False,
    ) -> list[str]:
        """Remove experiments (here, or on ``git_remote``); return the names removed.

        Select by ``names``, or by baselines ``rev`` (``num`` first-parent commits back),
        or ``all_commits``; ``keep`` removes all but the selected ones.
        """
        from .experiments.remove import exp_remove

        return exp_remove(
            self._git(),
            names,
            rev=rev,
            num=num,
            all_commits=all_commits,
            git_remote=git_remote,
            keep=keep,
        )

    def exp_push(
        self,
        git_remote: str,
        names: Sequence[str] = (),
        *,
        all_commits: bool = False,
        rev: Sequence[str] = (),
        num: int = 1,
        force: bool = False,
        push_cache: bool = True,
        dvc_remote: str | None = None,
        run_cache: bool = False,
    ) -> PushResult:
        """Push experiment refs to ``git_remote`` and their outputs to the DVC remote.

        Default selection: the experiments of ``HEAD``. Outputs go to ``dvc_remote`` (or
        ``core.remote`` of ``.dvc/config``) when one is configured and ``push_cache``.
        """
        from .experiments.push import exp_push

        with self.repo.lock():
            return exp_push(
                self.repo,
                self._git(),
                git_remote,
                names,
                all_commits=all_commits,
                rev=rev,
                num=num,
                force=force,
                push_cache=push_cache,
                dvc_remote=dvc_remote,
                run_cache=run_cache,
            )

    def exp_pull(
        self,
        git_remote: str,
        names: Sequence[str] = (),
        *,
        all_commits: bool = False,
        rev: Sequence[str] = (),
        num: int = 1,
        force: bool = False,
        pull_cache: bool = True,
        dvc_remote: str | None = None,
        run_cache: bool = False,
    ) -> PullResult:
        """Fetch experiment refs from ``git_remote`` and their outputs from the DVC remote.

        Default selection: the remote's experiments of ``HEAD``.
        """
        from .experiments.pull import exp_pull

        with self.repo.lock():
            return exp_pull(
                self.repo,
                self._git(),
                git_remote,
                names,
                all_commits=all_commits,
                rev=rev,
                num=num,
                force=force,
                pull_cache=pull_cache,
                dvc_remote=dvc_remote,
                run_cache=run_cache,
            )

    def _git(self) -> Git:
        """The Git work tree of the project (the git layer is imported on first use)."""
        from .git import Git

        return Git.find(self.root)


def _collect_options(args: dict[str, Any]) -> CollectOptions:
    """``exp show``'s revision arguments (a method's ``locals()``) as options."""
    from .experiments.collect import CollectOptions

    revs = args["revs"]
    return CollectOptions(
        revs=(revs,) if isinstance(revs, str) else tuple(revs or ()),
        all_branches=args["all_branches"],
        all_tags=args["all_tags"],
        all_commits=args["all_commits"],
        num=args["num"],
        hide_queued=args["hide_queued"],
        hide_failed=args["hide_failed"],
        hide_workspace=args["hide_workspace"],
        sha_only=args["sha_only"],
        param_deps=args["param_deps"],
    )
