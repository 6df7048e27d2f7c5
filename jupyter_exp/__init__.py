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

__all__ = ["JupyterExpError", "Project", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Project":
        from .api import Project

        return Project
    raise AttributeError(f"module 'jupyter_exp' has no attribute {name!r}")
