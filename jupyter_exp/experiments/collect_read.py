"""The reading half of ``exp show``: rows of commits from Git, the workspace from disk.

:mod:`.collect` imports this module only when a row is missing from its caches
(:mod:`.showcache`): a warm ``exp show`` never loads YAML, the pipeline loader or the
engine. Commits are read in batches over all of them through one ``git cat-file
--batch`` (:mod:`.gittree`); the workspace is read where it is, and the paths it was
read from are returned so its row can be cached against their stat signatures.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..core.index import Index
from ..core.params import consulted_params_files
from ..core.repo import Repo
from ..errors import JupyterExpError
from .expstate import ExpData, ExpState
from .gittree import (
    CommitInfo,
    Reader,
    fetch_files,
    find_pipeline_files,
    load_facts,
    project_trees,
)
from .revdata import (
    Blob,
    CachedReader,
    Content,
    Listing,
    PipelineFacts,
    error_dict,
    parse_lock,
    read_deps,
    read_metrics,
    read_outs,
    read_params,
    wanted_paths,
)

WORKSPACE = "workspace"
Row = tuple[ExpData | None, dict[str, str] | None]
_IGNORE_FILES = (".gitignore", ".dvcignore")
# Files that change what the workspace row reads without being read by it.
_ALWAYS_WATCHED = (".dvc/config", ".dvc/config.local", ".git/info/exclude")


def read_commit_rows(
    repo: Repo,
    reader: Reader,
    commits: Mapping[str, CommitInfo],
    shas: Sequence[str],
    *,
    param_deps: bool,
    prefix: str,
) -> dict[str, Row]:
    """Data of each commit, every file read in a few batches over all of them.

    ``prefix`` is the project's folder inside the Git repository (``""`` or ``sub/``).
    """
    known = [sha for sha in shas if sha in commits]
    roots = project_trees(reader, {sha: commits[sha] for sha in known}, prefix=prefix)
    files = find_pipeline_files(reader, roots)
    facts = load_facts(reader, files, prefix=prefix)
    requests = {
        sha: wanted_paths(f, param_deps=param_deps)
        for sha, f in facts.items()
        if isinstance(f, PipelineFacts)
    }
    contents = fetch_files(reader, requests, prefix=prefix)
    cached = CachedReader(os.fspath(repo.cache_dir / "files" / "md5"))
    result: dict[str, Row] = {}
    for sha in known:
        if sha not in files:
            result[sha] = (None, {"type": "FileNotFoundError", "msg": f"no '{prefix}' here"})
            continue
        stamp = datetime.fromtimestamp(commits[sha].timestamp)  # local and naive, as DVC
        fact = facts[sha]
        if not isinstance(fact, PipelineFacts):
            result[sha] = (None, fact)
            continue
        root = files[sha].root.get("params.yaml")
        has_default = root is not None and root.is_file
        result[sha] = assemble(
            sha, stamp, fact, contents[sha], cached, has_default=has_default, param_deps=param_deps
        )
    return result


def assemble(
    rev: str,
    stamp: datetime | None,
    facts: PipelineFacts,
    files: Mapping[str, Content],
    cached: CachedReader,
    *,
    has_default: bool,
    param_deps: bool,
) -> Row:
    """One revision's :class:`ExpData` from its pipeline facts and file contents."""
    try:
        locks = {}
        for path in facts.lockfiles:
            blob = files.get(path)
            if isinstance(blob, Blob):
                locks[path] = parse_lock(path, blob)
    except (JupyterExpError, ValueError) as exc:
        return None, error_dict(exc)
    data = ExpData(
        rev=rev,
        timestamp=stamp,
        params=read_params(facts, files, has_default=has_default, param_deps=param_deps),
        metrics=read_metrics(facts, files, locks, cached),
        deps=read_deps(facts, locks),
        outs=read_outs(facts, locks),
    )
    return data, None


# --- the workspace -----------------------------------------------------------------------


def read_workspace(repo: Repo, *, param_deps: bool = False) -> tuple[ExpState, list[str] | None]:
    """The ``workspace`` row (files as they are on disk, hashes from ``dvc.lock``) and
    every path it rests on (repo-relative or absolute), for the workspace stamp.

    A pipeline that fails to load gives None for the paths: which files the failure
    rests on is not known, so that row must not be stamped.
    """
    root = str(repo.root)
    try:
        index = Index.load(repo)
        facts = PipelineFacts.from_index(index)
    except JupyterExpError as exc:
        return ExpState(rev=WORKSPACE, error=error_dict(exc)), None
    watched: list[str] = [*_ALWAYS_WATCHED, *_under(root, consulted_params_files())]
    for folder in index.visited:
        watched.append(folder)
        watched.extend(posixpath.join(folder, name) for name in _IGNORE_FILES)
    watched.extend(f.path for f in index.files)
    watched.extend(stage.dvcfile for stage in index.stages)
    files: dict[str, Content] = {}
    for path in wanted_paths(facts, param_deps=param_deps):
        _read_disk(repo, path, files, watched)
    cached = CachedReader(os.fspath(repo.cache_dir / "files" / "md5"))
    has_default = os.path.isfile(repo.abspath("params.yaml"))
    data, error = assemble(
        WORKSPACE, None, facts, files, cached, has_default=has_default, param_deps=param_deps
    )
    watched.extend(cached.consulted)  # outside the project: no stamp (store refuses)
    return ExpState(rev=WORKSPACE, data=data, error=error), watched


def _under(root: str, paths: Sequence[str] | set[str]) -> list[str]:
    """The absolute ``paths`` inside ``root``: a long-lived process has consulted the
    params files of other projects too."""
    prefix = root.rstrip(os.sep) + os.sep
    return [p for p in paths if os.path.abspath(p).startswith(prefix)]


def _read_disk(repo: Repo, path: str, files: dict[str, Content], watched: list[str]) -> None:
    full = repo.abspath(path)
    watched.append(path)
    if full.is_dir():
        found = []
        for folder, dirs, names in os.walk(full):
            dirs.sort()
            rel = os.path.relpath(folder, repo.root).replace(os.sep, "/")
            watched.append(rel)  # a file added or removed changes the folder's mtime
            found.extend(f"{rel}/{name}" for name in sorted(names))
        files[path] = Listing(tuple(sorted(found)))
        for child in found:
            _read_disk(repo, child, files, watched)
        return
    try:
        files[path] = Blob(full.read_bytes())
    except OSError:
        files[path] = None
