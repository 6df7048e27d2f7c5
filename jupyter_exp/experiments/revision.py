"""One revision's pipeline, params, metrics and recorded hashes, for diff/apply/push/pull.

Commits are read with ``exp show``'s batched reader (:mod:`.gittree`): its pipeline
files (and the files their ``${}`` read) and lock files are written to a scratch folder,
so the engine's own loader reads the pipeline exactly as it reads the workspace; params
and metrics are ``exp show``'s rows of the revision (:mod:`.collect`, cached the same
way); cached outputs come from the DVC cache by the hash the commit's lock records.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.cache import Cache
from ..core.index import Index
from ..core.lockfile import read_lockfile
from ..core.objects import HashInfo, LockEntry
from ..core.pipeline.model import Output, Stage, join_repo_path
from ..core.repo import Repo
from ..errors import ExperimentNotFoundError, RevisionNotFoundError
from ..git import Git
from .expstate import ExpData
from .gittree import (
    LazyReader,
    fetch_files,
    find_pipeline_files,
    git_prefix,
    pipeline_layouts,
    project_trees,
    read_commits,
    write_layout,
)
from .lookup import find_experiment
from .revdata import Blob

__all__ = ["RevisionView", "git_prefix", "open_revision", "resolve_revision"]

# --- reading one revision ----------------------------------------------------------------


@dataclass
class RevisionView:
    """The pipeline of one revision and what its files and lock say.

    ``rev`` is None for the workspace (``repo`` is then the project itself), else a
    commit sha (``repo`` is a scratch folder holding that commit's pipeline and lock
    files, ``project`` the project itself).
    """

    rev: str | None
    repo: Repo
    index: Index
    cache: Cache
    git: Git | None = None
    prefix: str = ""
    project: Repo | None = None
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

    # --- params and metrics: exp show's row of the revision ------------------------------

    def params(self, *, deps_only: bool = False) -> dict[str, Any]:
        """``{params file: values}`` as ``dvc params show`` collects them (unreadable
        files left out)."""
        return _values(self._row(deps_only), "params")

    def metrics(self) -> dict[str, Any]:
        """``{metrics file: values}`` as ``dvc metrics show`` reads them."""
        return _values(self._row(False), "metrics")

    def _row(self, param_deps: bool) -> ExpData | None:
        from .collect import CommitRows, collect_workspace

        if self.rev is None:
            return collect_workspace(self.repo, param_deps=param_deps).data
        assert self.git is not None and self.project is not None
        rows = CommitRows(self.project, self.git)
        try:
            rows.load_parents([self.rev])
            found = rows.rows([self.rev], param_deps=param_deps, whole=set())
        finally:
            rows.close()
        return found.get(self.rev, (None, None))[0]


def _values(data: ExpData | None, section: str) -> dict[str, Any]:
    results = getattr(data, section) if data is not None else {}
    return {path: result["data"] for path, result in results.items() if "data" in result}


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
        _write_pipeline(git, rev, prefix, scratch)
        view_repo = Repo(scratch)
        yield RevisionView(rev, view_repo, Index.load(view_repo), cache, git, prefix, repo)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_pipeline(git: Git, rev: str, prefix: str, dest: Path) -> None:
    """Write the pipeline files of ``rev`` (those ``exp show`` finds) and their locks."""
    with LazyReader(git) as reader:
        roots = project_trees(reader, read_commits(reader, [rev]), prefix=prefix)
        files = find_pipeline_files(reader, roots)
        if rev not in files:
            return  # no project folder in that commit: an empty pipeline
        layout = pipeline_layouts(reader, files, prefix=prefix)[rev]
        locks = [posixpath.join(posixpath.dirname(p), "dvc.lock") for p in files[rev].pipelines]
        contents = fetch_files(reader, {rev: locks}, prefix=prefix)[rev]
    write_layout(layout, dest)
    for path, blob in contents.items():
        if isinstance(blob, Blob):
            target = os.path.join(dest, *path.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fobj:
                fobj.write(blob.data)


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
