"""IPython integration: ``%load_ext jupyter_exp`` registers the ``%exp_*`` magics and
``%%checkpoint``.

See :mod:`jupyter_exp.ipython.magics`, :mod:`.sharing_magics` and :mod:`.checkpoint_magic`;
docs/magics.md describes them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def _magic_classes() -> tuple[type, ...]:
    from .checkpoint_magic import CheckpointMagics
    from .magics import ExperimentMagics
    from .sharing_magics import SharingMagics

    return ExperimentMagics, SharingMagics, CheckpointMagics


def load_ipython_extension(ip: Any) -> None:
    """Register the magics on the shell ``ip`` (IPython calls this on ``%load_ext``)."""
    ip.register_magics(*_magic_classes())


def unload_ipython_extension(ip: Any) -> None:
    """Remove the ``%exp_*`` line magics and the ``%%checkpoint`` cell magic from ``ip``."""
    registered = ip.magics_manager.magics
    for magics in _magic_classes():
        for kind in ("line", "cell"):
            for name in magics.magics[kind]:
                registered[kind].pop(name, None)
        ip.magics_manager.registry.pop(magics.__name__, None)
