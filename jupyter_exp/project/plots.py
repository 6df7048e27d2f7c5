"""Charts of experiments (``exp plots``): metrics, checkpoint steps, parallel coordinates,
and the ``plots:`` of ``dvc.yaml``.

A part of :class:`jupyter_exp.Project`, which combines it with the other classes of this
package. The charts are built by :mod:`jupyter_exp.plots` as plain Vega-Lite specs that
every front end can render (a notebook's mime bundle, the sidebar, any client).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..core.repo import Repo
from ..errors import ExperimentNotFoundError, InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

    from ..experiments.show import ExpTable
    from ..git import Git
    from ..plots import PlotSpec

PlotKind = Literal["metrics", "steps", "parallel", "dvc"]
PLOT_KINDS: tuple[str, ...] = ("metrics", "steps", "parallel", "dvc")


class ExperimentPlots:
    """Charts of experiments (``exp plots``)."""

    # Provided by Project.
    repo: Repo
    root: Path
    _git: Callable[[], Git]
    exp_show_table: Callable[..., ExpTable]

    def exp_plots(
        self,
        experiments: Sequence[str] | None = None,
        kind: PlotKind = "metrics",
        *,
        metrics: Sequence[str] = (),
        params: Sequence[str] = (),
        targets: Sequence[str] = (),
    ) -> list[PlotSpec]:
        """Vega-Lite charts of ``experiments`` (names as ``exp show`` lists them: experiment
        names, ``workspace``, the baseline's branch; for ``dvc`` any Git revision too).
        None means the workspace, ``HEAD`` and every experiment of ``HEAD``.

        ``kind``:

        * ``metrics``: bars of ``metrics`` (default every numeric metric), a bar per row;
        * ``steps``: ``metrics`` against the checkpoint step, a line per experiment;
        * ``parallel``: parallel coordinates of ``params`` (default the numeric params
          that vary) against the first metric;
        * ``dvc``: the ``plots:`` of ``dvc.yaml`` (only those ``targets`` name: plot ids
          or data files), one chart per plot, a line per revision.

        The first three return one chart. Raises
        :class:`~jupyter_exp.errors.InvalidArgumentError` for an unknown kind, metric or
        param, :class:`~jupyter_exp.errors.ExperimentNotFoundError` /
        :class:`~jupyter_exp.errors.RevisionNotFoundError` for an unknown name and
        :class:`~jupyter_exp.errors.PlotDefinitionError` for a plot that cannot be drawn.
        """
        if kind not in PLOT_KINDS:
            raise InvalidArgumentError(
                f"unknown plot kind {kind!r} (kinds: {', '.join(PLOT_KINDS)})", argument="kind"
            )
        if kind == "dvc":
            return self._dvc_plots(experiments, targets)
        from ..plots.experiments import choose_chart

        frame, kinds = self._plot_frame(experiments)
        chart = choose_chart(
            frame,
            kinds,
            metrics,
            steps=kind == "steps",
            parallel=kind == "parallel",
            params=params,
        )
        return [chart]

    def _plot_frame(self, names: Sequence[str] | None) -> tuple[pd.DataFrame, dict[str, str]]:
        """The ``exp show`` rows of ``HEAD`` (only those ``names`` names) and the
        column kinds."""
        from ..experiments.dataframe import to_dataframe

        table = self.exp_show_table(hide_queued=True)
        frame = to_dataframe(table)
        kinds = {c.name: c.kind for c in table.columns}
        if names is None:
            return frame, kinds
        labels = [
            {v for v in (row.get("Experiment"), row.get("rev")) if isinstance(v, str)}
            for _, row in frame.iterrows()
        ]
        for name in names:
            if not any(name in found for found in labels):
                raise ExperimentNotFoundError(name)
        wanted = set(names)
        return frame[[bool(found & wanted) for found in labels]], kinds

    def _dvc_plots(self, names: Sequence[str] | None, targets: Sequence[str]) -> list[PlotSpec]:
        from ..plots.dvc_plots import dvc_plot_specs
        from ..plots.revisions import default_revisions, resolve_revisions

        git = self._git()
        revisions = default_revisions(git) if names is None else resolve_revisions(git, names)
        return dvc_plot_specs(self.repo, git, revisions, targets)
