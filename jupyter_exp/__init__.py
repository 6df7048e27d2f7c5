"""jupyter-exp: experiment versioning for Jupyter, on DVC 3's formats.

>>> from jupyter_exp import Project
>>> Project(".").repro()

``Project`` is imported on first access (PEP 562), so ``import jupyter_exp`` and the
CLI's ``--version``/``--help`` stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import JupyterExpError

if TYPE_CHECKING:
    from .api import Project

__all__ = [
    "JupyterExpError",
    "Project",
    "__version__",
    "log_metric",
    "log_param",
    "log_params",
    "make_checkpoint",
]

# Name -> module for what is imported on first access.
_LAZY = {
    "Project": "api",
    "log_metric": "tracking",
    "log_param": "tracking",
    "log_params": "tracking",
    "make_checkpoint": "checkpoints",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_exp' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)


def load_ipython_extension(ip: Any) -> None:
    """``%load_ext jupyter_exp``: register the ``%exp_*`` magics (imported only now)."""
    from .ipython import load_ipython_extension as load

    load(ip)


def unload_ipython_extension(ip: Any) -> None:
    """``%unload_ext jupyter_exp``: remove the magics."""
    from .ipython import unload_ipython_extension as unload

    unload(ip)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension develop`` finds the built lab extension."""
    return [{"src": "labextension", "dest": "jupyter-exp"}]
