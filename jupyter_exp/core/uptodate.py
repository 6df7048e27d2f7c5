"""The up-to-date stamp: a no-op ``repro`` answered from ``stat`` calls alone.

After a ``repro`` that found every stage up to date, we record the stat signature
(mtime_ns, size, inode, type) of everything that decision rested on: the pipeline,
lock, ``.dvc``, params and config files; every dependency and output (each file and
folder inside directories); the cache objects the outputs need; and every folder the
discovery walks looked into (a new ``dvc.yaml`` changes its folder's mtime). The next
plain ``repro`` re-stats those paths and, if nothing moved, reports the same result
without loading the pipeline. Anything different, and the full check runs as usual.

Signatures of files modified within :data:`RACY_SECONDS` of the stamp are not
trusted (a rewrite inside the same mtime tick would go unseen), so no stamp is written
then. This module imports only the standard library and the event records: the CLI
reads the stamp before importing the engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable

from .._version import __version__
from ..events import DataSourceChecked, EventSink, StageSkipped

STAMP = os.path.join(".dvc", "tmp", "jupyter-exp", "uptodate.json")
FORMAT = 1
RACY_SECONDS = 2.0

Signature = tuple[int, int, int, int] | None


def repro_key() -> str:
    """The stamp key of a plain ``repro`` (a new version never trusts an old stamp)."""
    return f"{__version__}:repro"


def replay(entries: list[list[str]], on_event: EventSink) -> list[str]:
    """Report a valid stamp's entries as the full check would; return skipped stages."""
    skipped = []
    for kind, address in entries:
        if kind == "source":
            on_event(DataSourceChecked(path=address, changed=False))
        else:
            on_event(StageSkipped(stage=address, reason="unchanged"))
            skipped.append(address)
    return skipped


def signature(path: str) -> Signature:
    """``(mtime_ns, size, inode, file type bits)`` of ``path``, None when missing."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode & 0o170000)


def find_root(start: str) -> str | None:
    """Nearest folder at or above ``start`` holding ``.dvc/`` (the stamp's home)."""
    here = os.path.abspath(start)
    while True:
        if os.path.isdir(os.path.join(here, ".dvc")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def check(root: str, key: str) -> list[list[str]] | None:
    """The ``[kind, address]`` entries of a still-valid stamp for ``key``, or None.

    ``key`` names the question (the engine version and the repro options).
    """
    try:
        with open(os.path.join(root, STAMP), encoding="utf-8") as fobj:
            stamp = json.load(fobj)
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("format") != FORMAT or stamp.get("key") != key:
        return None
    for rel, recorded in stamp.get("paths", {}).items():
        current = signature(os.path.join(root, rel))
        if (list(current) if current else None) != recorded:
            return None
    return list(stamp.get("stages", []))


def write(root: str, key: str, stages: list[list[str]], paths: Iterable[str]) -> bool:
    """Record the stamp; False (and no stamp) when a path is too fresh to trust."""
    now_ns = time.time_ns()
    racy_ns = int(RACY_SECONDS * 1e9)
    recorded: dict[str, list[int] | None] = {}
    for rel in sorted(set(paths)):
        sig = signature(os.path.join(root, rel))
        if sig is not None and now_ns - sig[0] < racy_ns:
            discard(root)
            return False
        recorded[rel] = list(sig) if sig else None
    target = os.path.join(root, STAMP)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temp = f"{target}.{os.getpid()}.tmp"
    with open(temp, "w", encoding="utf-8") as fobj:
        json.dump({"format": FORMAT, "key": key, "stages": stages, "paths": recorded}, fobj)
    os.replace(temp, target)
    return True


def discard(root: str) -> None:
    """Forget the stamp (anything that changes the workspace calls this)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(root, STAMP))


def walk_tree(root: str, rel: str) -> list[str]:
    """``rel`` and, when it is a folder, every file and folder below it (repo paths)."""
    found = [rel]
    top = os.path.join(root, rel)
    if not os.path.isdir(top) or os.path.islink(top):
        return found
    for folder, dirs, files in os.walk(top):
        base = os.path.relpath(folder, root)
        found.extend(os.path.join(base, name) for name in dirs)
        found.extend(os.path.join(base, name) for name in files)
    return found
