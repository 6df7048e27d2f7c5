"""Each experiment's executed notebooks: found in its ``dvc.lock``, opened from the cache.

A notebook stage (``jupyter exp notebook NB -o OUT ...``) records its executed notebook
as an output in ``dvc.lock``, so every experiment commit names its own copy by md5, and
the copy itself is in the DVC cache. This module

- lists them per revision (:func:`notebooks_of_commits`, :func:`workspace_notebooks`):
  every output or metric of a stage whose path ends in ``.ipynb`` and whose lock entry
  has an md5, read through the same batched Git readers as ``exp show``;
- adds them to an ``exp show`` table (:func:`add_notebook_columns`): one column per
  notebook output, named ``notebook:<stage>`` (``notebook:<stage>:<path>`` for a stage
  with several), holding the output's path in the rows that recorded one;
- copies one experiment's notebooks out of the cache to a folder a user or JupyterLab
  can open (:func:`materialise`): not hidden (JupyterLab does not show hidden paths),
  kept out of Git by ``.git/info/exclude`` so the user's ``.gitignore`` is untouched.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.cache import Cache
from ..core.index import Index
from ..core.lockfile import read_lockfile
from ..core.objects import LockEntry
from ..core.pipeline.model import Output, Stage
from ..core.repo import Repo
from ..errors import CacheMissingError, InvalidArgumentError, JupyterExpError
from ..git import Git
from .gittree import LazyReader, fetch_files, find_pipeline_files, load_facts, read_commits
from .revdata import Blob, PipelineFacts, parse_lock

__all__ = [
    "NOTEBOOKS_DIR",
    "NOTEBOOK_KIND",
    "ExecutedNotebook",
    "add_notebook_columns",
    "exclude_from_git",
    "materialise",
    "notebooks_of_commits",
    "workspace_notebooks",
]

NOTEBOOK_SUFFIX = ".ipynb"
# Where materialise() puts notebooks by default: visible to JupyterLab, ignored by Git.
NOTEBOOKS_DIR = "jupyter-exp-notebooks"
# The kind of the columns add_notebook_columns() adds to an exp show table.
NOTEBOOK_KIND = "notebook"
# Rows whose commit is not the experiment's result (a queued snapshot) list nothing.
_NO_RESULT_STATES = frozenset({"Queued", "Running", "Failed"})


@dataclass(frozen=True)
class ExecutedNotebook:
    """An executed notebook a revision recorded: its stage, project path and md5."""

    stage: str
    path: str
    md5: str

    def to_dict(self) -> dict[str, str]:
        """``{"stage", "path", "md5"}``."""
        return {"stage": self.stage, "path": self.path, "md5": self.md5}


def _notebook_outputs(facts: PipelineFacts) -> list[tuple[Stage, Output]]:
    outputs = [*facts.outs, *facts.metric_outs.values()]
    return [
        (stage, out)
        for stage, out in outputs
        if not stage.is_data_source and out.repo_path.endswith(NOTEBOOK_SUFFIX)
    ]


def _recorded(facts: PipelineFacts, locks: Mapping[str, Mapping[str, LockEntry]]) -> list:
    found: list[ExecutedNotebook] = []
    for stage, out in _notebook_outputs(facts):
        entry = locks.get(stage.lockfile, {}).get(stage.name)
        info = entry.outs.get(out.def_path) if entry else None
        if info is not None and not info.isdir:
            found.append(ExecutedNotebook(stage.address, out.repo_path, info.md5))
    return sorted(set(found), key=lambda n: (n.stage, n.path))


def notebooks_of_commits(
    repo: Repo, shas: Iterable[str], *, git: Git | None = None
) -> dict[str, list[ExecutedNotebook]]:
    """The executed notebooks each commit's ``dvc.lock`` files record.

    Commits whose pipeline cannot be loaded, or that are not in the repository, list
    nothing. Everything is read in a few ``git cat-file --batch`` rounds for all commits.
    """
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    git = git or Git.find(repo.root)
    rel = os.path.relpath(repo.root, git.root).replace(os.sep, "/")
    prefix = "" if rel == "." else f"{rel}/"
    result: dict[str, list[ExecutedNotebook]] = {sha: [] for sha in wanted}
    with LazyReader(git) as reader:
        commits = read_commits(reader, wanted)
        roots = {sha: info.tree for sha, info in commits.items()}
        if prefix:
            specs = [f"{sha}:{prefix.rstrip('/')}" for sha in roots]
            objects = reader.read(specs)
            roots = {
                sha: obj.sha
                for sha, obj in zip(list(roots), objects, strict=True)
                if obj is not None and obj.kind == "tree"
            }
        files = find_pipeline_files(reader, roots)
        facts = {
            sha: fact
            for sha, fact in load_facts(reader, files, prefix=prefix).items()
            if isinstance(fact, PipelineFacts) and _notebook_outputs(fact)
        }
        contents = fetch_files(reader, {s: f.lockfiles for s, f in facts.items()}, prefix=prefix)
    for sha, fact in facts.items():
        locks: dict[str, dict[str, LockEntry]] = {}
        for path, blob in contents.get(sha, {}).items():
            if isinstance(blob, Blob):
                try:
                    locks[path] = parse_lock(path, blob)
                except (JupyterExpError, ValueError):
                    continue  # a broken lock records nothing we can open
        result[sha] = _recorded(fact, locks)
    return result


def workspace_notebooks(repo: Repo) -> list[ExecutedNotebook]:
    """The executed notebooks the workspace's ``dvc.lock`` files record."""
    try:
        facts = PipelineFacts.from_index(Index.load(repo))
        locks = {path: read_lockfile(repo, path) for path in facts.lockfiles}
    except JupyterExpError:
        return []
    return _recorded(facts, locks)


def notebooks_by_row(
    repo: Repo, rows: Sequence[Any], *, git: Git | None = None
) -> list[list[ExecutedNotebook]]:
    """The executed notebooks of each ``exp show`` row (``Row`` of :mod:`.show`), in order.

    The workspace row reads the workspace's lock files; queued, running and failed
    rows list nothing (their commit is a snapshot, not a result).
    """
    shas = [row.sha for row in rows if row.sha is not None and row.state not in _NO_RESULT_STATES]
    by_sha = notebooks_of_commits(repo, shas, git=git)
    found: list[list[ExecutedNotebook]] = []
    for row in rows:
        if row.state in _NO_RESULT_STATES:
            found.append([])
        elif row.sha is None:
            found.append(workspace_notebooks(repo) if row.typ == "baseline" else [])
        else:
            found.append(by_sha.get(row.sha, []))
    return found


def add_notebook_columns(table: Any, found: Sequence[Sequence[ExecutedNotebook]]) -> None:
    """Append a column per notebook output to ``table`` (an :class:`~.show.ExpTable`).

    ``found`` is :func:`notebooks_by_row`'s result for ``table.rows``. A column is named
    ``notebook:<stage>``, or ``notebook:<stage>:<path>`` when the stage has several
    notebook outputs; its cells hold the path where the row recorded that notebook.
    """
    from .show import Column

    outputs = sorted({(n.stage, n.path) for notebooks in found for n in notebooks})
    per_stage: dict[str, int] = {}
    for stage, _ in outputs:
        per_stage[stage] = per_stage.get(stage, 0) + 1
    for stage, path in outputs:
        name = f"notebook:{stage}" if per_stage[stage] == 1 else f"notebook:{stage}:{path}"
        table.columns.append(Column(name, NOTEBOOK_KIND, path, stage))  # type: ignore[arg-type]
        for row, notebooks in zip(table.rows, found, strict=True):
            if any(n.stage == stage and n.path == path for n in notebooks):
                row.values[name] = path


# --- materialising -----------------------------------------------------------------------


def select(notebooks: Sequence[ExecutedNotebook], stage: str | None) -> list[ExecutedNotebook]:
    """The notebooks of ``stage`` (its name or its address), all when None.

    Raises :class:`InvalidArgumentError` when ``stage`` recorded none.
    """
    if stage is None:
        return list(notebooks)
    chosen = [n for n in notebooks if n.stage == stage or n.stage.rsplit(":", 1)[-1] == stage]
    if not chosen:
        known = ", ".join(sorted({n.stage for n in notebooks})) or "none"
        raise InvalidArgumentError(
            f"stage '{stage}' recorded no executed notebook here (stages with one: {known})",
            argument=stage,
        )
    return chosen


def materialise(repo: Repo, notebooks: Sequence[ExecutedNotebook], dest: Path) -> list[Path]:
    """Copy each notebook from the cache to ``dest/<path>``; the written paths.

    Files are copies (editing one cannot touch the cache), readable and writable by
    the user, replaced atomically when present. Raises :class:`CacheMissingError` when
    a notebook's object is not in the cache (run elsewhere and not pulled, or
    garbage-collected), before writing anything.
    """
    cache = Cache(repo)
    for notebook in notebooks:
        if not cache.exists(notebook.md5):
            raise CacheMissingError(notebook.path, notebook.md5)
    written = []
    for notebook in notebooks:
        target = dest.joinpath(*posixpath.normpath(notebook.path).split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out, open(cache.object_path(notebook.md5), "rb") as src:
                shutil.copyfileobj(src, out)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def exclude_from_git(git: Git, path: Path) -> bool:
    """Add ``path`` (a folder in the work tree) to ``.git/info/exclude`` once.

    The local ignore file keeps materialised notebooks out of ``git status`` without
    touching the user's ``.gitignore``. Returns True when the line was added.
    """
    relative = path.resolve().relative_to(git.root.resolve()).as_posix()
    line = f"/{relative}/"
    common = Path(git.run("rev-parse", "--git-common-dir").strip())
    if not common.is_absolute():
        common = (git.root / common).resolve()
    exclude = common / "info" / "exclude"
    try:
        text = exclude.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if line in text.splitlines():
        return False
    exclude.parent.mkdir(parents=True, exist_ok=True)
    separator = "" if not text or text.endswith("\n") else "\n"
    with open(exclude, "a", encoding="utf-8") as fobj:
        fobj.write(f"{separator}# jupyter-exp: executed notebooks of experiments\n{line}\n")
    return True
