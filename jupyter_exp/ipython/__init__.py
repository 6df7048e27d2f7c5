"""IPython integration: ``%load_ext jupyter_exp`` registers the ``%exp_*`` magics.

See :mod:`jupyter_exp.ipython.magics` and :mod:`.sharing_magics`; docs/magics.md describes them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ip: Any) -> None:
    """Register the magics on the shell ``ip`` (IPython calls this on ``%load_ext``)."""
    from .magics import ExperimentMagics
    from .sharing_magics import SharingMagics

    ip.register_magics(ExperimentMagics, SharingMagics)


def unload_ipython_extension(ip: Any) -> None:
    """Remove the ``%exp_*`` magics from ``ip``."""
    from .magics import ExperimentMagics
    from .sharing_magics import SharingMagics

    line_magics = ip.magics_manager.magics["line"]
    for magics in (ExperimentMagics, SharingMagics):
        for name in magics.magics["line"]:
            line_magics.pop(name, None)
        ip.magics_manager.registry.pop(magics.__name__, None)
