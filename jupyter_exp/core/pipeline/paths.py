"""Turning paths written in ``dvc.yaml`` into repo-relative POSIX paths, inside the repo."""

from __future__ import annotations

import os
import re

from .model import join_repo_path

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class PathResolver:
    """Resolves ``def_path`` against a wdir; remembers real parent folders per load.

    A path is outside the repository when it climbs above the root (``../x``), is an
    absolute path elsewhere, is a URL, or goes through a folder that is a symlink to
    somewhere outside the root. The last component itself may be a symlink (DVC links
    outputs into the cache), so only its parent folders are resolved.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._real_root = os.path.realpath(root)
        self._dir_ok: dict[str, bool] = {}

    def repo_path(self, wdir: str, def_path: str) -> str | None:
        """Repo-relative path of ``def_path`` written in ``wdir``; None if outside."""
        if "://" in def_path and _URL.match(def_path):
            return None
        if def_path[:1] == "/" or (os.sep != "/" and os.path.isabs(def_path)):
            rel = os.path.relpath(os.path.normpath(def_path), self.root)
            rel = rel.replace(os.sep, "/")
        elif _is_plain(def_path):
            # the common case, without normpath: "data/x.csv" in wdir "." or "sub"
            rel = def_path if wdir == "." else f"{wdir}/{def_path}"
        else:
            rel = join_repo_path(wdir, def_path)
        if rel == ".." or rel.startswith("../") or rel[:1] == "/":
            return None
        parent = rel.rpartition("/")[0]
        if parent and not self._parent_inside(parent):
            return None
        return rel

    def dir_inside(self, rel_dir: str) -> bool:
        """True when the folder ``rel_dir`` (repo-relative) really lies inside the root."""
        return rel_dir in ("", ".") or self._parent_inside(rel_dir)

    def _parent_inside(self, rel_dir: str) -> bool:
        if rel_dir in ("", "."):
            return True
        known = self._dir_ok.get(rel_dir)
        if known is None:
            real = os.path.realpath(os.path.join(self.root, rel_dir))
            known = real == self._real_root or real.startswith(self._real_root + os.sep)
            self._dir_ok[rel_dir] = known
        return known


def _is_plain(path: str) -> bool:
    """True when ``path`` is already normalised: no ``.``/``..`` parts, no ``//``."""
    return not (
        path[:1] == "."
        or "/." in path
        or "//" in path
        or path.endswith("/")
        or (os.sep != "/" and os.sep in path)
    )
