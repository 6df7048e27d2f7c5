"""Vega-Lite charts of experiments, for every front end.

A chart is a :class:`PlotSpec`: a title and a plain Vega-Lite v5 spec (JSON-able dicts),
which JupyterLab, Notebook 7 and VS Code render natively and the server sends as JSON.
:mod:`.experiments` draws metrics and params from the ``exp show`` table;
:mod:`.dvc_plots` draws the ``plots:`` a ``dvc.yaml`` defines, one line per revision.
"""

from __future__ import annotations

from .spec import SCHEMA, PlotSpec

__all__ = ["SCHEMA", "PlotSpec"]
