"""One revision's pipeline, params, metrics and recorded hashes, for diff/apply/push/pull.

The workspace is read where it is. A commit is read through a scratch folder holding its
small text files (pipelines, locks, ``*.dvc`` files, ``.dvc/config``, ``params.yaml``
and the params/metrics files a ``dvc.yaml`` names), so the engine's own loader reads the
pipeline exactly as it reads the workspace; cached outputs (metrics among them) come
from the DVC cache by the hash the commit's lock records.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.cache import Cache
from ..core.index import Index
from ..core.lockfile import read_lockfile
from ..core.objects import HashInfo, LockEntry
from ..core.params import read_params_file, select_params
from ..core.pipeline.model import DEFAULT_PARAMS_FILE, Output, Stage, join_repo_path
from ..core.repo import Repo
from ..errors import (
    CacheMissingError,
    ExperimentNotFoundError,
    JupyterExpError,
    RevisionNotFoundError,
)
from ..git import Git
from .lookup import find_experiment

_PARAM_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".py")
_ALWAYS = frozenset({"dvc.yaml", "dvc.lock", ".dvcignore", DEFAULT_PARAMS_FILE})
_WORD = re.compile(r"[\w.\-]+")


# --- reading one revision ----------------------------------------------------------------


@dataclass
class RevisionView:
    """The pipeline of one revision and what its files and lock say.

    ``rev`` is None for the workspace (``repo`` is then the project itself), else a
    commit sha (``repo`` is a scratch folder holding that commit's small files).
    """

    rev: str | None
    repo: Repo
    index: Index
    cache: Cache
    git: Git | None = None
    prefix: str = ""
    _locks: dict[str, dict[str, LockEntry]] = field(default_factory=dict)

    # --- dvc.lock --------------------------------------------------------------------

    def lock_entry(self, stage: Stage) -> LockEntry | None:
        """The ``dvc.lock`` entry of ``stage`` in this revision."""
        if stage.lockfile not in self._locks:
            self._locks[stage.lockfile] = read_lockfile(self.repo, stage.lockfile)
        return self._locks[stage.lockfile].get(stage.name)

    def recorded(self) -> Iterator[tuple[str, str, Output | None, HashInfo]]:
        """``(kind, repo_path, output, hash)`` for every dep and out the revision records.

        ``kind`` is ``"dep"`` or ``"out"``; ``output`` is the stage's :class:`Output` for
        an out (None for deps, and for lock entries ``dvc.yaml`` no longer declares).
        """
        for stage in self.index.stages:
            outs = {out.def_path: out for out in stage.outs}
            if stage.is_data_source:
                for def_path, info in self.index.recorded.get(stage.dvcfile, {}).items():
                    out = outs.get(def_path)
                    path = out.repo_path if out else join_repo_path(stage.wdir, def_path)
                    yield "out", path, out, info
                continue
            entry = self.lock_entry(stage)
            if entry is None:
                continue
            for def_path, info in entry.deps.items():
                yield "dep", join_repo_path(stage.wdir, def_path), None, info
            for def_path, info in entry.outs.items():
                yield "out", join_repo_path(stage.wdir, def_path), outs.get(def_path), info

    def cached_outputs(self) -> list[tuple[str, Output, HashInfo]]:
        """``(repo_path, output, hash)`` of every cached output with a recorded hash."""
        return [
            (path, out, info)
            for kind, path, out, info in self.recorded()
            if kind == "out" and out is not None and out.cache
        ]

    def data_hashes(self) -> tuple[dict[str, str], dict[str, str]]:
        """``({dep path: md5}, {out path: md5})`` as the revision records them."""
        found: dict[str, dict[str, str]] = {"dep": {}, "out": {}}
        for kind, path, _out, info in self.recorded():
            found[kind][path] = info.md5
        return found["dep"], found["out"]

    # --- params ----------------------------------------------------------------------

    def params(self, *, deps_only: bool = False) -> dict[str, Any]:
        """``{params file: values}`` as ``dvc params show`` collects them."""
        wanted: dict[str, set[str] | None] = {}  # None: the whole file

        def want(path: str, keys: tuple[str, ...]) -> None:
            if not keys or wanted.get(path, set()) is None:
                wanted[path] = None
            else:
                wanted.setdefault(path, set()).update(keys)  # type: ignore[union-attr]

        for stage in self.index.pipeline_stages():
            for dep in stage.params:
                want(dep.repo_path, dep.keys)
        if not deps_only:
            for pfile in self.index.files:
                base = posixpath.dirname(pfile.path) or "."
                for item in pfile.params:
                    if isinstance(item, str):
                        want(join_repo_path(base, item), ())
            if self.repo.abspath(DEFAULT_PARAMS_FILE).is_file():
                want(DEFAULT_PARAMS_FILE, ())
        result: dict[str, Any] = {}
        for path in sorted(wanted):
            try:
                data = read_params_file(self.repo, path)
            except JupyterExpError:
                continue  # DVC shows an unreadable file as an error, with no values
            keys = wanted[path]
            if keys is None:
                result[path] = data
                continue
            picked: dict[str, Any] = {}
            for key in sorted(keys):
                try:
                    picked.update(select_params(data, [key], path=path))
                except JupyterExpError:
                    continue
            result[path] = picked
        if not deps_only:
            for pfile in self.index.files:
                for tracked in getattr(pfile, "tracked_vars", {}).values():
                    for path, values in tracked.items():
                        if path not in wanted:
                            result.setdefault(path, {}).update(values)
        return result

    # --- metrics ---------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """``{metrics file: values}`` as ``dvc metrics show`` reads them."""
        paths = [
            out.repo_path
            for stage in self.index.pipeline_stages()
            for out in stage.outs
            if out.kind == "metric"
        ]
        for pfile in self.index.files:
            base = posixpath.dirname(pfile.path) or "."
            paths += [join_repo_path(base, m) for m in pfile.metrics if isinstance(m, str)]
        result: dict[str, Any] = {}
        for path in dict.fromkeys(paths):
            for file in self._materialize(path):
                try:
                    value = _extract_metrics(read_params_file(self.repo, file))
                except JupyterExpError:
                    continue
                result[file] = value or {}
        return result

    def _materialize(self, path: str) -> list[str]:
        """Make the files of metrics ``path`` readable under ``self.repo``; their paths."""
        if self.rev is None:
            full = self.repo.abspath(path)
            if full.is_dir():
                return sorted(
                    Path(dirpath, name).relative_to(self.repo.root).as_posix()
                    for dirpath, _, names in os.walk(full)
                    for name in names
                )
            return [path] if full.is_file() else []
        contents = self._cached_contents(path)
        if contents is None:
            contents = self._git_contents(path)
        for file, data in contents.items():
            target = self.repo.abspath(file)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return sorted(contents)

    def _cached_contents(self, path: str) -> dict[str, bytes] | None:
        """Files of ``path`` from the DVC cache when a cached output holds it."""
        for out_path, _out, info in self.cached_outputs():
            if path != out_path and not path.startswith(out_path + "/"):
                continue
            try:
                if not info.isdir:
                    return {out_path: self.cache.object_path(info.md5).read_bytes()}
                files = {f"{out_path}/{e.relpath}": e.md5 for e in self.cache.read_tree(info.md5)}
                return {
                    file: self.cache.object_path(md5).read_bytes()
                    for file, md5 in files.items()
                    if file == path or file.startswith(path + "/")
                }
            except (OSError, CacheMissingError):
                return {}
        return None

    def _git_contents(self, path: str) -> dict[str, bytes]:
        assert self.git is not None and self.rev is not None
        full = self.prefix + path
        names = [
            e.path
            for e in self.git.tree(self.rev)
            if e.path == full or e.path.startswith(full + "/")
        ]
        found = self.git.read_files(self.rev, names)
        return {name[len(self.prefix) :]: data for name, data in found.items()}


@contextmanager
def open_revision(repo: Repo, git: Git | None, rev: str | None) -> Iterator[RevisionView]:
    """A :class:`RevisionView` of commit ``rev`` (a full sha), or of the workspace."""
    cache = Cache(repo)
    if rev is None:
        yield RevisionView(None, repo, Index.load(repo), cache, git)
        return
    assert git is not None
    prefix = git_prefix(repo, git)
    scratch = Path(tempfile.mkdtemp(prefix="jupyter-exp-rev-"))
    try:
        _write_small_files(git, rev, prefix, scratch)
        view_repo = Repo(scratch)
        yield RevisionView(rev, view_repo, Index.load(view_repo), cache, git, prefix)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def git_prefix(repo: Repo, git: Git) -> str:
    """The DVC root inside the Git work tree, as a path prefix ('' or 'sub/')."""
    rel = repo.root.relative_to(git.root).as_posix()
    return "" if rel == "." else rel + "/"


def _write_small_files(git: Git, rev: str, prefix: str, dest: Path) -> None:
    """Write the pipeline, lock, params and config files of ``rev`` under ``dest``."""
    entries = [
        e.path[len(prefix) :]
        for e in git.tree(rev)
        if e.kind == "blob" and e.mode != "120000" and e.path.startswith(prefix)
    ]
    pipelines = [p for p in entries if posixpath.basename(p) == "dvc.yaml"]
    named: set[str] = set()
    for text in git.read_files(rev, [prefix + p for p in pipelines]).values():
        for word in _WORD.findall(text.decode("utf-8", "replace")):
            named.add(posixpath.basename(word))
    wanted = []
    for path in entries:
        name = posixpath.basename(path)
        if (
            name in _ALWAYS
            or name.endswith(".dvc")
            or path == ".dvc/config"
            or (name.endswith(_PARAM_SUFFIXES) and name in named)
        ):
            wanted.append(path)
    for name, data in git.read_files(rev, [prefix + p for p in wanted]).items():
        target = dest / name[len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _extract_metrics(value: Any) -> Any:
    """Numbers, strings and nested mappings of them; other values dropped (as DVC)."""
    if isinstance(value, (int, float, str)):
        return value
    if not isinstance(value, Mapping):
        return None
    kept = {}
    for key, item in value.items():
        sub = _extract_metrics(item)
        if sub not in (None, {}):
            kept[key] = sub
    return kept


# --- resolving what the user typed -------------------------------------------------------


def resolve_revision(git: Git, spec: str) -> str:
    """The commit ``spec`` names: a Git revision first, then an experiment (as DVC)."""
    sha = git.try_resolve(spec)
    if sha is not None:
        return sha
    if spec != "HEAD" and not spec.startswith("refs/"):
        try:
            return find_experiment(git, spec).sha
        except ExperimentNotFoundError:
            pass
    raise RevisionNotFoundError(spec)
