"""ipywidgets over :class:`jupyter_exp.Project`: the interactive experiments table.

``ExperimentsTable(project)`` (what ``%exp_show --widget`` shows) lists the experiments in
an itables DataTable (sort, search, select) with actions on the selection. See
``docs/widgets.md``.
"""

from __future__ import annotations

from .experiments_table import ExperimentsTable
from .live import LiveRefresh

__all__ = ["ExperimentsTable", "LiveRefresh"]
