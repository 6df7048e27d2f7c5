"""Comparing experiments (``exp show``, ``exp list``).

A part of :class:`jupyter_exp.Project`, which combines it with the other classes of this
package. The methods are thin: they turn arguments into the experiments layer's calls
and return its results.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..core.repo import Repo
from ..errors import InvalidArgumentError
from ..events import EventSink

if TYPE_CHECKING:  # experiment results: their modules are imported when called
    from ..git import Git


if TYPE_CHECKING:  # exp show / list
    import pandas as pd

    from ..experiments.collect import CollectOptions
    from ..experiments.ls import BaselineExperiments
    from ..experiments.notebooks import ExecutedNotebook
    from ..experiments.show import ExpTable


class ExperimentComparison:
    """Comparing experiments (``exp show``, ``exp list``)."""

    # Provided by Project.
    repo: Repo
    on_event: EventSink
    root: Path
    _git: Callable[[], Git]

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
        notebooks: bool = False,
    ) -> pd.DataFrame:
        """Experiments as a pandas DataFrame, one row per workspace/baseline/experiment.

        Columns are named and ordered as ``dvc.api.exp_show`` names them (``Experiment,
        rev, typ, Created, parent, State, Executor``, metrics, params, dependency
        hashes), with typed values (see :mod:`jupyter_exp.experiments.dataframe`).
        ``revs``/``num``/``param_deps``/``force`` are ``dvc.api.exp_show``'s (``force``:
        read every row again instead of answering from the cache of rows). The other
        arguments are ``jupyter exp show``'s flags. ``notebooks`` adds a column per
        executed notebook (``notebook:<stage>``) holding its path where the row's
        ``dvc.lock`` records one (see :meth:`exp_notebook` to open it). Raises
        :class:`~jupyter_exp.errors.RevisionNotFoundError` or
        :class:`~jupyter_exp.errors.InvalidArgumentError`.
        """
        from ..experiments.dataframe import to_dataframe

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
        notebooks: bool = False,
    ) -> dict[str, Any]:
        """The same table as :meth:`exp_show`, JSON-able, for the server and widgets.

        ``{"columns": [{"name", "kind", "path", "key"}...], "rows": [{"id", "baseline",
        "Experiment", "rev", "typ", "Created", "parent", "State", "Executor", "values",
        "errors"}...]}``; ``kind`` is ``meta``, ``metric``, ``param`` or ``dep``.
        ``notebooks`` adds to each row ``"notebooks": [{"stage", "path", "md5"}...]``,
        the executed notebooks its ``dvc.lock`` records (no extra columns).
        """
        args = locals()
        table = self._exp_table({**args, "notebooks": False})
        data = table.to_dict()
        if notebooks:
            from ..experiments.notebooks import notebooks_by_row

            found = notebooks_by_row(self.repo, table.rows)
            for row, listed in zip(data["rows"], found, strict=True):
                row["notebooks"] = [n.to_dict() for n in listed]
        return data

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
        notebooks: bool = False,
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
        force: bool = False,
    ) -> list[dict[str, Any]]:
        """What ``dvc exp show --json`` prints: DVC's ``ExpState`` records as data.

        ``force`` reads every row again instead of answering from the cache of rows.
        """
        from ..experiments.collect import collect_states, states_to_json

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
        from ..experiments.ls import list_by_baseline
        from ..git import Git

        return list_by_baseline(
            Git.find(self.root),
            revs=[revs] if isinstance(revs, str) else list(revs or ()),
            all_commits=all_commits,
            num=num,
            git_remote=git_remote,
        )

    def _exp_table(self, args: dict[str, Any]) -> ExpTable:
        from ..experiments.show import ShowOptions, show_table

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
        table = show_table(self.repo, _collect_options(args), show)
        if args.get("notebooks"):
            from ..experiments.notebooks import add_notebook_columns, notebooks_by_row

            add_notebook_columns(table, notebooks_by_row(self.repo, table.rows))
        return table

    def exp_recorded_notebooks(
        self, experiment: str, stage: str | None = None
    ) -> list[ExecutedNotebook]:
        """The executed notebooks ``experiment``'s ``dvc.lock`` records (stage, path, md5).

        ``experiment`` and ``stage`` as in :meth:`exp_notebook`; nothing is written.
        Raises as :meth:`exp_notebook` does, except for the cache.
        """
        return self._recorded_notebooks(experiment, stage)[1]

    def exp_notebook(
        self,
        experiment: str,
        stage: str | None = None,
        dest: str | os.PathLike[str] | None = None,
    ) -> list[Path]:
        """Copy the executed notebook(s) of ``experiment`` out of the cache; their paths.

        ``experiment`` is an experiment name, ref or sha prefix, or any revision (a
        branch, a tag, ``HEAD``). The notebooks are the ``.ipynb`` outputs its
        ``dvc.lock`` records (only ``stage``'s when given: its name or address), in
        :meth:`exp_recorded_notebooks`'s order. They are written to ``dest/<path>``; by
        default to ``<project>/jupyter-exp-notebooks/<experiment>/<path>``, a folder
        JupyterLab shows and ``.git/info/exclude`` keeps out of Git. Raises
        :class:`~jupyter_exp.errors.ExperimentNotFoundError`,
        :class:`~jupyter_exp.errors.InvalidArgumentError` (nothing recorded, unknown
        stage) or :class:`~jupyter_exp.errors.CacheMissingError`.
        """
        from ..experiments.notebooks import NOTEBOOKS_DIR, exclude_from_git, materialise

        folder, found = self._recorded_notebooks(experiment, stage)
        if dest is not None:
            return materialise(self.repo, found, Path(dest).absolute())
        written = materialise(self.repo, found, self.root / NOTEBOOKS_DIR / folder)
        exclude_from_git(self._git(), self.root / NOTEBOOKS_DIR)
        return written

    def _recorded_notebooks(
        self, experiment: str, stage: str | None
    ) -> tuple[str, list[ExecutedNotebook]]:
        from ..experiments.notebooks import notebooks_of_commits, select

        git = self._git()
        sha, folder = _notebook_revision(git, experiment)
        found = select(notebooks_of_commits(self.repo, [sha], git=git).get(sha, []), stage)
        if not found:
            raise InvalidArgumentError(
                f"'{experiment}' recorded no executed notebook (no .ipynb output in its dvc.lock)",
                argument=experiment,
            )
        return folder, found


def _notebook_revision(git: Git, spec: str) -> tuple[str, str]:
    """The commit ``spec`` names (an experiment first) and a folder name for it."""
    from ..errors import ExperimentNotFoundError
    from ..experiments.lookup import find_experiment

    try:
        found = find_experiment(git, spec)
    except ExperimentNotFoundError:
        sha = git.try_resolve(spec) if spec.strip() else None
        if sha is None:
            raise
        return sha, _folder_name(spec)
    named = spec.strip() in (found.name, found.ref.ref) and found.sha == git.ref_sha(found.ref.ref)
    return found.sha, found.name if named else _folder_name(spec)


def _folder_name(spec: str) -> str:
    """``spec`` as one safe path component (``feature/x~1`` -> ``feature_x_1``)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", spec.strip()).strip(".")
    return name or "_"


def _collect_options(args: dict[str, Any]) -> CollectOptions:
    """``exp show``'s revision arguments (a method's ``locals()``) as options."""
    from ..experiments.collect import CollectOptions

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
        force=args.get("force", False),
    )
