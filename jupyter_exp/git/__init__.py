"""Git access for the experiments layer: the only package that runs git."""

from .repository import ZERO_SHA, Git, RefInfo, TreeEntry

__all__ = ["ZERO_SHA", "Git", "RefInfo", "TreeEntry"]
