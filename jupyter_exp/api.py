"""`Project`: the single Python API every front end calls.

The pipeline and data methods live here; the experiment methods come from the classes
of :mod:`jupyter_exp.project` (runs, queue, comparison, management), one area each.

The CLI, the IPython magics, the widgets and the Jupyter Server extension are thin
adapters over this class: they parse their input, call a method, and render what comes
back (results, :mod:`~jupyter_exp.events` while it runs, :mod:`~jupyter_exp.errors`
when it fails).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .core.repo import Repo
from .events import EventSink, ignore_events
from .project.checkpoints import ExperimentCheckpoints
from .project.comparison import ExperimentComparison
from .project.management import ExperimentManagement
from .project.plots import ExperimentPlots
from .project.queue import QueueControl
from .project.runs import ExperimentRuns

__all__ = ["Project"]

if TYPE_CHECKING:  # the engine is imported by the methods that use it
    from .core.dag import DagFormat
    from .core.index import Index
    from .core.repro import ReproResult
    from .core.status import StatusReport
    from .git import Git


class Project(
    ExperimentRuns,
    QueueControl,
    ExperimentComparison,
    ExperimentManagement,
    ExperimentCheckpoints,
    ExperimentPlots,
):
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

    def init(self) -> bool:
        """Create ``.dvc/`` as ``dvc init`` does. Returns False if it already existed."""
        return self.repo.ensure_dvc_dir()

    def index(self) -> Index:
        """Load and validate every ``dvc.yaml`` and ``*.dvc`` file of the project."""
        from .core.index import Index

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
        from .core.repro import ReproOptions, reproduce

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
        from .core.status import compute_status

        return compute_status(self.repo, tuple(targets))

    def dag(self, targets: Sequence[str] = (), *, fmt: DagFormat = "text") -> str:
        """The stage graph as text, Mermaid, Graphviz dot, or JSON."""
        from .core.dag import render_dag

        return render_dag(self.index(), tuple(targets), fmt)

    def add(self, paths: Sequence[str | os.PathLike[str]]) -> list[str]:
        """Track files or directories with DVC: cache them and write ``PATH.dvc`` files.

        Relative paths are taken from the project root. Returns the repo-relative
        paths of the ``.dvc`` files written.
        """
        from .core.add import add

        written = []
        with self.repo.lock():
            index = self.index()
            for path in paths:
                rel = self.repo.relpath(self.root / path)
                index.check_addable(rel)
                written.append(add(self.repo, rel, on_event=self.on_event))
        return written

    # --- the experiment queue (experiments/queue/) ---------------------------------------

    # --- experiments: diff, apply, branch, remove, push, pull ----------------------------

    def _git(self) -> Git:
        """The Git work tree of the project (the git layer is imported on first use)."""
        from .git import Git

        return Git.find(self.root)
