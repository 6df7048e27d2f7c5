"""IPython integration: ``%load_ext jupyter_exp`` registers the ``%exp_*`` magics.

See :mod:`jupyter_exp.ipython.magics`; docs/magics.md describes them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ip: Any) -> None:
    """Register the magics on the shell ``ip`` (IPython calls this on ``%load_ext``)."""
    from .magics import ExperimentMagics

    ip.register_magics(ExperimentMagics)


def unload_ipython_extension(ip: Any) -> None:
    """Remove the ``%exp_*`` magics from ``ip``."""
    from .magics import ExperimentMagics

    line_magics = ip.magics_manager.magics["line"]
    for name in ExperimentMagics.magics["line"]:
        line_magics.pop(name, None)
    ip.magics_manager.registry.pop(ExperimentMagics.__name__, None)
