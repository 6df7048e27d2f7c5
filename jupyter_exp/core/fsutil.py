"""Small filesystem helpers: atomic writes, safe removal, temp names.

Everything that writes state the user or DVC reads goes through :func:`atomic_write_bytes`
so a crash never leaves a half-written file: the data goes to a temp file in the same
folder (same filesystem, so the rename is atomic), is fsynced, then renamed over the
target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
from pathlib import Path

__all__ = [
    "UMASK",
    "atomic_write_bytes",
    "atomic_write_text",
    "is_exec",
    "make_writable",
    "remove_path",
    "tmp_name",
]


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once at import, like DVC does.
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _read_umask()


def tmp_name(path: Path) -> Path:
    """A unique temp path next to ``path`` (same folder, so renames stay atomic)."""
    return path.with_name(f"{path.name}.{os.urandom(8).hex()}.tmp")  # uuid costs ~4 ms to import


def is_exec(mode: int) -> bool:
    """True when any execute bit is set (how DVC decides ``isexec``)."""
    return bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically: temp file, fsync, ``os.replace``.

    ``mode`` sets the permission bits of the new file (default: ``0o666 & ~umask``,
    what a plain ``open()`` gives).
    """
    path = Path(path)
    tmp = tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fobj:
            fobj.write(data)
            fobj.flush()
            os.fsync(fobj.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def make_writable(path: str | os.PathLike[str]) -> None:
    """Add the owner's write bit (cache objects and links to them are read-only)."""
    with contextlib.suppress(OSError):
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode):
            os.chmod(path, stat.S_IMODE(mode) | stat.S_IWUSR)


def _on_rmtree_error(func, path, exc_info) -> None:  # type: ignore[no-untyped-def]
    # A read-only file in a read-only folder: make the folder writable and retry.
    exc = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if isinstance(exc, FileNotFoundError):
        return
    if isinstance(exc, PermissionError):
        make_writable(os.path.dirname(path))
        make_writable(path)
        func(path)
        return
    raise exc


def remove_path(path: Path) -> None:
    """Remove a file, symlink (not its target) or directory tree; missing is fine.

    Read-only files and folders (cache links, protected outputs) are handled.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=_on_rmtree_error)
        else:
            shutil.rmtree(path, onerror=_on_rmtree_error)
        return
    try:
        os.unlink(path)
    except PermissionError:
        make_writable(path.parent)
        os.unlink(path)
    except OSError as exc:  # pragma: no cover - racing removal
        if exc.errno != errno.ENOENT:
            raise
