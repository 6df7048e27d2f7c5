"""The state db: md5s already computed, keyed by a file's (inode, mtime_ns, size).

Re-hashing a workspace must not re-read unchanged files. We keep what we computed in a
SQLite file (``.dvc/tmp/jupyter-exp/state.db``): SQLite is a keyed on-disk index that
several processes can read and write at once (WAL mode, busy timeout), where a JSON
file would need a full rewrite per update. The db is only a cache: any SQLite failure
degrades to "not known" and a corrupt file is deleted and recreated.

Directories get a row too: the md5 of the ``.dir`` object keyed by the directory's
inode and a digest of every file's (relpath, inode, mtime, size), so an unchanged
directory skips serialising and hashing its tree.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["StateDB", "is_racy", "state_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    inode INTEGER PRIMARY KEY,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dirs (
    inode INTEGER PRIMARY KEY,
    digest TEXT NOT NULL,
    md5 TEXT NOT NULL
);
"""

# SQLite caps the number of "?" per statement (999 on old builds).
_BATCH = 900
_BUSY_TIMEOUT_S = 10.0

# Timestamps are taken from a coarse kernel clock (one tick, <= 10 ms on Linux); a file
# rewritten within that window after we hashed it could keep its mtime and size. Like
# Git's "racily clean" rule we do not remember hashes of files that recent. Filesystems
# with whole-second timestamps (FAT, some network mounts) need a wider window.
_RACY_NS = 50_000_000
_RACY_COARSE_NS = 2_000_000_000


def state_path(tmp_dir: Path) -> Path:
    """Where the state db of a repository with scratch dir ``tmp_dir`` lives."""
    return Path(tmp_dir) / "jupyter-exp" / "state.db"


def is_racy(st: os.stat_result, started_ns: int) -> bool:
    """True when ``st``'s mtime is too close to ``started_ns`` to trust it later."""
    window = _RACY_COARSE_NS if st.st_mtime_ns % 1_000_000_000 == 0 else _RACY_NS
    return started_ns - st.st_mtime_ns < window


def _is_corrupt(exc: sqlite3.Error) -> bool:
    # Plain DatabaseError (not Operational/Integrity/...) is how sqlite3 reports
    # "file is not a database" and "database disk image is malformed".
    text = str(exc).lower()
    return type(exc) is sqlite3.DatabaseError or "malformed" in text or "not a database" in text


def _ino(st: os.stat_result) -> int:
    # SQLite integers are signed 64-bit; some filesystems hand out larger inodes.
    ino = st.st_ino
    return ino - (1 << 64) if ino >= (1 << 63) else ino


class StateDB:
    """md5 of files (and ``.dir`` md5 of directories) by stat identity.

    Thread-safe; one connection per instance. Call :meth:`close` when done (or use it
    as a context manager).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._broken:
            return self._conn
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError:
            # Not a database / malformed: it is only a cache, start over once.
            self._discard_files()
            try:
                self._conn = self._open()
            except (sqlite3.Error, OSError):
                self._broken = True
        except (sqlite3.Error, OSError):
            self._broken = True
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path),
            timeout=_BUSY_TIMEOUT_S,
            check_same_thread=False,
            isolation_level=None,  # autocommit; we open transactions ourselves
        )
        try:
            with contextlib.suppress(sqlite3.OperationalError):
                # WAL lets readers run while another process writes; some network
                # filesystems refuse it, then the default rollback journal is used.
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            conn.execute("SELECT count(*) FROM files WHERE inode = 0").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}{suffix}")

    def _recover(self, exc: sqlite3.Error) -> None:
        """After an error mid-use: a corrupt db is deleted (recreated on next use); a
        locked, full or read-only one is skipped for this operation only."""
        if not _is_corrupt(exc):
            return
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        self._discard_files()

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
                self._conn = None

    # --- files --------------------------------------------------------------------------

    def get_file(self, st: os.stat_result) -> str | None:
        """The md5 recorded for a file with this stat, or None."""
        return self.get_files([st])[0]

    def get_files(self, stats: Sequence[os.stat_result]) -> list[str | None]:
        """Batch :meth:`get_file`: one result per stat, in order."""
        result: list[str | None] = [None] * len(stats)
        if not stats:
            return result
        with self._lock:
            conn = self._connect()
            if conn is None:
                return result
            try:
                rows: dict[int, tuple[int, int, str]] = {}
                inodes = list({_ino(st) for st in stats})
                for start in range(0, len(inodes), _BATCH):
                    chunk = inodes[start : start + _BATCH]
                    marks = ",".join("?" * len(chunk))
                    for ino, mtime_ns, size, md5 in conn.execute(
                        f"SELECT inode, mtime_ns, size, md5 FROM files WHERE inode IN ({marks})",
                        chunk,
                    ):
                        rows[ino] = (mtime_ns, size, md5)
            except sqlite3.Error as exc:
                self._recover(exc)
                return result
        for i, st in enumerate(stats):
            row = rows.get(_ino(st))
            if row is not None and row[0] == st.st_mtime_ns and row[1] == st.st_size:
                result[i] = row[2]
        return result

    def set_files(self, rows: Iterable[tuple[os.stat_result, str]]) -> None:
        """Record ``(stat, md5)`` pairs (replacing what an inode had before)."""
        values = [(_ino(st), st.st_mtime_ns, st.st_size, md5) for st, md5 in rows]
        if values:
            self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", values)

    # --- directories --------------------------------------------------------------------

    def get_dir(self, st: os.stat_result, digest: str) -> str | None:
        """The ``.dir`` md5 recorded for this directory when its files had ``digest``."""
        with self._lock:
            conn = self._connect()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    "SELECT digest, md5 FROM dirs WHERE inode = ?", (_ino(st),)
                ).fetchone()
            except sqlite3.Error as exc:
                self._recover(exc)
                return None
        if row is not None and row[0] == digest:
            return str(row[1])
        return None

    def set_dir(self, st: os.stat_result, digest: str, md5: str) -> None:
        """Record the ``.dir`` md5 of a directory whose files have ``digest``."""
        self._write("INSERT OR REPLACE INTO dirs VALUES (?, ?, ?)", [(_ino(st), digest, md5)])

    # --- helpers ------------------------------------------------------------------------

    def _write(self, sql: str, values: list[tuple[object, ...]]) -> None:
        with self._lock:
            conn = self._connect()
            if conn is None:
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(sql, values)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._recover(exc)


def now_ns() -> int:
    """Wall-clock now in ns (what the kernel stamps mtimes with)."""
    return time.time_ns()
