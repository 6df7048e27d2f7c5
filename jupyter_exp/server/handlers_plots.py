"""GET plots/specs: ready-to-render Vega-Lite charts of experiments (``Project.exp_plots``)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..project.plots import PLOT_KINDS
from .base import ExpHandler, check_relative
from .errors import BadRequest

__all__ = ["PlotSpecsHandler"]


class PlotSpecsHandler(ExpHandler):
    """GET plots/specs: ``{"specs": [{"title", "spec"}...]}``, each ``spec`` a complete
    Vega-Lite v5 spec the client renders as it is (JupyterLab's rendermime does)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Query: path, kind (metrics, steps, parallel, dvc; default metrics), experiments
        (repeatable; default the workspace, HEAD and its experiments), metric and param
        (repeatable), target (repeatable: dvc.yaml plot ids or data files, kind dvc)."""
        kind = self.q_str("kind", "metrics") or "metrics"
        if kind not in PLOT_KINDS:
            raise BadRequest(f"kind must be one of {', '.join(PLOT_KINDS)}", argument="kind")
        experiments = self.q_list("experiments") or None
        metrics, params = self.q_list("metric"), self.q_list("param")
        targets = self.q_list("target")
        for target in targets:
            check_relative(target, "target")
        path = self.q_str("path")
        plots = await self.blocking(
            lambda: self.project(path).exp_plots(
                experiments, kind, metrics=metrics, params=params, targets=targets
            )
        )
        self.reply({"specs": [plot.to_dict() for plot in plots]})
