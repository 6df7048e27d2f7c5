"""Vega-Lite charts in a notebook, for ``%exp_plots`` and the widgets.

The specs come from :mod:`jupyter_exp.plots` (shared with the server); this module
wraps them in :class:`Chart`, which displays itself. JupyterLab, Notebook 7 and VS Code
render the ``application/vnd.vegalite.v5+json`` mime type natively; an
``image/svg+xml`` copy is added when ``vl-convert-python`` is installed, so a saved
notebook shows the chart in any viewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..errors import JupyterExpError
from ..plots import SCHEMA, PlotSpec
from ..plots import experiments as _specs
from ..plots.experiments import long_records, numeric_columns

__all__ = [
    "SCHEMA",
    "VEGALITE_MIME",
    "Chart",
    "Charts",
    "choose_chart",
    "long_records",
    "metrics_chart",
    "numeric_columns",
    "parallel_chart",
    "steps_chart",
    "to_svg",
]

VEGALITE_MIME = "application/vnd.vegalite.v5+json"


class Chart:
    """A Vega-Lite spec that displays itself (with an SVG copy when it can make one)."""

    def __init__(self, spec: dict[str, Any], title: str) -> None:
        self.spec = spec
        self.title = title

    @classmethod
    def from_plot(cls, plot: PlotSpec) -> Chart:
        """The chart of a :class:`~jupyter_exp.plots.PlotSpec`."""
        return cls(plot.spec, plot.title)

    def __repr__(self) -> str:
        return f"<Vega-Lite chart: {self.title}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {VEGALITE_MIME: self.spec, "text/plain": repr(self)}
        svg = to_svg(self.spec)
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


class Charts(list):  # type: ignore[type-arg]
    """Several charts (``%exp_plots dvc``): a list that displays each of them in turn."""

    def __init__(self, charts: Iterable[Chart] = ()) -> None:
        super().__init__(charts)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for chart in self:
            display(chart)


def to_svg(spec: dict[str, Any]) -> str | None:
    """The chart as SVG, or None without ``vl-convert-python``."""
    try:
        import vl_convert
    except ImportError:
        return None
    return vl_convert.vegalite_to_svg(spec)


def metrics_chart(frame: pd.DataFrame, metrics: Sequence[str]) -> Chart:
    """One bar chart per metric, a bar per experiment."""
    return Chart.from_plot(_specs.metrics_chart(frame, metrics))


def steps_chart(frame: pd.DataFrame, metrics: Sequence[str]) -> Chart:
    """Each metric against the checkpoint step, a line per experiment."""
    return Chart.from_plot(_specs.steps_chart(frame, metrics))


def parallel_chart(frame: pd.DataFrame, params: Sequence[str], metric: str) -> Chart:
    """Parallel coordinates: each experiment a line through its params and ``metric``."""
    return Chart.from_plot(_specs.parallel_chart(frame, params, metric))


def choose_chart(
    frame: pd.DataFrame,
    kinds: Mapping[str, str],
    metrics: Sequence[str] = (),
    *,
    steps: bool = False,
    parallel: bool = False,
    params: Sequence[str] = (),
) -> Chart:
    """What ``%exp_plots`` draws; unknown or missing names raise ``ValueError``."""
    try:
        plot = _specs.choose_chart(
            frame, kinds, metrics, steps=steps, parallel=parallel, params=params
        )
    except JupyterExpError as error:
        raise ValueError(str(error)) from None
    return Chart.from_plot(plot)
