"""The run-cache: stage signatures -> the outputs a run with those inputs produced.

Same layout and keys as DVC 3 (``dvc/stage/cache.py``) so either tool reuses the other's
runs: ``<cache>/runs/<key[:2]>/<key>/<value>`` where

* ``key`` is the SHA-256 of ``json.dumps(..., sort_keys=True)`` of the stage's lock entry
  with ``outs`` replaced by the list of output paths,
* ``value`` is the same hash over the full lock entry,

both with every ``size`` and ``nfiles`` key removed at any depth (DVC's ``dict_filter``,
which also drops params named ``size``/``nfiles``). The record file holds the lock entry
as YAML, dumped like ``dvc.lock``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import PipelineError
from .lockfile import (
    atomic_write_text,
    dump_lock_yaml,
    lock_entry_from_dict,
    lock_entry_to_dict,
)
from .objects import LockEntry
from .pipeline.model import Stage
from .repo import Repo
from .yamlio import load_yaml

__all__ = ["RunCache", "is_cacheable"]

_EXCLUDED = ("size", "nfiles")


def is_cacheable(stage: Stage) -> bool:
    """Whether DVC would record ``stage`` in the run-cache (its ``_can_hash``).

    Needs a command, dependencies (params count) and outputs; not ``always_changed``;
    every dep and out a local path; no ``persist`` output; outputs inside the repository.
    That the deps have hashes is checked by the caller, which computes them.
    """
    if stage.cmd is None or not stage.cmd or stage.always_changed:
        return False
    if not (stage.deps or stage.params) or not stage.outs:
        return False
    for dep in stage.deps:
        if not dep.def_path or _is_remote(dep.def_path):
            return False
    for out in stage.outs:
        if not out.def_path or _is_remote(out.def_path) or out.persist:
            return False
        if out.repo_path == ".." or out.repo_path.startswith("../"):
            return False
    return True


def _is_remote(path: str) -> bool:
    # DVC's dep/out protocol is "local" unless the path is a URL (s3://, remote://...).
    return "://" in path


def _filtered(data: Any) -> Any:
    """DVC's ``dict_filter``: drop size/nfiles keys from nested dicts and lists."""
    if isinstance(data, list):
        return [_filtered(item) for item in data]
    if isinstance(data, dict):
        return {k: _filtered(v) for k, v in data.items() if k not in _EXCLUDED}
    return data


def _sha256(data: dict[str, Any]) -> str:
    text = json.dumps(_filtered(data), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RunCache:
    """The run-cache of a repository, in ``<cache_dir>/runs``."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo

    @property
    def runs_dir(self) -> Path:
        """``<cache_dir>/runs`` (DVC's legacy cache root + ``runs``)."""
        return self.repo.cache_dir / "runs"

    # --- signatures ----------------------------------------------------------------------

    @staticmethod
    def key(entry: LockEntry) -> str:
        """The signature of the inputs: command, deps, params and the output paths."""
        return _key(entry, sorted(entry.outs))

    @staticmethod
    def value(entry: LockEntry) -> str:
        """The signature of the whole run, outputs' hashes included."""
        return _sha256(lock_entry_to_dict(entry))

    def record_path(self, key: str, value: str) -> Path:
        """Where the record ``value`` of ``key`` lives."""
        return self.runs_dir / key[:2] / key / value

    # --- records -------------------------------------------------------------------------

    def save(self, entry: LockEntry) -> bool:
        """Record a finished run; False when the same record already exists.

        The caller guarantees the stage is cacheable and every output is in the cache
        (DVC also commits ``cache: false`` outputs to the cache for the run-cache).
        """
        try:
            key, value = self.key(entry), self.value(entry)
        except (TypeError, ValueError):  # a params value json cannot encode
            return False
        path = self.record_path(key, value)
        if self._load(path) is not None:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, dump_lock_yaml(lock_entry_to_dict(entry)))
        return True

    def lookup(self, entry_without_outs: LockEntry, out_paths: Sequence[str]) -> LockEntry | None:
        """The newest recorded run for these inputs and output paths, or None.

        Like DVC, only the newest record (by mtime) is considered; a corrupt one is
        deleted and the lookup misses.
        """
        try:
            key = _key(entry_without_outs, sorted(out_paths))
        except (TypeError, ValueError):
            return None
        folder = self.runs_dir / key[:2] / key
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return None
        newest: tuple[float, Path] | None = None
        for name in names:
            candidate = folder / name
            with contextlib.suppress(FileNotFoundError):
                mtime = candidate.stat().st_mtime
                if newest is None or mtime > newest[0]:
                    newest = (mtime, candidate)
        return None if newest is None else self._load(newest[1])

    def _load(self, path: Path) -> LockEntry | None:
        """Read one record; a corrupt record is removed (as DVC does) and gives None."""
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        try:
            text = raw.decode("utf-8")
            data = load_yaml(text, str(path))
            return lock_entry_from_dict(data, path=str(path), text=text)
        except (PipelineError, UnicodeDecodeError):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None


def _key(entry: LockEntry, out_paths: list[str]) -> str:
    data = lock_entry_to_dict(LockEntry(cmd=entry.cmd, deps=entry.deps, params=entry.params))
    data["outs"] = out_paths
    return _sha256(data)
