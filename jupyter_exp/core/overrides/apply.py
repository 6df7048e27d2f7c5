"""Apply parsed overrides to params files, with Hydra's rules as DVC uses them.

DVC (``dvc.utils.hydra.apply_overrides``) loads each params file into an OmegaConf
config in struct mode and lets Hydra apply the overrides in order:

* ``key=v`` changes an existing key (a list item by index); a mapping value is merged
  into an existing mapping, and every key it names must already exist;
* ``+key=v`` adds a key that is absent (or null), creating parent mappings; with a
  mapping or list value it may also merge into / replace an existing one;
* ``++key=v`` adds or changes, creating parents (replacing a scalar parent);
* ``~key`` deletes; ``~key=v`` only when the current value equals ``v``.

A list never becomes a mapping or the reverse through a merge. We work on the plain
data the same way, then let :mod:`..params_write` put the difference into the file's
text. All files are checked and rendered before the first one is written; each write
is atomic (temp file + ``os.replace``). Callers hold the repository lock.
"""

from __future__ import annotations

import copy
import os
import posixpath
import tempfile
from pathlib import Path
from typing import Any

from ...errors import InvalidArgumentError, MissingParamError, ParamsFileError
from .. import params_write
from ..repo import Repo
from .grammar import Override, format_value

_ABSENT = object()


def apply_overrides(
    repo: Repo, overrides: list[Override], *, default_file: str = "params.yaml"
) -> list[str]:
    """Rewrite params files in place; return the repo-relative paths that changed.

    ``file`` prefixes (and ``default_file``) are relative to the repository root. A
    missing file is created only when an override of it adds (``+``/``++``).

    Raises :class:`InvalidArgumentError` (a sweep, ``+`` on an existing key, a value
    mismatch on ``~key=v``, a change the format cannot hold), :class:`MissingParamError`
    (``key=v`` or ``~key`` on an absent key) or :class:`ParamsFileError` (unreadable or
    missing file). On error no file has been touched.
    """
    for override in overrides:
        if override.is_sweep:
            raise InvalidArgumentError(
                f"override '{override}' is a sweep: expand it first (sweeps need --queue)",
                argument=str(override),
            )
    by_file: dict[str, list[Override]] = {}
    for override in overrides:
        name = override.file if override.file is not None else default_file
        by_file.setdefault(_repo_path(repo, name), []).append(override)

    writes: list[tuple[str, str]] = []
    for rel, items in by_file.items():
        absolute = repo.abspath(rel)
        text = _read(absolute, rel, creating=any(o.op in ("add", "force") for o in items))
        old = params_write.parse_params_text(text, rel) if text is not None else {}
        new = _tree_copy(old)
        for override in items:
            _apply_one(new, override, rel)
        if text is not None and params_write.identical(old, new):
            continue
        writes.append((rel, params_write.rewrite_params(rel, text, old, new)))

    for rel, content in writes:
        _atomic_write(repo.abspath(rel), content)
    return [rel for rel, _ in writes]


def _tree_copy(value: Any) -> Any:
    # Not deepcopy: YAML aliases load as one shared object, and changing `other.x`
    # must not change the anchored `base.x` too.
    if isinstance(value, dict):
        return {k: _tree_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tree_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_tree_copy(v) for v in value)
    return value


def _repo_path(repo: Repo, name: str) -> str:
    if not name:
        raise InvalidArgumentError("empty params file name")
    joined = name if os.path.isabs(name) else os.path.join(repo.root, name)
    rel = repo.relpath(joined)
    return posixpath.normpath(rel)


def _read(path: Path, rel: str, *, creating: bool) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as fobj:
            return fobj.read()
    except FileNotFoundError:
        if creating:
            return None
        raise ParamsFileError(rel, "does not exist (use +key=value to create it)") from None
    except IsADirectoryError:
        raise ParamsFileError(rel, "is a directory, expected a params file") from None
    except UnicodeDecodeError:
        raise ParamsFileError(rel, "is not valid UTF-8") from None
    except OSError as exc:
        raise ParamsFileError(rel, exc.strerror or str(exc)) from None


def _atomic_write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        mode = path.stat().st_mode & 0o7777
    else:  # a new file gets the usual 0o666 & ~umask, not mkstemp's 0o600
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fobj:
            fobj.write(content)
            fobj.flush()
            os.fsync(fobj.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- Hydra's rules on plain data ------------------------------------------------------------


def _child(node: Any, part: str) -> tuple[Any, Any]:
    """(key as stored, value) of ``part`` in a mapping or list; value is _ABSENT if none."""
    if isinstance(node, dict):
        if part in node:
            return part, node[part]
        if part.isdigit() and int(part) in node:  # YAML allows integer keys
            return int(part), node[int(part)]
        return part, _ABSENT
    if isinstance(node, (list, tuple)) and part.isdigit():
        index = int(part)
        return index, node[index] if index < len(node) else _ABSENT
    return part, _ABSENT


def _lookup(data: dict[str, Any], parts: list[str]) -> tuple[Any, Any, Any]:
    """(parent, key, value) at ``parts``; value is _ABSENT when the path does not exist."""
    node: Any = data
    for part in parts[:-1]:
        _, node = _child(node, part)
        if not isinstance(node, (dict, list)):
            return None, parts[-1], _ABSENT
    key, value = _child(node, parts[-1])
    return node, key, value


def _apply_one(data: dict[str, Any], override: Override, file: str) -> None:
    parts = override.key.split(".")
    parent, key, current = _lookup(data, parts)
    if isinstance(parent, tuple) and current is not _ABSENT:
        raise InvalidArgumentError(
            f"cannot change an item of the tuple at '{override.key}' in '{file}': "
            "set the whole tuple instead",
            argument=str(override),
        )
    if override.op == "delete":
        if current is _ABSENT:
            raise MissingParamError(file, override.key)
        if override.value is not None and not _matches(override.value, current):
            raise InvalidArgumentError(
                f"cannot delete '{override.key}' from '{file}': its value is "
                f"{_show(current)}, not {_show(override.value)}",
                argument=str(override),
            )
        del parent[key]
    elif override.op == "set":
        if current is _ABSENT:
            raise MissingParamError(file, override.key)
        _assign(parent, key, override.value, struct=True, override=override, file=file)
    else:
        exists = current is not _ABSENT and current is not None
        if override.op == "add" and exists and not isinstance(override.value, (dict, list)):
            raise InvalidArgumentError(
                f"cannot add '{override.key}' to '{file}': it already exists "
                f"(use '{override.key}=...' to change it, or '++{override.key}=...')",
                argument=str(override),
            )
        _force(data, parts, override, file)


def _force(data: dict[str, Any], parts: list[str], override: Override, file: str) -> None:
    # OmegaConf.update(..., force_add=True): create (or replace scalar) parents.
    node: Any = data
    for part in parts[:-1]:
        key, child = _child(node, part)
        if not isinstance(child, (dict, list)):
            if not isinstance(node, dict):
                raise _no_list_add(override, file)
            child = node[key] = {}
        node = child
    key, current = _child(node, parts[-1])
    if isinstance(node, list) and current is _ABSENT:
        raise _no_list_add(override, file)
    if current is _ABSENT:
        node[key] = copy.deepcopy(override.value)
        return
    _assign(node, key, override.value, struct=False, override=override, file=file)


def _no_list_add(override: Override, file: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"cannot add '{override.key}' to '{file}': list items can only be changed by index, "
        "not added",
        argument=str(override),
    )


def _assign(
    parent: Any, key: Any, value: Any, *, struct: bool, override: Override, file: str
) -> None:
    current = parent[key]
    _check_kinds(current, value, override, file, override.key)
    if isinstance(current, dict) and isinstance(value, dict):
        _merge(current, value, struct, override, file, override.key)
    else:
        parent[key] = copy.deepcopy(value)


def _merge(
    target: dict[Any, Any],
    source: dict[Any, Any],
    struct: bool,
    override: Override,
    file: str,
    where: str,
) -> None:
    for key, value in source.items():
        path = f"{where}.{key}"
        if key not in target:
            if struct:  # a struct config refuses new keys in `key={...}`
                raise MissingParamError(file, path)
            target[key] = copy.deepcopy(value)
            continue
        _check_kinds(target[key], value, override, file, path)
        if isinstance(target[key], dict) and isinstance(value, dict):
            _merge(target[key], value, struct, override, file, path)
        else:
            target[key] = copy.deepcopy(value)


def _check_kinds(current: Any, value: Any, override: Override, file: str, where: str) -> None:
    if isinstance(current, dict) and isinstance(value, list):
        kinds = ("a list", "mapping")
    elif isinstance(current, (list, tuple)) and isinstance(value, dict):
        kinds = ("a mapping", "list")
    else:
        return
    raise InvalidArgumentError(
        f"cannot set '{where}' in '{file}': {kinds[0]} cannot replace a {kinds[1]} "
        f"(delete it first with '~{where}')",
        argument=str(override),
    )


def _matches(expected: Any, current: Any) -> bool:
    """``~key=v`` check: equal values, 2 == 2.0, but a bool only equals a bool."""
    if isinstance(expected, bool) or isinstance(current, bool):
        return type(expected) is type(current) and expected == current
    if isinstance(expected, dict) and isinstance(current, dict):
        return expected.keys() == current.keys() and all(
            _matches(expected[k], current[k]) for k in expected
        )
    if isinstance(expected, (list, tuple)) and isinstance(current, (list, tuple)):
        return len(expected) == len(current) and all(
            _matches(a, b) for a, b in zip(expected, current, strict=True)
        )
    if isinstance(expected, (dict, list, str)) or isinstance(current, (dict, list, str)):
        return type(expected) is type(current) and expected == current
    return bool(expected == current)


def _show(value: Any) -> str:
    try:
        return format_value(value)
    except InvalidArgumentError:
        return repr(value)
