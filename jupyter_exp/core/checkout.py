"""Materialise files and directories from the cache into the workspace.

Each file is linked with the first link type that works, in the configured order
(DVC's ``cache.type``): ``reflink`` (``ioctl(FICLONE)``, a copy-on-write clone),
``hardlink``, ``symlink``, ``copy``. A link type that fails with "not supported here"
is dropped for the rest of the checkout. Every file is created under a temp name and
renamed over the destination, so a reader never sees half a file.

Before anything in the workspace changes we check that every object is in the cache,
so a missing object leaves the workspace untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CacheMissingError, InvalidArgumentError
from .config import LINK_TYPES
from .fsutil import UMASK, remove_path, tmp_name
from .hashing import hash_dir, hash_file, md5_file
from .ignore import DvcIgnore, walk_files
from .objects import HashInfo, TreeEntry
from .state import StateDB, is_racy

if TYPE_CHECKING:
    from .cache import Cache

__all__ = ["checkout", "is_up_to_date", "link_file"]

FICLONE = 0x40049409  # _IOW(0x94, 9, int) from linux/fs.h
# Errors meaning "this link type cannot work here": try the next one (as DVC does).
_UNSUPPORTED = frozenset(
    {
        errno.EPERM,
        errno.ENOTSUP,
        errno.EOPNOTSUPP,
        errno.EXDEV,
        errno.ENOTTY,
        errno.ENOSYS,
        errno.EINVAL,
        errno.EAGAIN,
        errno.EMLINK,
    }
)


def _reflink(src: str, dst: str) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        raise OSError(errno.ENOTSUP, "reflink is not supported") from None
    src_fd = os.open(src, os.O_RDONLY)
    try:
        dst_fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            fcntl.ioctl(dst_fd, FICLONE, src_fd)
        except OSError:
            os.close(dst_fd)
            with contextlib.suppress(OSError):
                os.unlink(dst)
            raise
        os.close(dst_fd)
    finally:
        os.close(src_fd)
    # A clone may carry the object's read-only mode; a workspace file is writable.
    os.chmod(dst, 0o666 & ~UMASK)


def _copy(src: str, dst: str) -> None:
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o666 & ~UMASK)


def _make_link(link: str, src: str, dst: str) -> None:
    if link == "reflink":
        _reflink(src, dst)
    elif link == "hardlink":
        os.link(src, dst)
    elif link == "symlink":
        os.symlink(src, dst)
    elif link == "copy":
        _copy(src, dst)
    else:
        raise InvalidArgumentError(f"unknown link type '{link}'", argument="link_types")


class _Linker:
    """Links files with the first working link type, remembering which ones fail."""

    def __init__(self, link_types: Sequence[str]) -> None:
        bad = [t for t in link_types if t not in LINK_TYPES]
        if bad or not link_types:
            raise InvalidArgumentError(
                f"unknown link type(s) {', '.join(bad) or '(none)'}", argument="link_types"
            )
        self.links = list(link_types)

    def link(self, src: Path, dest: Path, isexec: bool = False) -> str:
        """Create ``dest`` from object ``src`` atomically; return the link type used."""
        tmp = tmp_name(dest)
        while self.links:
            link = self.links[0]
            try:
                _make_link(link, os.fspath(src), os.fspath(tmp))
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                if exc.errno not in _UNSUPPORTED or link == "copy":
                    raise
                self.links.pop(0)
                continue
            try:
                if isexec:
                    # DVC sets the exec bit on whatever it checked out (links included).
                    mode = os.stat(tmp).st_mode
                    os.chmod(tmp, stat.S_IMODE(mode) | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
                if os.path.isdir(dest) and not os.path.islink(dest):
                    remove_path(dest)
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            return link
        raise OSError(errno.ENOTSUP, f"no link type works for '{dest}'")


def link_file(src: Path, dest: Path, link_types: Sequence[str], isexec: bool = False) -> str:
    """Link one cache object to ``dest`` (see :func:`checkout`); return the link type."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return _Linker(link_types).link(src, dest, isexec)


def _is_link_to(dest: Path, obj: Path) -> bool:
    """True when ``dest`` already is a hardlink or symlink to ``obj``."""
    try:
        if os.path.islink(dest):
            return os.path.realpath(dest) == os.path.realpath(obj)
        return os.path.samefile(dest, obj)
    except OSError:
        return False


def _file_matches(
    dest: Path, md5: str, isexec: bool | None, obj: Path, state: StateDB | None
) -> bool:
    try:
        st = os.stat(dest)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if isexec is not None and bool(st.st_mode & stat.S_IXUSR) != isexec:
        return False
    if _is_link_to(dest, obj):
        return True
    return hash_file(dest, state).md5 == md5


def _shown(cache: Cache, path: Path) -> str:
    try:
        return cache.repo.relpath(path)
    except Exception:
        return str(path)


def checkout(
    cache: Cache,
    info: HashInfo,
    dest: Path,
    link_types: Sequence[str],
    tree: list[TreeEntry] | None = None,
    *,
    state: StateDB | None = None,
    relink: bool = False,
) -> None:
    """Make ``dest`` hold the content ``info`` describes, from the cache.

    Files already matching are left alone unless ``relink``; for a directory, files not
    in the tree are removed (what ``.dvcignore`` hides is never touched). Raises
    :class:`CacheMissingError` naming the first missing path, before changing anything.
    """
    dest = Path(dest)
    if not info.isdir:
        obj = cache.object_path(info.md5)
        if not obj.exists():
            raise CacheMissingError(_shown(cache, dest), info.md5)
        if relink or not _file_matches(dest, info.md5, info.isexec, obj, state):
            link_file(obj, dest, link_types, info.isexec)
        return

    if tree is None:
        try:
            tree = cache.read_tree(info.md5)
        except CacheMissingError:
            raise CacheMissingError(_shown(cache, dest), info.md5) from None
    for entry in tree:
        if not cache.exists(entry.md5):
            raise CacheMissingError(_shown(cache, dest / entry.relpath), entry.md5)

    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        remove_path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    repo_path = _repo_path(cache, dest)
    ignore = DvcIgnore(cache.repo.root) if repo_path is not None else None
    wanted = {entry.relpath for entry in tree}
    _remove_extra(dest, wanted, repo_path, ignore)

    current = {} if relink else _current_md5s(dest, tree, state)
    linker = _Linker(link_types)
    for entry in tree:
        if current.get(entry.relpath) == entry.md5:
            continue
        target = dest / entry.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        linker.link(cache.object_path(entry.md5), target)


def _current_md5s(dest: Path, tree: list[TreeEntry], state: StateDB | None) -> dict[str, str]:
    """md5 of the workspace files at the tree's paths (regular files only)."""
    found: list[tuple[str, str, os.stat_result]] = []
    for entry in tree:
        path = os.path.join(dest, entry.relpath)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if stat.S_ISREG(st.st_mode):
            found.append((entry.relpath, path, st))
    known = state.get_files([st for _, _, st in found]) if state is not None else []
    result: dict[str, str] = {}
    fresh: list[tuple[os.stat_result, str]] = []
    started = time.time_ns()
    for i, (rel, path, st) in enumerate(found):
        md5 = known[i] if known else None
        if md5 is None:
            md5 = md5_file(path)
            if not is_racy(st, started):
                fresh.append((st, md5))
        result[rel] = md5
    if state is not None and fresh:
        state.set_files(fresh)
    return result


def _repo_path(cache: Cache, dest: Path) -> str | None:
    try:
        return cache.repo.relpath(dest)
    except Exception:
        return None


def _remove_extra(
    dest: Path, wanted: set[str], repo_path: str | None, ignore: DvcIgnore | None
) -> None:
    """Delete files under ``dest`` that the tree does not have, then emptied folders."""
    touched: set[Path] = set()
    for found in walk_files(dest, repo_path, ignore, strict=False):
        if found.relpath not in wanted:
            remove_path(Path(found.path))
            touched.add(Path(found.path).parent)
    # Symlinked dirs and non-files at a wanted path also have to go.
    for rel in wanted:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            sub = dest.joinpath(*parts[:i])
            if sub.is_symlink() or (sub.exists() and not sub.is_dir()):
                remove_path(sub)
    for folder in sorted(touched, key=lambda p: len(p.parts), reverse=True):
        while folder != dest and folder.is_relative_to(dest):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def is_up_to_date(cache: Cache, info: HashInfo, dest: Path, state: StateDB | None = None) -> bool:
    """True when ``dest`` already holds exactly what ``info`` describes."""
    dest = Path(dest)
    if not info.isdir:
        return _file_matches(dest, info.md5, info.isexec, cache.object_path(info.md5), state)
    if not dest.is_dir():
        return False
    repo_path = _repo_path(cache, dest)
    ignore = DvcIgnore(cache.repo.root) if repo_path is not None else None
    have, _ = hash_dir(dest, state, repo_path=repo_path, ignore=ignore)
    return have.md5 == info.md5
