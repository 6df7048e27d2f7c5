"""jupyter-exp: experiment versioning for Jupyter, on DVC 3's formats.

>>> from jupyter_exp import Project
>>> Project(".").repro()
"""

from __future__ import annotations

from ._version import __version__
from .api import Project
from .errors import JupyterExpError

__all__ = ["JupyterExpError", "Project", "__version__"]
