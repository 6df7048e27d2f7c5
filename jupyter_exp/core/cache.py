"""The content-addressed cache, laid out and written exactly as DVC 3 does.

Objects live at ``<cache_dir>/files/md5/<md5[:2]>/<md5[2:]>``; a directory's ``.dir``
object (the JSON list written by :func:`~.hashing.tree_bytes`) is stored under its md5
including the ``.dir`` suffix. Objects are read-only (``0o444``): DVC trusts an object
with that mode without re-hashing it, and links to it cannot be edited by accident.

Saving never moves the user's file: content is copied to a temp file next to the
object, made read-only, then renamed into place, so a crash leaves no half object.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CacheMissingError, DataError
from .fsutil import tmp_name
from .hashing import md5_file, tree_bytes
from .objects import HashInfo, TreeEntry

if TYPE_CHECKING:
    from .repo import Repo

__all__ = ["CACHE_MODE", "Cache"]

CACHE_MODE = 0o444
_COPY_POOL_MIN_FILES = 8


class Cache:
    """The local cache of a repository (``repo.cache_dir``)."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.root = Path(repo.cache_dir)
        self.objects_dir = self.root / "files" / "md5"

    # --- layout ------------------------------------------------------------------------

    def object_path(self, md5: str) -> Path:
        """Where the object with this md5 (``.dir`` suffix included for trees) lives."""
        return self.objects_dir / md5[:2] / md5[2:]

    def exists(self, md5: str) -> bool:
        """True when the single object ``md5`` is present."""
        return os.path.exists(self.object_path(md5))

    def has(self, info: HashInfo, tree: list[TreeEntry] | None = None) -> bool:
        """True when everything ``info`` needs is cached (a tree: the ``.dir`` and files)."""
        if not info.isdir:
            return self.exists(info.md5)
        if not self.exists(info.md5):
            return False
        if tree is None:
            try:
                tree = self.read_tree(info.md5)
            except CacheMissingError:
                return False
        return all(self.exists(entry.md5) for entry in tree)

    def missing(self, info: HashInfo, tree: list[TreeEntry] | None = None) -> list[str]:
        """Relpaths (``""`` for the object itself) of what ``info`` lacks in the cache."""
        if not info.isdir:
            return [] if self.exists(info.md5) else [""]
        if tree is None:
            try:
                tree = self.read_tree(info.md5)
            except CacheMissingError:
                return [""]
        return [e.relpath for e in tree if not self.exists(e.md5)]

    # --- reading -----------------------------------------------------------------------

    def read_tree(self, md5: str) -> list[TreeEntry]:
        """The entries of the ``.dir`` object ``md5``; CacheMissingError if absent/corrupt."""
        path = self.object_path(md5)
        try:
            raw = json.loads(path.read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            raise CacheMissingError(str(path), md5) from None
        except ValueError:
            # A corrupt object is as good as a missing one (DVC: ObjectFormatError).
            raise CacheMissingError(str(path), md5) from None
        if not isinstance(raw, list):
            raise CacheMissingError(str(path), md5)
        try:
            return [TreeEntry(relpath=str(d["relpath"]), md5=str(d["md5"])) for d in raw]
        except (KeyError, TypeError):
            raise CacheMissingError(str(path), md5) from None

    # --- writing -----------------------------------------------------------------------

    def save(self, src: Path, info: HashInfo, tree: list[TreeEntry] | None = None) -> None:
        """Copy the content of ``src`` (file or directory) into the cache.

        ``info``/``tree`` are what :func:`~.hashing.hash_path` returned for ``src``.
        Objects already present are skipped. Raises :class:`DataError` when a file
        changed while it was being copied.
        """
        src = Path(src)
        if not info.isdir:
            self._save_file(src, info.md5)
            return
        if tree is None:
            raise ValueError("saving a directory needs its tree entries")
        todo: dict[str, str] = {}
        for entry in tree:
            if entry.md5 not in todo and not self.exists(entry.md5):
                todo[entry.md5] = entry.relpath
        items = list(todo.items())
        if len(items) >= _COPY_POOL_MIN_FILES:
            with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) + 2)) as pool:
                list(pool.map(lambda item: self._save_file(src / item[1], item[0]), items))
        else:
            for md5, relpath in items:
                self._save_file(src / relpath, md5)
        # The .dir object goes last: its presence promises the files are there too.
        self.add_bytes(info.md5, tree_bytes(tree))

    def add_bytes(self, md5: str, data: bytes) -> None:
        """Store ``data`` as object ``md5`` (no-op when present)."""
        dest = self.object_path(md5)
        if dest.exists():
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_name(dest)
        try:
            with open(tmp, "xb") as fobj:
                fobj.write(data)
                fobj.flush()
                os.fsync(fobj.fileno())
            self._publish(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _save_file(self, src: Path, md5: str) -> None:
        dest = self.object_path(md5)
        if dest.exists():
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_name(dest)
        try:
            before = os.stat(src)
            shutil.copyfile(src, tmp)  # copy_file_range/sendfile: no Python-level buffers
            after = os.stat(src)
            if _identity(before) != _identity(after) and md5_file(tmp) != md5:
                rel = self._shown(src)
                raise DataError(f"'{rel}' changed while it was being saved to the cache")
            with open(tmp, "rb") as fobj:
                os.fsync(fobj.fileno())
            self._publish(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    @staticmethod
    def _publish(tmp: Path, dest: Path) -> None:
        os.chmod(tmp, CACHE_MODE)
        os.replace(tmp, dest)

    def _shown(self, path: Path) -> str:
        try:
            return self.repo.relpath(path)
        except Exception:
            return str(path)

    def iter_objects(self) -> Iterable[str]:
        """Every md5 present in the cache (``.dir`` suffix kept)."""
        if not self.objects_dir.is_dir():
            return
        for prefix in sorted(os.listdir(self.objects_dir)):
            folder = self.objects_dir / prefix
            if len(prefix) != 2 or not folder.is_dir():
                continue
            for name in sorted(os.listdir(folder)):
                if not name.endswith(".tmp"):
                    yield prefix + name


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_ino, st.st_mtime_ns, st.st_size
