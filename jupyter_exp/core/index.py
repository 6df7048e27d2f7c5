"""Everything the project defines, loaded and validated: pipelines, data sources, graph.

Loading is all-or-nothing: a malformed file, a cycle or a clash of outputs raises here,
before any stage command runs.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
from dataclasses import dataclass, field

from ..errors import InvalidArgumentError, PathOutsideRepoError, StageNotFoundError
from .dvcfile import find_dvcfiles, load_data_source
from .graph import PipelineGraph
from .objects import HashInfo
from .pipeline.collect import find_pipeline_files
from .pipeline.loader import load_pipeline_file
from .pipeline.model import PipelineFile, Stage
from .repo import Repo

PIPELINE_FILE = "dvc.yaml"


@dataclass
class Index:
    """The loaded project: every stage and the graph between them."""

    repo: Repo
    files: list[PipelineFile]
    stages: list[Stage]
    graph: PipelineGraph
    # For each *.dvc data source: the hashes it records, by output def_path.
    recorded: dict[str, dict[str, HashInfo]] = field(default_factory=dict)
    # Folders the discovery walks looked into (repo paths), for the up-to-date stamp.
    visited: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, repo: Repo) -> Index:
        """Load every ``dvc.yaml`` and ``*.dvc`` file under ``repo`` and link them."""
        visited: list[str] = []
        paths = find_pipeline_files(repo, visited)
        files = [load_pipeline_file(repo, path) for path in paths]
        stages = [stage for f in files for stage in f.stages]
        recorded: dict[str, dict[str, HashInfo]] = {}
        for path in find_dvcfiles(repo, visited):
            source, hashes = load_data_source(repo, path)
            stages.append(source)
            recorded[source.dvcfile] = hashes
        return cls(repo, files, stages, PipelineGraph(stages), recorded, visited)

    # --- lookup --------------------------------------------------------------------------

    def pipeline_stages(self) -> list[Stage]:
        """Stages defined in ``dvc.yaml`` files (not data sources)."""
        return [s for s in self.stages if not s.is_data_source]

    def resolve(self, targets: tuple[str, ...], *, recursive: bool = False) -> list[Stage]:
        """Stages named by ``targets`` (see :meth:`Project.repro`), in target order."""
        found: dict[int, Stage] = {}
        for target in targets:
            for stage in self._resolve_one(target, recursive):
                found.setdefault(id(stage), stage)
        return list(found.values())

    def default_targets(self) -> list[Stage]:
        """What ``repro`` with no targets covers: the root ``dvc.yaml``, else everything."""
        root = [s for s in self.stages if s.dvcfile == PIPELINE_FILE]
        return root or self.pipeline_stages()

    def check_addable(self, repo_path: str) -> None:
        """Refuse to ``add`` a path that a pipeline stage produces."""
        owner = self.graph.outputs.stage_of(repo_path)
        if owner is not None and not owner.is_data_source:
            raise InvalidArgumentError(
                f"'{repo_path}' is an output of stage '{owner.address}'; "
                "it is tracked by the pipeline already",
                argument=repo_path,
            )

    # --- internals -----------------------------------------------------------------------

    def _file_path(self, target: str) -> str | None:
        """Repo-relative form of a path-like target (relative to cwd, then to the root)."""
        candidates = []
        with contextlib.suppress(PathOutsideRepoError):
            candidates.append(self.repo.relpath(target))
        candidates.append(posixpath.normpath(target.replace(os.sep, "/")))
        for rel in candidates:
            if self.repo.abspath(rel).exists():
                return rel
        return None

    def _resolve_one(self, target: str, recursive: bool) -> list[Stage]:
        if not target:
            raise StageNotFoundError(target)
        path_part, sep, name = target.rpartition(":")
        if sep and (path_part.endswith(PIPELINE_FILE) or path_part.endswith(".yaml")):
            rel = self._file_path(path_part) or path_part
            return self._by_name(name, rel, target)
        rel = self._file_path(target)
        if rel is not None:
            if rel.endswith(".dvc") or posixpath.basename(rel) == PIPELINE_FILE:
                stages = [s for s in self.stages if s.dvcfile == rel]
                if not stages:
                    raise StageNotFoundError(target, path=rel)
                return stages
            if self.repo.abspath(rel).is_dir():
                return self._in_dir(rel, target, recursive)
        return self._by_name(target, PIPELINE_FILE, target)

    def _in_dir(self, rel: str, target: str, recursive: bool) -> list[Stage]:
        own = posixpath.join(rel, PIPELINE_FILE) if rel != "." else PIPELINE_FILE
        if not recursive:
            stages = [s for s in self.stages if s.dvcfile == own]
            if not stages:
                raise StageNotFoundError(target, path=own)
            return stages
        prefix = "" if rel == "." else rel + "/"
        stages = [s for s in self.stages if s.dvcfile.startswith(prefix)]
        if not stages:
            raise StageNotFoundError(target)
        return stages

    def _by_name(self, name: str, dvcfile: str, target: str) -> list[Stage]:
        in_file = [s for s in self.stages if s.dvcfile == dvcfile and not s.is_data_source]
        exact = [s for s in in_file if s.name == name]
        if exact:
            return exact
        # A foreach/matrix group name (`train` for `train@1`, `train@2`) or a glob.
        group = [s for s in in_file if s.name.split("@", 1)[0] == name]
        if group:
            return group
        if any(c in name for c in "*?["):
            matched = [s for s in in_file if fnmatch.fnmatchcase(s.name, name)]
            if matched:
                return matched
        if dvcfile == PIPELINE_FILE:
            # Not in the root pipeline: accept a name that is unique across the project.
            elsewhere = [s for s in self.pipeline_stages() if s.name == name]
            if len(elsewhere) == 1:
                return elsewhere
        raise StageNotFoundError(target, path=dvcfile if dvcfile != PIPELINE_FILE else None)
