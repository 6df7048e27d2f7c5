"""What one revision records: its params, metrics, deps and outs, as ``dvc exp show``.

The pipeline of a revision (an :class:`~jupyter_exp.core.index.Index`) says which files
to read: :class:`PipelineFacts` keeps that. :func:`wanted_paths` lists the files, and
:func:`assemble` turns their contents into DVC's ``SerializableExp`` parts, following
``dvc/repo/params/show.py``, ``dvc/repo/metrics/show.py`` and
``dvc/repo/experiments/serialize.py``:

- params: the keys each stage tracks, whole files for files tracked whole, the files
  of top-level ``params`` sections, the root ``params.yaml`` whole (unless
  ``param_deps``), and values read through ``${}`` from other files;
- metrics: every stage ``metrics`` output and top-level ``metrics`` entry (folders
  expanded); numbers, strings and booleans kept, nested mappings followed, lists dropped;
  a cached metric absent from the tree is read from the DVC cache through ``dvc.lock``;
- deps/outs: the hashes recorded in ``dvc.lock`` and ``*.dvc`` files.

A file that cannot be read gives ``{"error": {"type", "msg"}}`` instead of ``data``.
Parsed files are cached by Git blob sha, so experiments sharing a file parse it once.
"""

from __future__ import annotations

import copy
import json
import posixpath
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..core.index import Index
from ..core.lockfile import lock_entry_from_dict
from ..core.objects import HashInfo, LockEntry
from ..core.params import parse_py
from ..core.pipeline.loader import _construct as construct_fast
from ..core.pipeline.model import DEFAULT_PARAMS_FILE, Dependency, Output, Stage
from ..core.yamlio import Yaml12Loader, load_yaml


@dataclass(frozen=True)
class Blob:
    """A file's content, with its Git blob sha when it comes from a commit."""

    data: bytes
    sha: str | None = None


@dataclass(frozen=True)
class Listing:
    """A folder: the repo paths of every file under it (recursively)."""

    files: tuple[str, ...]


Content = Blob | Listing | None


@dataclass
class PipelineFacts:
    """What a revision's pipelines declare, independent of file contents."""

    stage_params: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    top_params: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    metric_outs: dict[str, tuple[Stage, Output]] = field(default_factory=dict)
    deps: list[tuple[Stage, Dependency]] = field(default_factory=list)
    outs: list[tuple[Stage, Output]] = field(default_factory=list)
    tracked_vars: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    lockfiles: list[str] = field(default_factory=list)
    recorded: dict[str, dict[str, HashInfo]] = field(default_factory=dict)

    @classmethod
    def from_index(cls, index: Index) -> PipelineFacts:
        """Read the facts off a loaded index (stages in the index's order)."""
        facts = cls(recorded=dict(index.recorded))
        top_metrics: list[str] = []
        for pfile in index.files:
            folder = posixpath.dirname(pfile.path)
            facts.lockfiles.append(posixpath.join(folder, "dvc.lock"))
            facts.top_params.extend(_join(folder, p) for p in _file_names(pfile.params))
            top_metrics.extend(_join(folder, p) for p in _file_names(pfile.metrics))
            for tracked in getattr(pfile, "tracked_vars", {}).values():
                facts.tracked_vars.append(tracked)
        for stage in index.stages:
            for dep in stage.params:
                facts.stage_params.append((dep.repo_path, dep.keys))
            for out in stage.outs:
                if out.kind == "metric":
                    facts.metrics.append(out.repo_path)
                    facts.metric_outs.setdefault(out.repo_path, (stage, out))
                elif out.kind == "out":
                    facts.outs.append((stage, out))
            facts.deps.extend((stage, dep) for dep in stage.deps)
        facts.metrics = list(dict.fromkeys([*facts.metrics, *top_metrics]))
        return facts


def _join(folder: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(folder, path))


def _file_names(section: list[Any]) -> list[str]:
    names: list[str] = []
    for item in section or []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            names.extend(str(k) for k in item)
    return names


def params_spec(facts: PipelineFacts, *, has_default: bool, param_deps: bool) -> dict[str, list]:
    """Params file -> keys to show (``[]``: the whole file), as DVC's ``_merge_params``."""
    entries: list[tuple[str, Sequence[str]]] = list(facts.stage_params)
    if not param_deps:
        entries.extend((path, ()) for path in facts.top_params)
        if has_default:
            entries.append((DEFAULT_PARAMS_FILE, ()))
    whole = {path for path, keys in entries if not keys}
    spec: dict[str, list[str]] = {}
    for path, keys in entries:
        if path in whole:
            spec[path] = []
        else:
            spec.setdefault(path, []).extend(keys)
    return spec


def wanted_paths(facts: PipelineFacts, *, param_deps: bool) -> list[str]:
    """Every file :func:`assemble` may read (the root ``params.yaml`` included)."""
    spec = params_spec(facts, has_default=True, param_deps=param_deps)
    return list(dict.fromkeys([*spec, *facts.metrics, *facts.lockfiles]))


# --- parsing --------------------------------------------------------------------------

_PARSED: dict[tuple[str, str], Any] = {}
_PARSED_LIMIT = 4096


class _Failure:
    """A parse error kept in the cache (so a broken file is not parsed twice)."""

    def __init__(self, error: dict[str, str]) -> None:
        self.error = error


def error_dict(exc: BaseException) -> dict[str, str]:
    """An exception as DVC's JSON writes it (``encode_exception``)."""
    return {"type": type(exc).__name__, "msg": str(exc)}


def parse_data(path: str, blob: Blob) -> Any:
    """Parse a params/metrics file by its suffix, as DVC's ``load_path`` does.

    ``.json``, ``.toml`` and ``.py``; anything else is YAML. An empty document is ``{}``.
    Returns a :class:`_Failure` instead of raising. Cached by blob sha when known.
    """
    suffix = posixpath.splitext(path)[1].lower()
    key = (blob.sha, suffix) if blob.sha else None
    if key is not None and key in _PARSED:
        return _PARSED[key]
    try:
        text = blob.data.decode("utf-8")
        if suffix == ".json":
            value = json.loads(text)
        elif suffix == ".toml":
            value = _toml_loads(text)
        elif suffix == ".py":
            value = parse_py(text, path)
        else:
            value = fast_yaml(text, path)
        value = value or {}
    except Exception as exc:  # any parse failure is shown, as DVC does
        value = _Failure(error_dict(exc))
    if key is not None:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = value
    return value


def _toml_loads(text: str) -> Any:
    # Imported here: few projects have TOML params, and tomllib costs ~2 ms to import.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def fast_yaml(text: str, path: str) -> Any:
    """:func:`~jupyter_exp.core.yamlio.load_yaml`'s result, ~5x faster on plain data.

    Builds plain mappings, lists and strings directly from libyaml's nodes (the
    pipeline loader's constructor); bad YAML goes through ``load_yaml`` for its error.
    """
    loader = Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        try:
            return construct_fast(loader, node)
        except RecursionError:  # a self-referencing alias
            return loader.construct_document(node)
    except yaml.YAMLError:
        return load_yaml(text, path)  # raises PipelineSyntaxError with the line
    finally:
        loader.dispose()


def _not_found(path: str) -> dict[str, str]:
    return {"type": "FileNotFoundError", "msg": f"[Errno 2] No such file or directory: '{path}'"}


def extract_metrics(value: Any) -> Any:
    """Numbers, strings and booleans of a metrics document (DVC's ``_extract_metrics``)."""
    if isinstance(value, (int, float, str)):
        return value
    if not isinstance(value, dict):
        return None
    out = {}
    for key, item in value.items():
        kept = extract_metrics(item)
        if kept not in (None, {}):
            out[key] = kept
    return out


def select_keys(data: Any, keys: Sequence[str]) -> dict[str, Any]:
    """The nested mapping holding only ``keys`` (dotted paths) of ``data``.

    As DVC's ``dpath.search`` + ``merge``: keys absent from the file are left out.
    """
    result: dict[str, Any] = {}
    for key in dict.fromkeys(keys):
        parts = key.split(".")
        node = data
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            target = result
            for part in parts[:-1]:
                nxt = target.get(part)
                if not isinstance(nxt, dict):
                    nxt = target[part] = {}
                target = nxt
            target[parts[-1]] = copy.deepcopy(node)
    return result


# --- assembling -----------------------------------------------------------------------


def _expand(path: str, files: Mapping[str, Content]) -> list[str]:
    content = files.get(path)
    if isinstance(content, Listing):
        return list(content.files)
    return [path]


def read_params(
    facts: PipelineFacts, files: Mapping[str, Content], *, has_default: bool, param_deps: bool
) -> dict[str, dict[str, Any]]:
    """``params`` of a revision: file -> ``{"data": ...}`` or ``{"error": ...}``."""
    result: dict[str, dict[str, Any]] = {}
    spec = params_spec(facts, has_default=has_default, param_deps=param_deps)
    for spec_path, keys in spec.items():
        for path in _expand(spec_path, files):
            content = files.get(path)
            if not isinstance(content, Blob):
                result[path] = {"error": _not_found(path)}
                continue
            parsed = parse_data(path, content)
            if isinstance(parsed, _Failure):
                result[path] = {"error": parsed.error}
            elif keys:
                result[path] = {"data": select_keys(parsed, keys)}
            else:
                result[path] = {"data": parsed}
    # Values read through ${} from files not shown above (dvc/repo/params/show.py).
    from_vars: dict[str, dict[str, Any]] = {}
    for tracked in facts.tracked_vars:
        for path, values in tracked.items():
            if path not in result:
                from_vars.setdefault(path, {}).update(values)
    result.update((path, {"data": values}) for path, values in from_vars.items())
    return result


def read_metrics(
    facts: PipelineFacts,
    files: Mapping[str, Content],
    locks: Mapping[str, Mapping[str, LockEntry]],
    cached: CachedReader,
) -> dict[str, dict[str, Any]]:
    """``metrics`` of a revision: file -> ``{"data": ...}`` or ``{"error": ...}``."""
    result: dict[str, dict[str, Any]] = {}
    for spec_path in facts.metrics:
        content = files.get(spec_path)
        if content is None:
            # Not in the tree: a cached output, read from the DVC cache (dvc.lock's md5).
            for path, blob in cached.metric_files(spec_path, facts, locks):
                result[path] = _metric_result(path, blob)
            continue
        for path in _expand(spec_path, files):
            result[path] = _metric_result(path, files.get(path))
    return result


def _metric_result(path: str, content: Content) -> dict[str, Any]:
    if not isinstance(content, Blob):
        return {"error": _not_found(path)}
    parsed = parse_data(path, content)
    if isinstance(parsed, _Failure):
        return {"error": parsed.error}
    return {"data": extract_metrics(parsed) or {}}


class CachedReader:
    """Reads cached outputs (``cache: true`` metrics) from the DVC cache directory."""

    def __init__(self, cache_objects_dir: str) -> None:
        self.objects_dir = cache_objects_dir
        # Every cache file looked at (found or not): the workspace stamp watches them.
        self.consulted: list[str] = []

    def _object(self, md5: str) -> Blob | None:
        path = posixpath.join(self.objects_dir, md5[:2], md5[2:])
        self.consulted.append(path)
        try:
            with open(path, "rb") as fobj:
                return Blob(fobj.read(), sha=f"md5:{md5}")
        except OSError:
            return None

    def metric_files(
        self,
        path: str,
        facts: PipelineFacts,
        locks: Mapping[str, Mapping[str, LockEntry]],
    ) -> list[tuple[str, Blob | None]]:
        """``(path, content)`` of the metric file(s) recorded for output ``path``."""
        info = _recorded_hash(path, facts, locks)
        if info is None:
            return [(path, None)]
        if not info.isdir:
            return [(path, self._object(info.md5))]
        listing = self._object(info.md5)
        try:
            entries = json.loads(listing.data) if listing else None
        except ValueError:
            entries = None
        if not isinstance(entries, list):
            return [(path, None)]
        found = []
        for entry in entries:
            if isinstance(entry, dict) and "relpath" in entry and "md5" in entry:
                child = f"{path}/{entry['relpath']}"
                found.append((child, self._object(str(entry["md5"]))))
        return found


def _recorded_hash(
    path: str, facts: PipelineFacts, locks: Mapping[str, Mapping[str, LockEntry]]
) -> HashInfo | None:
    owner = facts.metric_outs.get(path)
    if owner is None or not owner[1].cache:
        return None  # a `cache: false` metric lives in the workspace/Git only, as in DVC
    stage, out = owner
    if stage.is_data_source:
        return facts.recorded.get(stage.dvcfile, {}).get(out.def_path)
    entry = locks.get(stage.lockfile, {}).get(stage.name)
    return entry.outs.get(out.def_path) if entry else None


def _lock_info(
    stage: Stage, def_path: str, section: str, facts: PipelineFacts, locks: Mapping
) -> HashInfo | None:
    if stage.is_data_source:
        return facts.recorded.get(stage.dvcfile, {}).get(def_path)
    entry = locks.get(stage.lockfile, {}).get(stage.name)
    if entry is None:
        return None
    return getattr(entry, section).get(def_path)


def read_deps(facts: PipelineFacts, locks: Mapping) -> dict[str, dict[str, Any]]:
    """``deps``: path -> ``{hash, size, nfiles}`` from the lock files."""
    result: dict[str, dict[str, Any]] = {}
    for stage, dep in facts.deps:
        info = _lock_info(stage, dep.def_path, "deps", facts, locks)
        result[dep.repo_path] = {
            "hash": info.md5 if info else None,
            "size": info.size if info else None,
            "nfiles": info.nfiles if info else None,
        }
    return result


def read_outs(facts: PipelineFacts, locks: Mapping) -> dict[str, dict[str, Any]]:
    """``outs``: path -> ``{hash, size, nfiles, use_cache, is_data_source}``."""
    result: dict[str, dict[str, Any]] = {}
    for stage, out in facts.outs:
        info = _lock_info(stage, out.def_path, "outs", facts, locks)
        result[out.repo_path] = {
            "hash": info.md5 if info else None,
            "size": info.size if info else None,
            "nfiles": info.nfiles if info else None,
            "use_cache": out.cache,
            "is_data_source": stage.is_data_source,
        }
    return result


def parse_lock(path: str, blob: Blob) -> dict[str, LockEntry]:
    """The entries of a ``dvc.lock`` (cached by blob sha); raises on a malformed file."""
    key = (blob.sha, "lock") if blob.sha else None
    if key is not None and key in _PARSED:
        return _PARSED[key]
    data = fast_yaml(blob.data.decode("utf-8"), path) or {}
    stages = data.get("stages") if isinstance(data, dict) else None
    entries = {
        str(name): lock_entry_from_dict(raw, path=path, name=str(name))
        for name, raw in (stages or {}).items()
    }
    if key is not None:
        _PARSED[key] = entries
    return entries
