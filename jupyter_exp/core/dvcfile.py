"""``*.dvc`` files: data sources tracked by ``dvc add``, read and written as DVC 3 does.

A ``.dvc`` file is a single stage with no command::

    outs:
    - md5: 1b26352878b4ebb7a0cdc8ef486faf5a
      size: 7
      hash: md5
      path: file.txt

Each out lists ``md5, size, [nfiles], [isexec], hash, path`` then its annotations and
flags (``Output.dumpd`` order). Top-level keys are DVC's single-stage schema. Updating
an existing file works like DVC's ``to_single_stage_file``: the new content is applied
onto the round-trip-parsed old text, so comments, key order and fields such as
``desc`` and ``meta`` survive.
"""

from __future__ import annotations

import io
import os
import posixpath
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import PathOutsideRepoError, PipelineSchemaError
from .fsutil import atomic_write_text
from .ignore import DvcIgnore
from .objects import HashInfo
from .pipeline.model import Output, Stage, join_repo_path
from .yamlio import dump_yaml, find_line, load_yaml

if TYPE_CHECKING:
    from .repo import Repo

__all__ = ["DVCFILE_SUFFIX", "find_dvcfiles", "load_data_source", "out_entry", "write_dvcfile"]

DVCFILE_SUFFIX = ".dvc"

# dvc/schema.py SINGLE_STAGE_SCHEMA ("locked" is DVC 1's name for "frozen").
_TOP_KEYS = ("md5", "wdir", "deps", "outs", "locked", "frozen", "meta", "always_changed", "desc")
_HASH_KEYS = ("md5", "etag", "checksum", "size", "nfiles", "isexec", "version_id", "hash")
# dvc/output.py SCHEMA: what an out entry may hold besides its hash fields.
_OUT_TYPES: dict[str, type | tuple[type, ...] | None] = {
    "path": str,
    "md5": None,
    "etag": None,
    "checksum": None,
    "size": int,
    "nfiles": int,
    "isexec": bool,
    "version_id": str,
    "hash": str,
    "persist": bool,
    "cloud": dict,
    "desc": str,
    "type": str,
    "labels": list,
    "meta": None,
    "cache": bool,
    "remote": str,
    "push": bool,
    "files": list,
    "fs_config": dict,
}
_SKIP_DIRS = frozenset({".git", ".dvc", "node_modules", "__pycache__"})


# --- finding -----------------------------------------------------------------------------


def find_dvcfiles(repo: Repo, visited: list[str] | None = None) -> list[str]:
    """Repo-relative paths of every ``*.dvc`` file, sorted.

    ``visited``, when given, receives every folder the walk looked into.

    Hidden folders (``.git``, ``.dvc``, ``.venv``...), what ``.dvcignore`` excludes and
    nested DVC projects are skipped, as DVC skips them.
    """
    ignore = DvcIgnore(repo.root)
    found: list[str] = []
    root = os.fspath(repo.root)
    stack: list[tuple[str, str]] = [(root, "")]
    while stack:
        folder, rel = stack.pop()
        if visited is not None:
            visited.append(rel or ".")
        try:
            with os.scandir(folder) as entries:
                items = list(entries)
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            continue
        for entry in items:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            child = f"{rel}/{name}" if rel else name
            if is_dir:
                if name.startswith(".") or name in _SKIP_DIRS or ignore.matches(child, True):
                    continue
                if os.path.isdir(os.path.join(entry.path, ".dvc")):
                    continue  # a nested DVC project (subrepo) has its own .dvc files
                stack.append((entry.path, child))
            elif name.endswith(DVCFILE_SUFFIX) and len(name) > len(DVCFILE_SUFFIX):
                if ignore.matches(child, False):
                    continue
                try:
                    if entry.is_file():
                        found.append(child)
                except OSError:
                    continue
    return sorted(found)


# --- loading -----------------------------------------------------------------------------


def _fail(text: str, path: str, detail: str, keys: Sequence[str | int]) -> PipelineSchemaError:
    return PipelineSchemaError(detail, path=path, line=find_line(text, keys))


def _check_checksum(value: Any) -> str | None:
    """DVC's CHECKSUM_SCHEMA: None/'' -> None, str or int (coerced), >= 3 chars, lowered."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError
    text = str(value)
    if len(text) < 3:
        raise TypeError
    return text.lower()


def _check_out(text: str, path: str, index: int, out: Any) -> dict[str, Any]:
    keys: list[str | int] = ["outs", index]
    if not isinstance(out, dict):
        raise _fail(text, path, "each entry of 'outs' must be a mapping", keys)
    if "path" not in out:
        raise _fail(text, path, "an entry of 'outs' has no 'path'", keys)
    for key, value in out.items():
        if key not in _OUT_TYPES:
            raise _fail(text, path, f"extra key '{key}' not allowed in 'outs'", [*keys, key])
        kind = _OUT_TYPES[key]
        if key in ("md5", "etag", "checksum"):
            try:
                out[key] = _check_checksum(value)
            except TypeError:
                raise _fail(
                    text, path, f"'{key}' of an out is not a valid checksum", [*keys, key]
                ) from None
        elif kind is not None and (
            not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        ):
            raise _fail(text, path, f"'{key}' of an out has the wrong type", [*keys, key]) from None
    return out


def load_data_source(repo: Repo, dvcfile: str) -> tuple[Stage, dict[str, HashInfo]]:
    """Load the ``.dvc`` file ``dvcfile`` (repo-relative) as a command-less stage.

    Returns the stage and the hash recorded for each output, keyed by the path as
    written in the file (outs without an md5 are absent). Raises
    :class:`~jupyter_exp.errors.PipelineSyntaxError` / ``PipelineSchemaError`` with
    the file and line, or :class:`PathOutsideRepoError`.
    """
    abspath = repo.abspath(dvcfile)
    try:
        text = abspath.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineSchemaError(f"cannot read: {exc}", path=dvcfile) from None
    data = load_yaml(text, dvcfile)
    if not isinstance(data, dict):
        raise _fail(text, dvcfile, "a .dvc file must be a mapping", [])
    for key in data:
        if key not in _TOP_KEYS:
            raise _fail(text, dvcfile, f"extra key '{key}' not allowed", [key])
    wdir_def = data.get("wdir")
    if wdir_def is not None and not isinstance(wdir_def, str):
        raise _fail(text, dvcfile, "'wdir' must be a string", ["wdir"])
    folder = posixpath.dirname(dvcfile)
    wdir = join_repo_path(folder, wdir_def or ".")
    if _outside(wdir):
        raise PathOutsideRepoError(wdir_def or ".", path=dvcfile, line=find_line(text, ["wdir"]))
    outs_raw = data.get("outs") or []
    if not isinstance(outs_raw, list):
        raise _fail(text, dvcfile, "'outs' must be a list", ["outs"])
    for flag in ("frozen", "locked", "always_changed"):
        if flag in data and not isinstance(data[flag], bool):
            raise _fail(text, dvcfile, f"'{flag}' must be a boolean", [flag])
    if "desc" in data and not isinstance(data["desc"], str):
        raise _fail(text, dvcfile, "'desc' must be a string", ["desc"])
    if "deps" in data and not isinstance(data["deps"], (list, type(None))):
        raise _fail(text, dvcfile, "'deps' must be a list", ["deps"])

    outs: list[Output] = []
    hashes: dict[str, HashInfo] = {}
    for i, raw in enumerate(outs_raw):
        out = _check_out(text, dvcfile, i, raw)
        def_path = out["path"]
        repo_path = join_repo_path(wdir, def_path)
        if os.path.isabs(def_path) or _outside(repo_path):
            raise PathOutsideRepoError(
                def_path, path=dvcfile, line=find_line(text, ["outs", i, "path"])
            )
        annotations = {k: out[k] for k in ("desc", "type", "labels", "meta") if k in out}
        outs.append(
            Output(
                def_path=def_path,
                repo_path=repo_path,
                cache=out.get("cache", True),
                persist=out.get("persist", False),
                remote=out.get("remote"),
                push=out.get("push", True),
                annotations=annotations,
            )
        )
        info = HashInfo.from_lock_fields(out)
        if info is not None:
            hashes[def_path] = info
    stage = Stage(
        name=dvcfile,
        dvcfile=dvcfile,
        wdir=wdir,
        cmd=None,
        outs=tuple(outs),
        frozen=bool(data.get("frozen") or data.get("locked")),
        always_changed=bool(data.get("always_changed", False)),
        desc=data.get("desc"),
        meta=data.get("meta"),
        line=1,
    )
    return stage, hashes


def _outside(repo_path: str) -> bool:
    return repo_path == ".." or repo_path.startswith("../") or posixpath.isabs(repo_path)


# --- writing -----------------------------------------------------------------------------


def out_entry(def_path: str, info: HashInfo, old: Mapping[str, Any] | None = None) -> dict:
    """One ``outs`` entry in DVC's ``Output.dumpd`` order, keeping ``old``'s extras."""
    entry: dict[str, Any] = {"md5": info.md5}
    if info.size is not None:
        entry["size"] = info.size
    if info.nfiles is not None:
        entry["nfiles"] = info.nfiles
    if info.isexec:
        entry["isexec"] = True
    entry["hash"] = "md5"
    entry["path"] = def_path
    old = old or {}
    # Annotations, then flags written only when they differ from DVC's defaults.
    for key in ("desc", "type", "labels", "meta"):
        if old.get(key):
            entry[key] = old[key]
    if old.get("cache") is False:
        entry["cache"] = False
    if old.get("persist"):
        entry["persist"] = True
    if old.get("remote"):
        entry["remote"] = old["remote"]
    if old.get("push") is False:
        entry["push"] = False
    if old.get("fs_config"):
        entry["fs_config"] = old["fs_config"]
    return entry


def _same_path(a: Any, b: str) -> bool:
    return isinstance(a, str) and posixpath.normpath(a) == posixpath.normpath(b)


def _stage_dump(old: Mapping[str, Any], dvcfile: str, outs: list[dict]) -> dict[str, Any]:
    """What DVC's ``Stage.dumpd`` gives for a data source (falsy values dropped)."""
    folder = posixpath.dirname(dvcfile)
    wdir = old.get("wdir")
    rel_wdir = None
    if isinstance(wdir, str):
        full = join_repo_path(folder, wdir)
        rel = posixpath.relpath(full, folder or ".")
        rel_wdir = None if rel == "." else rel
    values = {
        "desc": old.get("desc"),
        # `dvc add` keeps a stage md5 the file already has (it never recomputes it).
        "md5": old.get("md5"),
        "wdir": rel_wdir,
        "frozen": old.get("frozen") or old.get("locked"),
        "deps": old.get("deps"),
        "outs": outs,
        "always_changed": old.get("always_changed"),
        "meta": old.get("meta"),
    }
    return {k: v for k, v in values.items() if v}


def write_dvcfile(
    repo: Repo,
    dvcfile: str,
    outs: Sequence[tuple[str, HashInfo]],
    existing: str | None = None,
) -> bool:
    """Write ``dvcfile`` recording ``outs`` (path as written in the file, hash).

    ``existing`` is the file's current text (read from disk when None and the file
    exists); its comments, other fields and other outs are kept as DVC keeps them.
    Returns True when the bytes on disk changed.
    """
    path = repo.abspath(dvcfile)
    if existing is None and path.is_file():
        existing = path.read_text(encoding="utf-8")
    old: dict[str, Any] = {}
    if existing:
        loaded = load_yaml(existing, dvcfile)
        old = loaded if isinstance(loaded, dict) else {}
    old_outs = [o for o in (old.get("outs") or []) if isinstance(o, dict)]
    new_outs: list[dict] = []
    pending = dict(outs)
    for old_out in old_outs:
        match = next((p for p in pending if _same_path(old_out.get("path"), p)), None)
        if match is None:
            new_outs.append(dict(old_out))
        else:
            new_outs.append(out_entry(old_out["path"], pending.pop(match), old_out))
    new_outs.extend(out_entry(p, info) for p, info in pending.items())
    state = _stage_dump(old, dvcfile, new_outs)

    # A new file is dumped plainly; an old one keeps its comments and order.
    text = _dump_preserving(existing, state) if existing and old else dump_yaml(state)
    if existing == text:
        return False
    atomic_write_text(path, text)
    return True


def _dump_preserving(existing: str, state: dict[str, Any]) -> str:
    """Apply ``state`` onto the round-trip parse of ``existing`` and dump it (DVC's way)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    saved = yaml.load(existing)
    if not isinstance(saved, dict):
        return dump_yaml(state)
    _apply_diff(state, saved)
    stream = io.StringIO()
    yaml.dump(saved, stream)
    return stream.getvalue()


def _apply_diff(src: Any, dest: Any) -> None:
    """Make ``dest`` equal ``src`` in place, keeping ``dest``'s order and comments."""

    def same_kind(a: Any, b: Any) -> bool:
        return any(isinstance(a, t) and isinstance(b, t) for t in (str, Mapping, list, bool))

    if isinstance(src, Mapping) and isinstance(dest, Mapping):
        for key, value in src.items():
            if isinstance(value, (Mapping, list)) and same_kind(value, dest.get(key)):
                _apply_diff(value, dest[key])
            elif key not in dest or value != dest[key]:
                dest[key] = value
        for key in set(dest) - set(src):
            del dest[key]  # type: ignore[attr-defined]
    elif isinstance(src, list) and isinstance(dest, list):
        if len(src) != len(dest):
            dest[:] = src
            return
        for i, value in enumerate(src):
            if isinstance(value, (Mapping, list)) and same_kind(value, dest[i]):
                _apply_diff(value, dest[i])
            elif value != dest[i]:
                dest[i] = value
