"""md5 of files and directories, exactly as DVC 3 computes them.

A file's hash is the md5 of its raw bytes (DVC 3 no longer applies dos2unix). A
directory's hash is the md5 of its ``.dir`` object -- the JSON list of
``{"md5", "relpath"}`` of every file, sorted by relpath, dumped with
``json.dumps(..., sort_keys=True)`` -- followed by ``.dir``; its size is the sum of the
file sizes and ``nfiles`` their count. ``isexec`` is recorded for single files only,
as DVC's ``Meta.to_dict()`` does (the ``.dir`` object carries no file metadata).

Unchanged files are looked up in the :class:`~.state.StateDB` instead of being read.
Files that must be read are hashed by a thread pool: hashlib releases the GIL on large
updates, so reads and md5 rounds of several files overlap.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError
from ..events import EventSink, HashingProgress
from .fsutil import is_exec
from .ignore import DvcIgnore, WalkEntry, walk_files
from .objects import HashInfo, TreeEntry
from .state import StateDB, is_racy

if TYPE_CHECKING:
    from .repo import Repo

__all__ = [
    "CHUNK_SIZE",
    "hash_dir",
    "hash_file",
    "hash_path",
    "md5_file",
    "tree_bytes",
    "tree_md5",
]

CHUNK_SIZE = 1 << 20
DIR_SUFFIX = ".dir"
# Below this many bytes to read, a thread pool costs more than it saves.
_POOL_MIN_BYTES = 4 * CHUNK_SIZE
# Directories with at least this many files report HashingProgress.
PROGRESS_MIN_FILES = 100
_PROGRESS_INTERVAL_S = 0.1


def _workers() -> int:
    return min(16, (os.cpu_count() or 1) + 2)


def md5_file(path: str | os.PathLike[str]) -> str:
    """md5 hex digest of the raw bytes of ``path``, read in 1 MiB chunks."""
    hasher = hashlib.md5(usedforsecurity=False)
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fobj:
        while True:
            n = fobj.readinto(buf)
            if not n:
                break
            hasher.update(view[:n])
    return hasher.hexdigest()


def hash_file(path: Path, state: StateDB | None = None) -> HashInfo:
    """Hash one file (following symlinks), using and feeding ``state``."""
    st = os.stat(path)
    md5 = state.get_file(st) if state is not None else None
    if md5 is None:
        started = time.time_ns()
        md5 = md5_file(path)
        if state is not None and not is_racy(st, started):
            state.set_files([(st, md5)])
    return HashInfo(md5=md5, size=st.st_size, isexec=is_exec(st.st_mode))


def tree_bytes(entries: Iterable[TreeEntry]) -> bytes:
    """The ``.dir`` object DVC writes for these entries (sorted, ``sort_keys``)."""
    items = sorted(
        ({"md5": e.md5, "relpath": e.relpath} for e in entries),
        key=lambda item: item["relpath"],
    )
    return json.dumps(items, sort_keys=True).encode("utf-8")


def tree_md5(entries: Iterable[TreeEntry]) -> str:
    """The directory hash: md5 of :func:`tree_bytes` plus ``.dir``."""
    return hashlib.md5(tree_bytes(entries), usedforsecurity=False).hexdigest() + DIR_SUFFIX


def _stat_digest(files: Sequence[WalkEntry]) -> str:
    # Identity of every file of a directory; equal digests mean nothing was touched.
    hasher = hashlib.md5(usedforsecurity=False)
    for entry in files:
        st = entry.stat
        hasher.update(
            f"{entry.relpath}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_size}\n".encode(
                "utf-8", "surrogateescape"
            )
        )
    return hasher.hexdigest()


def hash_dir(
    path: Path,
    state: StateDB | None = None,
    on_event: EventSink | None = None,
    *,
    repo_path: str | None = None,
    ignore: DvcIgnore | None = None,
) -> tuple[HashInfo, list[TreeEntry]]:
    """Hash a directory: its :class:`HashInfo` and its files sorted by relpath.

    ``repo_path`` names it in events and, with ``ignore``, applies ``.dvcignore``.
    """
    files = sorted(walk_files(path, repo_path, ignore), key=lambda e: e.relpath)
    stats = [e.stat for e in files]
    md5s: list[str | None] = state.get_files(stats) if state is not None else [None] * len(files)
    todo = [i for i, md5 in enumerate(md5s) if md5 is None]
    racy = False
    if todo:
        started = time.time_ns()
        _hash_many(files, md5s, todo, on_event, repo_path or os.fspath(path))
        fresh = [(stats[i], md5s[i]) for i in todo if not is_racy(stats[i], started)]
        racy = len(fresh) < len(todo)
        if state is not None and fresh:
            state.set_files(fresh)  # type: ignore[arg-type]
    tree = [
        TreeEntry(e.relpath, md5, e.stat.st_size, is_exec(e.stat.st_mode))
        for e, md5 in zip(files, md5s, strict=True)
        if md5 is not None
    ]
    if state is None:
        md5 = tree_md5(tree)
    else:
        # An untouched directory skips serialising and hashing its (maybe huge) tree.
        dir_st = os.stat(path)
        digest = _stat_digest(files)
        md5 = state.get_dir(dir_st, digest)
        if md5 is None:
            md5 = tree_md5(tree)
            if not racy:
                state.set_dir(dir_st, digest, md5)
    size = sum(e.stat.st_size for e in files)
    return HashInfo(md5=md5, size=size, nfiles=len(tree)), tree


def _hash_many(
    files: Sequence[WalkEntry],
    md5s: list[str | None],
    todo: list[int],
    on_event: EventSink | None,
    label: str,
) -> None:
    """Fill ``md5s[i]`` for every ``i`` in ``todo``; threads when there is enough to read."""
    total = len(files)
    done = total - len(todo)
    report = on_event is not None and total >= PROGRESS_MIN_FILES
    if report:
        on_event(HashingProgress(path=label, done=done, total=total))  # type: ignore[misc]
    last = time.monotonic()

    def one(i: int) -> tuple[int, str]:
        return i, md5_file(files[i].path)

    to_read = sum(files[i].stat.st_size for i in todo)
    if len(todo) > 1 and to_read >= _POOL_MIN_BYTES:
        # Imported here: only big first-time hashes need threads, and the import
        # (with logging) would cost every no-op command several milliseconds.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=_workers()) as pool:
            results = pool.map(one, todo)
            for i, md5 in results:
                md5s[i] = md5
                done += 1
                if report and time.monotonic() - last >= _PROGRESS_INTERVAL_S:
                    last = time.monotonic()
                    on_event(HashingProgress(path=label, done=done, total=total))  # type: ignore[misc]
    else:
        for i in todo:
            md5s[i] = one(i)[1]
            done += 1
            if report and time.monotonic() - last >= _PROGRESS_INTERVAL_S:
                last = time.monotonic()
                on_event(HashingProgress(path=label, done=done, total=total))  # type: ignore[misc]
    if report:
        on_event(HashingProgress(path=label, done=total, total=total))  # type: ignore[misc]


def hash_path(
    repo: Repo,
    repo_path: str,
    state: StateDB | None = None,
    on_event: EventSink | None = None,
) -> tuple[HashInfo, list[TreeEntry] | None] | None:
    """Hash a workspace path as DVC would for an output or dependency.

    Returns ``(HashInfo, None)`` for a file, ``(HashInfo, entries)`` for a directory, and
    None when the path does not exist (or is excluded by ``.dvcignore``).
    """
    path = repo.abspath(repo_path)
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    is_dir = stat.S_ISDIR(st.st_mode)
    ignore = DvcIgnore(repo.root)
    if ignore.is_ignored(repo_path, is_dir):
        return None
    if is_dir:
        return hash_dir(path, state, on_event, repo_path=repo_path, ignore=ignore)
    if not stat.S_ISREG(st.st_mode):
        # Opening a FIFO would block forever; sockets and devices are not data.
        raise DataError(f"'{repo_path}' is not a regular file or directory")
    return hash_file(path, state), None
