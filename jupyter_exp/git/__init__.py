"""Git access for the experiments layer: the only package that runs git.

:class:`Git` combines the repository-level plumbing (``repository.py``: running git,
revisions, refs, reading commits and history) with the work-tree operations
(``workspace.py``) and the remote ones (``remotes.py``).
"""

from .repository import Git, RefInfo, TreeEntry
from .workspace import ZERO_SHA

__all__ = ["ZERO_SHA", "Git", "RefInfo", "TreeEntry"]
