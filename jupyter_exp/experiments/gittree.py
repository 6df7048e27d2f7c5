"""Reading many commits at once through one ``git cat-file --batch`` process.

``exp show`` needs, for every baseline and experiment commit, its pipelines and the
params/metrics files they name. Everything here works on batches across all commits:
one request per distinct object, trees and parsed pipelines cached by sha (commits never
change), so 300 experiments cost little more than one.

- :func:`read_commits`: tree, parents and commit time of each commit.
- :func:`find_pipeline_files`: every ``dvc.yaml`` and ``*.dvc`` file of each commit,
  skipping what the workspace walk skips (hidden folders, nested DVC projects, paths
  ignored by ``.gitignore``/``.dvcignore``).
- :func:`pipeline_layouts`: each commit's pipeline files (and the files their ``${}``
  read) by sha; :func:`write_layout` writes one out, for the engine's own loader.
- :func:`load_facts`: each commit's :class:`~.revdata.PipelineFacts`, by loading its
  pipeline files with the engine's own loader (written to a scratch folder once per
  distinct set of files).
- :func:`fetch_files`: the content of ``(commit, path)`` pairs, folders expanded.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.ignore_rules import Rule, is_ignored, parse_ignore
from ..core.index import Index
from ..core.repo import Repo
from ..core.yamlio import load_yaml
from ..errors import JupyterExpError
from ..git import Git
from ..git.repository import GitObject, ObjectReader
from .revdata import Blob, Content, Listing, PipelineFacts, error_dict

PIPELINE_FILE = "dvc.yaml"
DVCFILE_SUFFIX = ".dvc"
_IGNORE_FILES = (".gitignore", ".dvcignore")
_SKIP_DIRS = frozenset({"node_modules", "__pycache__"})
_TREE_MODE = "40000"
_BLOB_MODES = frozenset({"100644", "100755"})
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class Entry:
    """One entry of a Git tree object."""

    name: str
    mode: str
    sha: str

    @property
    def is_tree(self) -> bool:
        """True for a sub-folder."""
        return self.mode == _TREE_MODE

    @property
    def is_file(self) -> bool:
        """True for a regular (or executable) file."""
        return self.mode in _BLOB_MODES


@dataclass(frozen=True)
class CommitInfo:
    """What a commit object says: its tree, parents and committer time."""

    tree: str
    parents: tuple[str, ...]
    timestamp: int


@dataclass
class CommitFiles:
    """The pipeline files of one commit: repo path -> blob sha."""

    pipelines: dict[str, str] = field(default_factory=dict)
    dvcfiles: dict[str, str] = field(default_factory=dict)
    root: dict[str, Entry] = field(default_factory=dict)


# Objects are immutable, so these caches are safe across calls and repositories.
_TREES: dict[str, tuple[Entry, ...]] = {}
_COMMITS: dict[str, CommitInfo] = {}
_BLOBS: dict[str, bytes] = {}
_FACTS: dict[tuple, PipelineFacts | dict[str, str]] = {}
_FILES: dict[str, Content] = {}  # "<commit>:<path>" -> content


def _remember(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def parse_tree(data: bytes) -> tuple[Entry, ...]:
    """The entries of a raw tree object (``<mode> <name>\\0<20-byte sha>`` each)."""
    entries = []
    pos, end = 0, len(data)
    while pos < end:
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        entries.append(Entry(name, data[pos:space].decode(), data[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return tuple(entries)


def parse_commit(data: bytes) -> CommitInfo:
    """Tree, parents and committer time of a raw commit object."""
    tree, parents, stamp = "", [], 0
    for line in data.split(b"\n"):
        if not line:
            break  # the message follows the first blank line
        if line.startswith(b"tree "):
            tree = line[5:].decode()
        elif line.startswith(b"parent "):
            parents.append(line[7:].decode())
        elif line.startswith(b"committer "):
            # "committer Name <email> 1700000000 +0100"
            stamp = int(line.rsplit(b" ", 2)[1])
    return CommitInfo(tree, tuple(parents), stamp)


def read_commits(reader: Reader, shas: Iterable[str]) -> dict[str, CommitInfo]:
    """:class:`CommitInfo` of each commit sha (unknown shas are left out)."""
    wanted = list(dict.fromkeys(shas))
    missing = [sha for sha in wanted if sha not in _COMMITS]
    for sha, obj in zip(missing, reader.read(missing), strict=True):
        if obj is not None and obj.kind == "commit":
            _remember(_COMMITS, sha, parse_commit(obj.data))
    return {sha: _COMMITS[sha] for sha in wanted if sha in _COMMITS}


def read_trees(reader: Reader, shas: Iterable[str]) -> None:
    """Make sure every tree in ``shas`` is parsed in the cache."""
    missing = list(dict.fromkeys(sha for sha in shas if sha not in _TREES))
    for sha, obj in zip(missing, reader.read(missing), strict=True):
        if obj is not None and obj.kind == "tree":
            _remember(_TREES, sha, parse_tree(obj.data))


def read_blobs(reader: Reader, shas: Iterable[str]) -> dict[str, bytes]:
    """Contents of blobs by sha (kept in a cache: pipeline files are small)."""
    wanted = list(dict.fromkeys(shas))
    missing = [sha for sha in wanted if sha not in _BLOBS]
    for sha, obj in zip(missing, reader.read(missing), strict=True):
        if obj is not None and obj.kind == "blob":
            _remember(_BLOBS, sha, obj.data)
    return {sha: _BLOBS[sha] for sha in wanted if sha in _BLOBS}


class LazyReader:
    """An :class:`ObjectReader` started on the first request that needs Git.

    When every object wanted is cached, no ``git cat-file`` process starts at all.
    """

    def __init__(self, git: Git) -> None:
        self._git = git
        self._reader: ObjectReader | None = None

    def __enter__(self) -> LazyReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, specs: Sequence[str]) -> list[GitObject | None]:
        """As :meth:`ObjectReader.read`."""
        if not specs:
            return []
        if self._reader is None:
            self._reader = self._git.object_reader()
        return self._reader.read(specs)

    def close(self) -> None:
        """Stop the process if it was started."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None


Reader = ObjectReader | LazyReader


# --- finding pipeline files -------------------------------------------------------------

# A folder to walk: (tree sha, repo path, the ignore files in effect as (folder, sha)).
_Task = tuple[str, str, tuple[tuple[str, str], ...]]
_RULES: dict[tuple[tuple[str, str], ...], list[Rule]] = {}


def _rules(key: tuple[tuple[str, str], ...]) -> list[Rule]:
    rules = _RULES.get(key)
    if rules is None:
        rules = []
        for folder, sha in key:
            text = _BLOBS.get(sha, b"").decode("utf-8", "replace")
            rules.extend(parse_ignore(text, folder))
        _remember(_RULES, key, rules)
    return rules


def find_pipeline_files(reader: Reader, roots: Mapping[str, str]) -> dict[str, CommitFiles]:
    """``dvc.yaml`` and ``*.dvc`` files of each commit (commit -> root tree sha given).

    Walks all commits' trees level by level, one batch per level, visiting each
    (folder, tree) once however many commits share it.
    """
    found: dict[_Task, tuple[list[tuple[str, str]], list[_Task]]] = {}
    level: list[_Task] = list(dict.fromkeys((tree, "", ()) for tree in roots.values()))
    while level:
        read_trees(reader, (task[0] for task in level))
        ignore_shas = [
            e.sha
            for task in level
            for e in _TREES.get(task[0], ())
            if e.name in _IGNORE_FILES and e.is_file
        ]
        read_blobs(reader, ignore_shas)
        following: list[_Task] = []
        for task in level:
            if task not in found:
                found[task] = _visit(task)
                following.extend(child for child in found[task][1] if child not in found)
        level = list(dict.fromkeys(following))
    result = {}
    for commit, tree in roots.items():
        files = CommitFiles(root={e.name: e for e in _TREES.get(tree, ())})
        for path, sha in sorted(_collect((tree, "", ()), found)):
            name = posixpath.basename(path)
            target = files.pipelines if name == PIPELINE_FILE else files.dvcfiles
            target[path] = sha
        result[commit] = files
    return result


def _visit(task: _Task) -> tuple[list[tuple[str, str]], list[_Task]]:
    """Pipeline files directly in one folder, and the sub-folders to walk."""
    sha, rel, ignore_key = task
    entries = _TREES.get(sha, ())
    names = {e.name for e in entries}
    if rel and ".dvc" in names:
        return [], []  # a nested DVC project: its pipelines are its own
    local = ignore_key + tuple(
        (rel, e.sha)
        for name in _IGNORE_FILES
        for e in entries
        if e.name == name and e.is_file and e.sha in _BLOBS
    )
    rules = _rules(local) if local else []
    files: list[tuple[str, str]] = []
    children: list[_Task] = []
    for entry in entries:
        name = entry.name
        path = f"{rel}/{name}" if rel else name
        if entry.is_tree:
            if name.startswith(".") or name in _SKIP_DIRS:
                continue
            if rules and is_ignored(rules, path, True):
                continue
            children.append((entry.sha, path, local))
        elif (
            entry.is_file
            and _is_pipeline_file(name)
            and not (rules and is_ignored(rules, path, False))
        ):
            files.append((path, entry.sha))
    return files, children


def _is_pipeline_file(name: str) -> bool:
    return name == PIPELINE_FILE or (
        name.endswith(DVCFILE_SUFFIX) and len(name) > len(DVCFILE_SUFFIX)
    )


def _collect(task: _Task, found: Mapping[_Task, Any]) -> list[tuple[str, str]]:
    files, children = found.get(task, ([], []))
    out = list(files)
    for child in children:
        out.extend(_collect(child, found))
    return out


# --- loading pipelines ------------------------------------------------------------------


def interpolation_inputs(path: str, text: str) -> list[str]:
    """Files a ``dvc.yaml`` may read while resolving ``${}``: ``params.yaml`` and vars."""
    if "${" not in text and "vars" not in text:
        return []
    try:
        data = load_yaml(text, path)
    except JupyterExpError:
        return []
    if not isinstance(data, dict):
        return []
    folder = posixpath.dirname(path)
    inputs = [posixpath.join(folder, "params.yaml")]
    inputs.extend(_vars_files(folder, data.get("vars")))
    for stage in (data.get("stages") or {}).values():
        for body in (stage, stage.get("do") if isinstance(stage, dict) else None):
            if isinstance(body, dict):
                wdir = body.get("wdir")
                wdir = wdir if isinstance(wdir, str) and "${" not in wdir else "."
                inputs.extend(_vars_files(posixpath.join(folder, wdir), body.get("vars")))
    return list(dict.fromkeys(posixpath.normpath(p) for p in inputs))


def _vars_files(folder: str, items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [
        posixpath.join(folder, item.partition(":")[0]) for item in items if isinstance(item, str)
    ]


def pipeline_layouts(
    reader: Reader, files: Mapping[str, CommitFiles], *, prefix: str = ""
) -> dict[str, dict[str, str]]:
    """Each commit's pipeline as ``{repo path: blob sha}``: its ``dvc.yaml`` and
    ``*.dvc`` files and the files their ``${}`` read (``params.yaml``, ``vars``).

    ``prefix`` is the project's folder inside the Git repository (``""`` or ``sub/``).
    The blobs are in the cache afterwards (:func:`write_layout` writes them out).
    """
    texts = read_blobs(
        reader,
        (sha for f in files.values() for sha in (*f.pipelines.values(), *f.dvcfiles.values())),
    )
    inputs: dict[str, list[str]] = {}
    for commit, found in files.items():
        wanted: list[str] = []
        for path, sha in found.pipelines.items():
            text = texts.get(sha, b"").decode("utf-8", "replace")
            wanted.extend(interpolation_inputs(path, text))
        inputs[commit] = list(dict.fromkeys(wanted))
    specs = [(commit, path) for commit, paths in inputs.items() for path in paths]
    objects = reader.read([f"{commit}:{prefix}{path}" for commit, path in specs])
    layouts: dict[str, dict[str, str]] = {commit: {} for commit in files}
    for (commit, path), obj in zip(specs, objects, strict=True):
        if obj is not None and obj.kind == "blob":
            _remember(_BLOBS, obj.sha, obj.data)
            layouts[commit][path] = obj.sha
    for commit, found in files.items():
        layouts[commit].update(found.pipelines)
        layouts[commit].update(found.dvcfiles)
    return layouts


def load_facts(
    reader: Reader, files: Mapping[str, CommitFiles], *, prefix: str = ""
) -> dict[str, PipelineFacts | dict[str, str]]:
    """Each commit's :class:`PipelineFacts`, or an error dict if its pipeline is broken.

    ``prefix`` is the project's folder inside the Git repository (``""`` or ``sub/``).
    """
    result: dict[str, PipelineFacts | dict[str, str]] = {}
    for commit, layout in pipeline_layouts(reader, files, prefix=prefix).items():
        key = tuple(sorted(layout.items()))
        if key not in _FACTS:
            _remember(_FACTS, key, _facts_of(layout))
        result[commit] = _FACTS[key]
    return result


def write_layout(layout: Mapping[str, str], dest: str | os.PathLike[str]) -> None:
    """Write the blobs of ``layout`` (repo path -> blob sha, read already) under ``dest``."""
    for path, sha in layout.items():
        target = os.path.join(dest, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fobj:
            fobj.write(_BLOBS.get(sha, b""))


def _facts_of(layout: Mapping[str, str]) -> PipelineFacts | dict[str, str]:
    """Load the pipeline made of ``layout`` (path -> blob sha) with the engine's loader."""
    if not layout:
        return PipelineFacts()
    folder = tempfile.mkdtemp(prefix="jupyter-exp-show-")
    try:
        write_layout(layout, folder)
        return PipelineFacts.from_index(Index.load(Repo(folder)))
    except (JupyterExpError, OSError, ValueError) as exc:
        return error_dict(exc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def git_prefix(repo: Repo, git: Git) -> str:
    """The DVC project's folder inside the Git work tree, as a path prefix ('' or 'sub/')."""
    rel = os.path.relpath(repo.root, git.root).replace(os.sep, "/")
    return "" if rel == "." else f"{rel}/"


def project_trees(
    reader: Reader, commits: Mapping[str, CommitInfo], *, prefix: str = ""
) -> dict[str, str]:
    """The tree of the project folder ``prefix`` in each commit (commits without it left
    out): the root tree, or the sub-folder's for a DVC project inside a Git repository."""
    if not prefix:
        return {sha: info.tree for sha, info in commits.items()}
    shas = list(commits)
    objects = reader.read([f"{sha}:{prefix.rstrip('/')}" for sha in shas])
    return {s: o.sha for s, o in zip(shas, objects, strict=True) if o and o.kind == "tree"}


# --- reading files ----------------------------------------------------------------------


def fetch_files(
    reader: Reader, requests: Mapping[str, Iterable[str]], *, prefix: str = ""
) -> dict[str, dict[str, Content]]:
    """Contents of each commit's requested paths; folders become a :class:`Listing`.

    Paths are relative to the project folder ``prefix`` (``""`` or ``sub/``) in the
    repository. Paths missing from a commit map to None. Results are cached (commits
    never change), so asking again reads nothing.
    """
    result: dict[str, dict[str, Content]] = {commit: {} for commit in requests}
    specs: list[tuple[str, str]] = []
    for commit, paths in requests.items():
        for path in paths:
            if f"{commit}:{prefix}{path}" in _FILES:
                _from_cache(result[commit], commit, prefix, path)
            else:
                specs.append((commit, path))
    if not specs:
        return result
    fetched: dict[str, dict[str, Content]] = {commit: {} for commit in requests}
    folders: list[tuple[str, str, str]] = []
    objects = reader.read([f"{c}:{prefix}{p}" for c, p in specs])
    for (commit, path), obj in zip(specs, objects, strict=True):
        if obj is None:
            fetched[commit][path] = None
        elif obj.kind == "tree":
            _remember(_TREES, obj.sha, parse_tree(obj.data))
            folders.append((commit, path, obj.sha))
        elif obj.kind == "blob":
            fetched[commit][path] = Blob(obj.data, obj.sha)
    if folders:
        _expand_folders(reader, folders, fetched)
    for commit, contents in fetched.items():
        for path, content in contents.items():
            _remember(_FILES, f"{commit}:{prefix}{path}", content)
        result[commit].update(contents)
    return result


def _from_cache(into: dict[str, Content], commit: str, prefix: str, path: str) -> None:
    content = _FILES[f"{commit}:{prefix}{path}"]
    into[path] = content
    if isinstance(content, Listing):
        for child in content.files:
            into[child] = _FILES.get(f"{commit}:{prefix}{child}")


def _expand_folders(
    reader: Reader,
    folders: list[tuple[str, str, str]],
    result: dict[str, dict[str, Content]],
) -> None:
    listed: dict[tuple[str, str], list[tuple[str, str]]] = {}
    pending = [(commit, path, path, sha) for commit, path, sha in folders]
    while pending:
        read_trees(reader, (sha for *_, sha in pending))
        following = []
        for commit, top, rel, sha in pending:
            for entry in _TREES.get(sha, ()):
                child = f"{rel}/{entry.name}"
                if entry.is_tree:
                    following.append((commit, top, child, entry.sha))
                elif entry.is_file:
                    listed.setdefault((commit, top), []).append((child, entry.sha))
        pending = following
    shas = [sha for files in listed.values() for _, sha in files]
    blobs = dict(zip(shas, reader.read(shas), strict=True)) if shas else {}
    for commit, top, _ in folders:
        files = sorted(listed.get((commit, top), []))
        result[commit][top] = Listing(tuple(path for path, _ in files))
        for path, sha in files:
            obj = blobs.get(sha)
            result[commit][path] = Blob(obj.data, sha) if obj is not None else None
