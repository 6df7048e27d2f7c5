"""Per-run memory of the workspace: hashes, lock entries and params, each read once.

A reproduction asks the same questions many times (a stage's output is the next one's
dependency); :class:`RunContext` answers from memory and forgets exactly the paths a
stage rewrites.
"""

from __future__ import annotations

from typing import Any

from ..errors import MissingParamError, ParamsFileError
from .cache import Cache
from .hashing import hash_path
from .lockfile import read_lockfile, write_lock_entries
from .objects import HashInfo, LockEntry, TreeEntry
from .params import read_params_file, select_params
from .pipeline.model import Stage
from .repo import Repo
from .state import StateDB

Hashed = tuple[HashInfo, list[TreeEntry] | None]

# Marks a params key that is tracked but absent from its file.
MISSING = object()


class RunContext:
    """Workspace facts for one operation (repro, status), computed lazily and memoised."""

    def __init__(self, repo: Repo, recorded: dict[str, dict[str, HashInfo]] | None = None):
        self.repo = repo
        self.cache = Cache(repo)
        self.state = StateDB(repo.tmp_dir / "jupyter-exp" / "state.db")
        self.recorded = recorded or {}
        self._hashes: dict[str, Hashed | None] = {}
        self._locks: dict[str, dict[str, LockEntry]] = {}

    def close(self) -> None:
        """Release the state database."""
        self.state.close()

    # --- hashes --------------------------------------------------------------------------

    def hash(self, repo_path: str) -> Hashed | None:
        """Hash of a workspace path (None if it does not exist), memoised."""
        if repo_path not in self._hashes:
            self._hashes[repo_path] = hash_path(self.repo, repo_path, self.state)
        return self._hashes[repo_path]

    def forget(self, repo_paths: list[str]) -> None:
        """Drop memoised hashes of paths that were rewritten (and paths around them)."""
        for path in repo_paths:
            prefix = path + "/"
            for known in list(self._hashes):
                if known == path or known.startswith(prefix) or path.startswith(known + "/"):
                    del self._hashes[known]

    # --- lock entries --------------------------------------------------------------------

    def lock_entry(self, stage: Stage) -> LockEntry | None:
        """What ``dvc.lock`` (or the ``.dvc`` file) records for ``stage``."""
        if stage.is_data_source:
            recorded = self.recorded.get(stage.dvcfile, {})
            return LockEntry(cmd="", outs=dict(recorded)) if recorded else None
        return self._lockfile(stage.lockfile).get(stage.name)

    def write_lock_entry(self, stage: Stage, entry: LockEntry) -> bool:
        """Record ``entry`` for ``stage`` in its ``dvc.lock``; True if the file changed."""
        changed = write_lock_entries(self.repo, stage.lockfile, {stage.name: entry})
        self._lockfile(stage.lockfile)[stage.name] = entry
        return changed

    def _lockfile(self, path: str) -> dict[str, LockEntry]:
        if path not in self._locks:
            self._locks[path] = read_lockfile(self.repo, path)
        return self._locks[path]

    # --- params --------------------------------------------------------------------------

    def params_status_values(self, stage: Stage) -> dict[str, dict[str, Any]]:
        """Current values of the stage's params, keyed like ``dvc.lock``.

        A missing key maps to :data:`MISSING`; a missing file to an empty dict.
        """
        result: dict[str, dict[str, Any]] = {}
        for dep in stage.params:
            try:
                data = read_params_file(self.repo, dep.repo_path)
            except ParamsFileError:
                if not self.repo.abspath(dep.repo_path).exists():
                    result[dep.def_path] = {}
                    continue
                raise
            if dep.whole_file:
                result[dep.def_path] = dict(data)
                continue
            values: dict[str, Any] = {}
            for key in dep.keys:
                try:
                    values.update(select_params(data, [key], path=dep.def_path))
                except MissingParamError:
                    values[key] = MISSING
            result[dep.def_path] = values
        return result
