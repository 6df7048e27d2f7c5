"""Map a ``path`` parameter (relative to the server's root dir) to a project.

Nothing outside ``root_dir`` is ever opened: absolute paths and ``..`` components are
refused (403), and so is a path whose real location (symlinks followed) leaves the root;
a path that does not exist, or whose repository is not inside the root, is a 404.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ..api import Project
from ..errors import NotInRepositoryError
from .errors import http_error

__all__ = ["project_for", "resolve_path"]


def resolve_path(root_dir: str | os.PathLike[str], path: str | None) -> Path:
    """The real location of ``path`` (API form: ``/``-separated, relative to ``root_dir``).

    Raises a 403 :class:`tornado.web.HTTPError` for an absolute path, a ``..`` component or a
    location outside the root, and a 404 when nothing is there.
    """
    root = Path(root_dir).resolve()
    text = (path or "").replace("\\", "/")
    if "\x00" in text:
        raise http_error(403, "path must not contain NUL characters")
    pure = PurePosixPath(text)
    # "C:/..." is absolute on Windows only; refuse drive letters everywhere.
    if pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise http_error(403, f"path must be relative to the server root: {path!r}")
    if ".." in pure.parts:
        raise http_error(403, f"path must not contain '..': {path!r}")
    target = (root / Path(*pure.parts)).resolve() if pure.parts else root
    if target != root and root not in target.parents:
        raise http_error(403, f"path leaves the server root: {path!r}")
    if not target.exists():
        raise http_error(404, f"no such file or folder: {path!r}")
    return target


def project_for(root_dir: str | os.PathLike[str], path: str | None) -> Project:
    """The project containing ``path``; it must lie inside ``root_dir`` too.

    Raises :class:`~jupyter_exp.errors.NotInRepositoryError` (404) when no repository
    inside the root contains the path, besides :func:`resolve_path`'s errors.
    """
    root = Path(root_dir).resolve()
    target = resolve_path(root, path)
    shown = path or "."
    try:
        project = Project(target)
    except NotInRepositoryError:
        # Re-raised with the API path: the server's absolute paths stay private.
        raise NotInRepositoryError(shown) from None
    project_root = project.root.resolve()
    if project_root != root and root not in project_root.parents:
        # The enclosing repository starts above the root: the server must not touch it.
        raise NotInRepositoryError(shown)
    return project
