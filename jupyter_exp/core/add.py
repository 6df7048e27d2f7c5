"""``add``: track a file or directory as ``dvc add PATH`` does.

Hash it (with the state db), copy it into the cache, write ``PATH.dvc`` next to it
(or update the ``.dvc`` file that already tracks it, keeping its other fields) and add
``/name`` to the ``.gitignore`` of its folder. The workspace copy stays where it is;
with ``cache.type`` hardlink or symlink it is then replaced by a link into the cache,
which is what DVC does.

The caller holds the repository lock (``Repo.lock()``) and refuses outputs of
pipeline stages (``Index.check_addable``); this module checks everything it can know
from the path and the ``*.dvc`` files.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING

from ..errors import InvalidArgumentError, OverlappingOutputError, PathOutsideRepoError
from ..events import EventSink
from .cache import Cache
from .checkout import checkout
from .dvcfile import DVCFILE_SUFFIX, find_dvcfiles, load_data_source, write_dvcfile
from .gitignore import ensure_ignored, git_root, is_ignored
from .hashing import hash_path
from .ignore import DvcIgnore
from .state import StateDB, state_path

if TYPE_CHECKING:
    from .repo import Repo

__all__ = ["add", "normalize_target"]

_RESERVED_NAMES = frozenset({"dvc.yaml", "dvc.lock", ".gitignore", ".dvcignore"})


def normalize_target(repo: Repo, target: str | os.PathLike[str]) -> str:
    """Repo-relative POSIX path of ``target`` (absolute, or relative to the repo root)."""
    text = os.fspath(target)
    if os.path.isabs(text):
        rel = repo.relpath(text)
    else:
        rel = posixpath.normpath(text.replace(os.sep, "/"))
    if rel == ".." or rel.startswith("../"):
        raise PathOutsideRepoError(text)
    if rel in ("", "."):
        raise InvalidArgumentError("cannot add the repository root itself", argument="target")
    return rel


def _check_target(repo: Repo, rel: str) -> None:
    parts = rel.split("/")
    if parts[0] in (".git", ".dvc") or ".git" in parts:
        raise InvalidArgumentError(
            f"cannot add '{rel}': it is inside '{parts[0]}', which DVC manages",
            argument="target",
        )
    name = parts[-1]
    if name.endswith(DVCFILE_SUFFIX) or name in _RESERVED_NAMES:
        raise InvalidArgumentError(
            f"cannot add '{rel}': it is a DVC/Git metadata file", argument="target"
        )
    path = repo.abspath(rel)
    if not os.path.lexists(path):
        raise InvalidArgumentError(f"cannot add '{rel}': it does not exist", argument="target")
    if not os.path.exists(path):
        raise InvalidArgumentError(f"cannot add '{rel}': it is a broken symlink", argument="target")
    if DvcIgnore(repo.root).is_ignored(rel, os.path.isdir(path)):
        raise InvalidArgumentError(
            f"cannot add '{rel}': it is ignored by .dvcignore", argument="target"
        )


def _owning_dvcfile(repo: Repo, rel: str) -> tuple[str, str] | None:
    """The ``.dvc`` file that already tracks ``rel`` and the out path written in it.

    Raises :class:`OverlappingOutputError` when ``rel`` is inside, or contains, an
    output of another ``.dvc`` file.
    """
    own = rel + DVCFILE_SUFFIX
    candidates = find_dvcfiles(repo)
    if own in candidates:
        # The usual case first: PATH.dvc next to PATH.
        stage, _ = load_data_source(repo, own)
        for out in stage.outs:
            if out.repo_path == rel:
                return own, out.def_path
    for dvcfile in candidates:
        stage, _ = load_data_source(repo, dvcfile)
        for out in stage.outs:
            if out.repo_path == rel:
                return dvcfile, out.def_path
            if rel.startswith(out.repo_path + "/"):
                raise OverlappingOutputError(rel, own, out.repo_path, dvcfile)
            if out.repo_path.startswith(rel + "/"):
                raise OverlappingOutputError(out.repo_path, dvcfile, rel, own)
    return None


def add(repo: Repo, target: str, on_event: EventSink | None = None) -> str:
    """Track ``target`` (repo-relative or absolute) with DVC; return the ``.dvc`` path.

    Raises :class:`InvalidArgumentError` for a missing, ignored or reserved path or one
    inside ``.git``/``.dvc``, :class:`PathOutsideRepoError` outside the repository, and
    :class:`OverlappingOutputError` when another ``.dvc`` file tracks a path around it.
    """
    rel = normalize_target(repo, target)
    _check_target(repo, rel)
    owner = _owning_dvcfile(repo, rel)
    if owner is None:
        dvcfile, def_path = rel + DVCFILE_SUFFIX, posixpath.basename(rel)
    else:
        dvcfile, def_path = owner
    work_tree = git_root(repo.root)
    if work_tree is not None:
        rel_git = repo.abspath(dvcfile).relative_to(work_tree).as_posix()
        if is_ignored(work_tree, rel_git):
            # Git would never see the .dvc file: DVC refuses this too.
            raise InvalidArgumentError(
                f"bad DVC file name '{dvcfile}' is git-ignored", argument="target"
            )

    repo.ensure_dvc_dir()
    cache = Cache(repo)
    with StateDB(state_path(repo.tmp_dir)) as state:
        hashed = hash_path(repo, rel, state, on_event)
        if hashed is None:  # vanished since the checks above
            raise InvalidArgumentError(f"cannot add '{rel}': it does not exist", argument="target")
        info, tree = hashed
        path = repo.abspath(rel)
        cache.save(path, info, tree)
        write_dvcfile(repo, dvcfile, [(def_path, info)])
        ensure_ignored(repo, rel)
        link_types = repo.config.link_types
        if link_types[0] in ("hardlink", "symlink"):
            # DVC relinks the workspace to the cache so the data is stored once.
            checkout(cache, info, path, link_types, tree, state=state, relink=True)
    return dvcfile
