"""Which revisions a plot compares, and reading its data files at each of them.

A revision is the workspace (read from disk) or a commit (a branch, a tag, an
experiment or a checkpoint), read through
:func:`~jupyter_exp.experiments.revision.open_revision`: the commit's pipeline is
loaded as the engine loads the workspace's, a cached plot file (``cache: true``, DVC's
default for outputs) comes from the DVC cache by the hash the commit's ``dvc.lock``
records, any other file from Git.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..core.repo import Repo
from ..errors import CacheMissingError
from ..experiments.lookup import list_experiments
from ..experiments.revision import RevisionView, open_revision, resolve_revision
from ..git import Git

__all__ = ["WORKSPACE", "Revision", "RevisionFiles", "default_revisions", "resolve_revisions"]

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Revision:
    """What a line of a chart is named (``label``) and the commit it reads (None: the
    workspace)."""

    label: str
    sha: str | None


def default_revisions(git: Git) -> list[Revision]:
    """The workspace, ``HEAD`` (named by its branch) and every experiment of ``HEAD``."""
    found = [Revision(WORKSPACE, None)]
    head = git.head()
    if head is None:
        return found
    found.append(Revision(git.current_branch() or head[:7], head))
    found += [Revision(e.name, e.sha) for e in list_experiments(git, baseline=head)]
    return found


def resolve_revisions(git: Git, names: Sequence[str]) -> list[Revision]:
    """``workspace``, Git revisions and experiment names (as ``exp show`` takes them);
    raises :class:`~jupyter_exp.errors.RevisionNotFoundError` for an unknown name."""
    return [
        Revision(name, None if name == WORKSPACE else resolve_revision(git, name))
        for name in dict.fromkeys(names)
    ]


class RevisionFiles:
    """The files of one revision: ``view`` is its pipeline (see ``open_revision``)."""

    def __init__(self, view: RevisionView) -> None:
        self.view = view
        self._tree: list[str] | None = None

    def read(self, path: str) -> dict[str, bytes]:
        """``{file: content}`` of ``path`` (a file, or every file under a folder);
        empty when the revision does not have it."""
        if self.view.rev is None:
            return _disk_files(self.view.repo.root, path)
        cached = self._cached(path)
        return cached if cached is not None else self._git(path)

    def _cached(self, path: str) -> dict[str, bytes] | None:
        view = self.view
        for out_path, _out, info in view.cached_outputs():
            if path != out_path and not path.startswith(out_path + "/"):
                continue
            try:
                if not info.isdir:
                    return {out_path: view.cache.object_path(info.md5).read_bytes()}
                entries = view.cache.read_tree(info.md5)
                return {
                    f"{out_path}/{e.relpath}": view.cache.object_path(e.md5).read_bytes()
                    for e in entries
                    if f"{out_path}/{e.relpath}" == path
                    or f"{out_path}/{e.relpath}".startswith(path + "/")
                }
            except (OSError, CacheMissingError):
                return {}  # recorded but not in this cache (pulled elsewhere): no data
        return None

    def _git(self, path: str) -> dict[str, bytes]:
        view = self.view
        assert view.git is not None and view.rev is not None
        if self._tree is None:
            self._tree = [e.path for e in view.git.tree(view.rev) if e.kind == "blob"]
        full = view.prefix + path
        names = [p for p in self._tree if p == full or p.startswith(full + "/")]
        found = view.git.read_files(view.rev, names)
        return {name[len(view.prefix) :]: data for name, data in sorted(found.items())}


@contextmanager
def open_files(repo: Repo, git: Git, revision: Revision) -> Iterator[RevisionFiles]:
    """The pipeline and files of ``revision``."""
    with open_revision(repo, git, revision.sha) as view:
        yield RevisionFiles(view)


def _disk_files(root: Path, path: str) -> dict[str, bytes]:
    full = root / path
    if full.is_file():
        return {path: full.read_bytes()}
    if not full.is_dir():
        return {}
    found = {}
    for folder, dirs, names in os.walk(full):
        dirs.sort()
        for name in sorted(names):
            file = Path(folder, name)
            found[file.relative_to(root).as_posix()] = file.read_bytes()
    return found
