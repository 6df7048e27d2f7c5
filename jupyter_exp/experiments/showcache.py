"""What ``exp show`` keeps between runs, under ``.dvc/tmp/jupyter-exp/``.

Two files, both JSON, both written atomically (temp file + rename) and both ignored
when unreadable, malformed or written by another version of jupyter-exp. Losing one
costs one slower run, never a wrong answer.

- ``exp-show-commits.json``: the row of every commit read so far. A commit never
  changes, so its params, metrics, deps and outs can be kept once read, as DVC keeps
  them in ``.dvc/tmp/exps/cache``. Entries are keyed by sha (``<sha>:param-deps`` for
  ``--param-deps`` rows) and hold ``{"parents", "time", "data"}``: the commit time is
  kept as Unix seconds and turned into the local time when read, so a change of time
  zone never shows a stale ``Created``. Only complete results go in (no file that
  failed to read, which a later ``dvc pull`` may fix).
- ``exp-show-workspace.json``: the workspace row with the stat signatures (mtime, size,
  inode, type) of every path it was read from: pipeline and lock files, params and
  metrics files, folders the pipeline discovery looked into, the config files, the
  cache objects of cached metrics. When none moved, the row is answered without
  loading the pipeline (the up-to-date stamp of ``repro`` does the same, see
  :mod:`jupyter_exp.core.uptodate`). Paths modified within :data:`RACY_SECONDS` of
  writing are not trusted (a rewrite inside one mtime tick would go unseen): no stamp
  is written then.

This module imports only the standard library: ``exp show`` reads it before deciding
whether the engine is needed at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from .._version import __version__

FORMAT = 2
MAX_ENTRIES = 5000
RACY_SECONDS = 2.0
_FOLDER = os.path.join(".dvc", "tmp", "jupyter-exp")
COMMITS_FILE = os.path.join(_FOLDER, "exp-show-commits.json")
WORKSPACE_FILE = os.path.join(_FOLDER, "exp-show-workspace.json")

Signature = list[int] | None


# --- commit rows -----------------------------------------------------------------------


def cache_path(root: str | os.PathLike[str]) -> str:
    """Where the commit-row cache of the project at ``root`` lives."""
    return os.path.join(os.fspath(root), COMMITS_FILE)


def row_key(sha: str, *, param_deps: bool) -> str:
    """The cache key of commit ``sha``'s row (``--param-deps`` rows are kept apart)."""
    return f"{sha}:param-deps" if param_deps else sha


def load(root: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Cached commit rows by :func:`row_key` (empty when absent, bad or foreign).

    Entries of the wrong shape are dropped here, so callers can trust each one.
    """
    raw = _read_json(cache_path(root))
    if raw is None or not isinstance(raw.get("entries"), dict):
        return {}
    return {key: entry for key, entry in raw["entries"].items() if _is_entry(entry)}


def _is_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("parents"), list)
        and isinstance(entry.get("time"), int)
        and isinstance(entry.get("data"), dict)
        and isinstance(entry["data"].get("rev"), str)
    )


def is_complete(data: Mapping[str, Any]) -> bool:
    """True when no params or metrics file of ``data`` (an ``ExpData`` dict) failed."""
    return not any(
        "error" in result
        for section in ("params", "metrics")
        for result in data.get(section, {}).values()
    )


def entry(parents: Iterable[str], timestamp: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """A cache entry: ``data`` (an ``ExpData`` dict) without its local-time timestamp."""
    return {
        "parents": list(parents),
        "time": timestamp,
        "data": {k: v for k, v in data.items() if k != "timestamp"},
    }


def store(
    root: str | os.PathLike[str], known: Mapping[str, dict[str, Any]], new: Mapping[str, dict]
) -> None:
    """Add ``new`` entries to the ``known`` ones and write the file (errors ignored).

    The newest :data:`MAX_ENTRIES` entries are kept.
    """
    if not new:
        return
    entries = {k: v for k, v in known.items() if k not in new}
    entries.update(new)
    if len(entries) > MAX_ENTRIES:
        entries = dict(list(entries.items())[-MAX_ENTRIES:])
    _write_json(cache_path(root), {"entries": entries})


# --- the workspace row -----------------------------------------------------------------


def workspace_key(*, param_deps: bool) -> str:
    """What a workspace stamp answers (a new version never trusts an old stamp)."""
    return f"{__version__}:param-deps={int(param_deps)}"


def signature(path: str) -> Signature:
    """``[mtime_ns, size, inode, file type bits]`` of ``path``, None when missing.

    As :func:`jupyter_exp.core.uptodate.signature` (without importing the engine's event
    records), but through symlinks: a params file linked from elsewhere is read through
    its link, so an edit of its target must be seen.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode & 0o170000]


def load_workspace(root: str | os.PathLike[str], key: str) -> dict[str, Any] | None:
    """The cached workspace row (``{"data", "error"}``) if nothing it rests on moved."""
    root = os.fspath(root)
    stamp = _read_json(os.path.join(root, WORKSPACE_FILE))
    if stamp is None or stamp.get("key") != key:
        return None
    paths, row = stamp.get("paths"), stamp.get("row")
    if not isinstance(paths, dict) or not isinstance(row, dict):
        return None
    for rel, recorded in paths.items():
        if signature(os.path.join(root, rel)) != recorded:
            return None
    return row


def store_workspace(
    root: str | os.PathLike[str], key: str, row: Mapping[str, Any], paths: Iterable[str]
) -> bool:
    """Record the workspace row; False (and no stamp) when a path is too fresh to trust.

    ``paths`` are relative to ``root`` or absolute; a path outside ``root`` (a cache
    folder configured elsewhere) cannot be watched from here, so no stamp is written.
    """
    root = os.fspath(root)
    now_ns = time.time_ns()
    racy_ns = int(RACY_SECONDS * 1e9)
    recorded: dict[str, Signature] = {}
    for path in sorted(set(paths)):
        rel = os.path.relpath(path, root) if os.path.isabs(path) else path
        if rel.startswith(".."):
            discard_workspace(root)
            return False
        sig = signature(os.path.join(root, rel))
        if sig is not None and now_ns - sig[0] < racy_ns:
            discard_workspace(root)
            return False
        recorded[rel] = sig
    return _write_json(
        os.path.join(root, WORKSPACE_FILE), {"key": key, "paths": recorded, "row": dict(row)}
    )


def discard_workspace(root: str | os.PathLike[str]) -> None:
    """Forget the workspace stamp."""
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(os.fspath(root), WORKSPACE_FILE))


# --- files ---------------------------------------------------------------------------------


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fobj:
            raw = json.load(fobj)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(raw, dict)
        or raw.get("format") != FORMAT
        or raw.get("version") != __version__
    ):
        return None
    return raw


def _write_json(path: str, payload: dict[str, Any]) -> bool:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # dumps, not dump: dump streams through the pure-Python encoder, ~10x slower.
        text = json.dumps({"format": FORMAT, "version": __version__, **payload}, default=_iso)
        with open(tmp, "w", encoding="utf-8") as fobj:
            fobj.write(text)
        os.replace(tmp, path)
        return True
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False


def _iso(value: object) -> str:
    # YAML dates in params: stored as DVC's JSON writes them.
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
