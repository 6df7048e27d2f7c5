"""``dvc.lock``: read it, and write it byte for byte as DVC 3 does.

DVC writes a lock file through ``Lockfile.dump_stages`` (``dvc/dvcfile.py``): it loads the
existing file with ruamel's round-trip loader, sets ``schema: '2.0'`` first when the file
is new or empty, updates ``stages`` entry by entry (an existing entry keeps its position,
a new one goes last) and dumps the whole document again. We do exactly that. The round
trip is not the identity: it keeps comments and flow style of a hand-edited file, and it
re-renders some floats written in exponent form with one digit less (a ruamel quirk), so
a plain re-dump of the other stages would differ from DVC's bytes. The round trip is also
no slower than checking whether a plain dump would do.

Reading uses the fast libyaml reader and checks DVC's LOCKFILE_SCHEMA.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import PipelineSchemaError
from .objects import HashInfo, LockEntry
from .pipeline.model import DEFAULT_PARAMS_FILE
from .repo import Repo
from .yamlio import find_line, load_yaml

__all__ = [
    "LOCKFILE_SCHEMA_VERSION",
    "atomic_write_text",
    "dump_lock_yaml",
    "lock_entry_from_dict",
    "lock_entry_to_dict",
    "read_lockfile",
    "remove_lock_entries",
    "write_lock_entries",
]

LOCKFILE_SCHEMA_VERSION = "2.0"

# Keys DVC's DATA_SCHEMA accepts in a deps/outs item of a lock entry (dvc/schema.py).
_DATA_KEYS = frozenset(
    {
        "path",
        "hash",
        "md5",
        "etag",
        "checksum",
        "size",
        "nfiles",
        "isexec",
        "version_id",
        "cloud",
        "files",
        "dataset",
    }
)
_STAGE_KEYS = ("cmd", "deps", "params", "outs")


# --- reading -----------------------------------------------------------------------------


def read_lockfile(repo: Repo, lock_path: str) -> dict[str, LockEntry]:
    """The stages recorded in ``lock_path`` (repo-relative, e.g. ``sub/dvc.lock``).

    A missing file gives ``{}``. Raises :class:`PipelineSyntaxError` for YAML that does
    not parse and :class:`PipelineSchemaError` for a structure DVC 3 would reject, both
    with the file and line.
    """
    try:
        text = repo.abspath(lock_path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return _parse(text, lock_path)[1]


def _parse(text: str, lock_path: str) -> tuple[dict[str, Any], dict[str, LockEntry]]:
    """Load and check a lock file (DVC's LOCKFILE_SCHEMA): its data and its entries."""
    data = _parse_top(text, lock_path)
    entries = {
        name: lock_entry_from_dict(raw, path=lock_path, name=name, text=text)
        for name, raw in data.get("stages", {}).items()
    }
    return data, entries


def _parse_top(text: str, lock_path: str) -> dict[str, Any]:
    data = load_yaml(text, lock_path)
    if not isinstance(data, dict):
        raise PipelineSchemaError("expected a mapping at the top level", path=lock_path, line=1)
    if "schema" not in data:
        # Also an empty file: DVC refuses it the same way.
        hint = " (a DVC 1 lock file?)" if data else ""
        raise PipelineSchemaError(
            f"required key 'schema' not provided{hint}", path=lock_path, line=1
        )
    for key in data:
        if key not in ("schema", "stages", "datasets"):
            raise PipelineSchemaError(
                f"unexpected key '{key}'", path=lock_path, line=find_line(text, [str(key)])
            )
    if data["schema"] != LOCKFILE_SCHEMA_VERSION:
        raise PipelineSchemaError(
            f"invalid schema version {data['schema']!r}, expected '2.0'",
            path=lock_path,
            line=find_line(text, ["schema"]),
        )
    if not isinstance(data.setdefault("stages", {}), dict):
        raise PipelineSchemaError(
            "'stages' must be a mapping", path=lock_path, line=find_line(text, ["stages"])
        )
    return data


def lock_entry_from_dict(
    raw: Any, *, path: str | None = None, name: str | None = None, text: str | None = None
) -> LockEntry:
    """Check one stage entry against DVC's LOCK_FILE_STAGE_SCHEMA and build a LockEntry.

    ``path``/``name``/``text`` only serve error messages (file, stage and line). Used for
    ``dvc.lock`` entries (``name`` set) and run-cache records (``name`` None).
    """
    prefix: list[str | int] = ["stages", name] if name is not None else []

    def fail(detail: str, keys: list[str | int]) -> PipelineSchemaError:
        line = find_line(text, [*prefix, *keys]) if text is not None else None
        return PipelineSchemaError(detail, path=path, line=line, stage=name)

    if not isinstance(raw, dict):
        raise fail("a lock entry must be a mapping", [])
    for key in raw:
        if key not in _STAGE_KEYS:
            raise fail(f"unexpected key '{key}'", [str(key)])
    cmd = raw.get("cmd")
    if cmd is None:
        raise fail("required key 'cmd' not provided", [])
    if not isinstance(cmd, (str, list)):
        raise fail("'cmd' must be a string or a list", ["cmd"])
    entry = LockEntry(cmd=cmd)
    for section, target in (("deps", entry.deps), ("outs", entry.outs)):
        items = raw.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            raise fail(f"'{section}' must be a list", [section])
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                raise fail(f"'{section}' items need a 'path'", [section, index])
            for key in item:
                if key not in _DATA_KEYS:
                    raise fail(f"unexpected key '{key}' in '{section}'", [section, index, key])
            md5 = item.get("md5")
            if md5 is not None and not isinstance(md5, (str, int)):
                raise fail("'md5' must be a string", [section, index, "md5"])
            info = HashInfo.from_lock_fields(item)
            if info is not None:
                # DVC's CHECKSUM_SCHEMA lower-cases the value.
                target[item["path"]] = _lowered(info)
    params = raw.get("params")
    if params is not None:
        if not isinstance(params, dict):
            raise fail("'params' must be a mapping of file to values", ["params"])
        for file, values in params.items():
            if not isinstance(file, str) or not isinstance(values, dict):
                raise fail("'params' must be a mapping of file to values", ["params", str(file)])
            if not all(isinstance(key, str) for key in values):
                raise fail("params keys must be strings", ["params", file])
            entry.params[file] = values
    return entry


def _lowered(info: HashInfo) -> HashInfo:
    lower = info.md5.lower()
    if lower == info.md5:
        return info
    return HashInfo(lower, info.size, info.nfiles, info.isexec, info.legacy)


# --- serialising -------------------------------------------------------------------------


def lock_entry_to_dict(entry: LockEntry) -> dict[str, Any]:
    """``entry`` as DVC 3's ``to_single_stage_lockfile`` lays it out.

    ``cmd``; ``deps`` sorted by path; ``params`` with ``params.yaml`` first, then the other
    files sorted, each with its top-level keys sorted (nested values untouched); ``outs``
    sorted by path. Empty sections are left out, as DVC does.
    """
    result: dict[str, Any] = {"cmd": entry.cmd}
    deps = [_item(path, entry.deps[path]) for path in sorted(entry.deps)]
    if deps:
        result["deps"] = deps
    params: dict[str, Any] = {}
    for file in sorted(entry.params):
        values = entry.params[file]
        # One copy per file: values shared with other entries must not become YAML
        # aliases across stages, while aliases inside a file stay, as in DVC's dump.
        params[file] = copy.deepcopy({key: values[key] for key in sorted(values)})
    if DEFAULT_PARAMS_FILE in params:
        params = {DEFAULT_PARAMS_FILE: params.pop(DEFAULT_PARAMS_FILE), **params}
    if params:
        result["params"] = params
    outs = [_item(path, entry.outs[path]) for path in sorted(entry.outs)]
    if outs:
        result["outs"] = outs
    return result


def _item(path: str, info: HashInfo) -> dict[str, Any]:
    return {"path": path, **info.lock_fields()}


# --- writing -----------------------------------------------------------------------------


def write_lock_entries(repo: Repo, lock_path: str, entries: Mapping[str, LockEntry]) -> bool:
    """Add or replace ``entries`` (stage name -> entry) in ``lock_path``, as DVC does.

    Other stages keep their content and order; replaced stages keep their position and new
    ones are appended in the order given. A new or empty file starts with
    ``schema: '2.0'``. Returns False, writing nothing, when the bytes would not change.
    """
    if not entries:
        return False
    target = repo.abspath(lock_path)
    existing = _read_text(target)
    updates = {name: lock_entry_to_dict(entry) for name, entry in entries.items()}

    def update(data: dict[str, Any]) -> None:
        if not data:
            data["schema"] = LOCKFILE_SCHEMA_VERSION  # first key, as in DVC
        stages = data.get("stages")
        data["stages"] = {} if stages is None else stages
        for name, value in updates.items():
            data["stages"][name] = value

    text = _rewrite(existing, lock_path, update)
    if text == existing:
        return False
    atomic_write_text(target, text)
    return True


def remove_lock_entries(repo: Repo, lock_path: str, names: Iterable[str]) -> bool:
    """Drop the entries of ``names`` from ``lock_path`` as ``dvc remove`` does.

    DVC keeps entries of stages deleted from ``dvc.yaml`` until ``dvc remove`` drops them;
    the file is deleted when no stage is left. Returns True when something changed.
    """
    target = repo.abspath(lock_path)
    existing = _read_text(target)
    if existing is None:
        return False
    stages = _parse(existing, lock_path)[1]
    gone = [name for name in dict.fromkeys(names) if name in stages]
    if not gone:
        return False
    if len(gone) == len(stages):
        target.unlink()
        return True

    def update(doc: dict[str, Any]) -> None:
        for name in gone:
            del doc["stages"][name]

    atomic_write_text(target, _rewrite(existing, lock_path, update))
    return True


def _read_text(path: os.PathLike[str]) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _rewrite(existing: str | None, lock_path: str, update: Any) -> str:
    """New text of the lock file after ``update(data)``, as DVC's ``modify_yaml``."""
    if existing is not None:
        _parse(existing, lock_path)  # never rewrite a file DVC would refuse to read
        return _round_trip(existing, update)
    data: dict[str, Any] = {}
    update(data)
    return dump_lock_yaml(data)


def _round_trip(existing: str, update: Any) -> str:
    yaml = _ruamel()
    data = yaml.load(existing) or {}
    update(data)
    stream = io.StringIO()
    yaml.dump(_lists(data, {}), stream)
    return stream.getvalue()


def dump_lock_yaml(data: Any) -> str:
    """Serialise a lock document (or run-cache record) exactly as DVC's ``dump_yaml``.

    Unlike a dumper that copies containers first, objects shared inside ``data`` stay
    shared, so they come out as ``&id001``/``*id001`` anchors as in DVC's files (params
    files with YAML anchors give such values).
    """
    stream = io.StringIO()
    _ruamel().dump(_lists(data, {}), stream)
    return stream.getvalue()


@functools.lru_cache(maxsize=1)
def _ruamel() -> Any:
    """ruamel's round-trip YAML with DVC's settings (``dvc.utils.serialize._get_yaml``)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    return yaml


def _lists(data: Any, memo: dict[int, Any]) -> Any:
    """Tuples become lists (ruamel would tag them); shared and cyclic objects stay so."""
    if not isinstance(data, (tuple, list, dict)):
        return data
    if id(data) in memo:
        return memo[id(data)]
    if isinstance(data, tuple):
        converted: list[Any] = []
        memo[id(data)] = converted
        converted.extend(_lists(item, memo) for item in data)
        return converted
    memo[id(data)] = data
    pairs = enumerate(data) if isinstance(data, list) else list(data.items())
    for key, value in pairs:
        new = _lists(value, memo)
        if new is not value:  # only touch what changed (keeps ruamel's comment slots)
            data[key] = new
    return data


def atomic_write_text(path: os.PathLike[str] | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: temp file, fsync, rename.

    The temp file is created with the default mode so the umask applies as it would to
    a plain ``open(path, "w")``.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
