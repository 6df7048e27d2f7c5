"""``exp diff``: the params, metrics, deps and outs that differ between two revisions.

As ``dvc exp diff``: ``a`` defaults to ``HEAD`` and ``b`` to the workspace; either may be
a Git revision or an experiment name. Params are every file a stage tracks (whole
file or the tracked keys), top-level ``params`` files, ``params.yaml`` and the values
``${}`` read from ``vars`` files; metrics are the stages' ``metrics`` outputs and the
top-level ``metrics`` files. Values are compared the way DVC's ``utils/diff.py`` does
(lists as their text, nested keys joined with ``.``, a numeric ``diff`` when both sides
are numbers), so ``--json`` matches DVC's. Deps and outs compare the hashes each
revision's ``dvc.lock`` (and ``*.dvc`` files) record.

A commit is read through a :class:`RevisionView`: its small text files (pipelines,
locks, params and metrics files named in a ``dvc.yaml``) are written to a scratch
folder so the engine's own loader reads the pipeline exactly as for the workspace;
cached metrics come from the DVC cache by the hash the commit's lock records.
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
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    import pandas

WORKSPACE = "workspace"
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


# --- comparing two revisions -------------------------------------------------------------


@dataclass
class ExpDiff:
    """What differs between revision ``a`` and ``b`` (labels as the user typed them).

    ``metrics`` and ``params`` are ``{file: {key: {"old", "new"[, "diff"]}}}`` exactly as
    ``dvc exp diff --json`` prints them; ``deps`` and ``outs`` are
    ``{path: {"old": md5, "new": md5}}`` from the revisions' ``dvc.lock``/``.dvc`` files
    (None where a side does not record the path).
    """

    a: str
    b: str
    a_rev: str | None
    b_rev: str | None
    metrics: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deps: dict[str, dict[str, str | None]] = field(default_factory=dict)
    outs: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data: DVC's ``metrics``/``params`` plus our ``deps``/``outs``."""
        return {
            "metrics": self.metrics,
            "params": self.params,
            "deps": self.deps,
            "outs": self.outs,
        }

    def __bool__(self) -> bool:
        return any((self.metrics, self.params, self.deps, self.outs))

    def rows(self) -> list[dict[str, Any]]:
        """One row per changed value: ``kind, path, key, old, new, diff``."""
        rows = []
        for kind, section in (("metric", self.metrics), ("param", self.params)):
            for path in sorted(section):
                for key in sorted(section[path]):
                    change = section[path][key]
                    rows.append(
                        {
                            "kind": kind,
                            "path": path,
                            "key": key,
                            "old": change.get("old"),
                            "new": change.get("new"),
                            "diff": change.get("diff"),
                        }
                    )
        for kind, data in (("dep", self.deps), ("out", self.outs)):
            for path in sorted(data):
                change = data[path]
                rows.append(
                    {
                        "kind": kind,
                        "path": path,
                        "key": None,
                        "old": change["old"],
                        "new": change["new"],
                        "diff": None,
                    }
                )
        return rows

    def to_dataframe(self) -> pandas.DataFrame:
        """The :meth:`rows` as a pandas DataFrame (pandas is imported only here)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("ExpDiff.to_dataframe() needs pandas: pip install pandas") from None
        columns = ["kind", "path", "key", "old", "new", "diff"]
        return pd.DataFrame(self.rows(), columns=columns)


def exp_diff(
    repo: Repo,
    git: Git,
    a: str | None = None,
    b: str | None = None,
    *,
    all: bool = False,  # DVC's name for the option
    param_deps: bool = False,
) -> ExpDiff:
    """Compare revision ``a`` (default ``HEAD``) with ``b`` (default: the workspace).

    ``a``/``b`` are Git revisions or experiment names. ``all`` keeps unchanged values;
    ``param_deps`` limits params to those stages depend on. Raises
    :class:`RevisionNotFoundError` for a name that resolves to nothing.
    """
    a_rev = resolve_revision(git, a or "HEAD")
    b_rev = resolve_revision(git, b) if b else None
    result = ExpDiff(a or "HEAD", b or WORKSPACE, a_rev, b_rev)
    with open_revision(repo, git, a_rev) as old, open_revision(repo, git, b_rev) as new:
        result.metrics = diff_files(old.metrics(), new.metrics(), with_unchanged=all)
        result.params = diff_files(
            old.params(deps_only=param_deps), new.params(deps_only=param_deps), with_unchanged=all
        )
        old_deps, old_outs = old.data_hashes()
        new_deps, new_outs = new.data_hashes()
    result.deps = _diff_hashes(old_deps, new_deps, all)
    result.outs = _diff_hashes(old_outs, new_outs, all)
    return result


def _diff_hashes(
    old: Mapping[str, str], new: Mapping[str, str], with_unchanged: bool
) -> dict[str, dict[str, str | None]]:
    result = {}
    for path in sorted({*old, *new}):
        if with_unchanged or old.get(path) != new.get(path):
            result[path] = {"old": old.get(path), "new": new.get(path)}
    return result


# DVC's dvc/utils/diff.py semantics, written out here so the JSON is the same.

_UNPARSABLE = "unable to parse"


def diff_files(
    old: Mapping[str, Any], new: Mapping[str, Any], *, with_unchanged: bool = False
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{file: {key: {"old", "new"[, "diff"]}}}`` for two ``{file: data}`` mappings."""
    result = {}
    for path in sorted({*old, *new}):
        changes = _diff_data(_format(old.get(path, {})), _format(new.get(path, {})), with_unchanged)
        if changes:
            result[path] = changes
    return result


def _format(data: Any) -> Any:
    # DVC's format_dict: lists become their Python text, so they compare as strings.
    if isinstance(data, Mapping):
        return {k: _format(v) for k, v in data.items()}
    if isinstance(data, list):
        return str(data)
    return data


def _diff_data(old: Any, new: Any, with_unchanged: bool) -> dict[str, dict[str, Any]]:
    if isinstance(old, Mapping) or isinstance(new, Mapping):
        flat_old, flat_new = _flatten(old), _flatten(new)
        changes = {}
        for key in sorted({*flat_old, *flat_new}, key=str):
            change = _diff_value(flat_old.get(key), flat_new.get(key), with_unchanged)
            if change:
                changes[key] = change
        return changes
    change = _diff_value(old, new, with_unchanged)
    return {"": change} if change else {}


def _flatten(data: Any) -> dict[str, Any]:
    if not data:
        return {}
    if not isinstance(data, Mapping):
        return {"": _UNPARSABLE}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for sub, item in _flatten(value).items():
                flat[f"{key}.{sub}"] = item
        else:
            flat[str(key)] = value
    return flat


def _diff_value(old: Any, new: Any, with_unchanged: bool) -> dict[str, Any] | None:
    if not with_unchanged and old == new:
        return None
    change: dict[str, Any] = {"old": old, "new": new}
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        change["diff"] = new - old
    return change
