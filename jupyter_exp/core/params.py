"""Reading params files and picking the values DVC records in ``dvc.lock``.

Formats follow ``dvc/utils/serialize``: YAML (1.2, as ruamel reads it; also the default
for unknown suffixes), JSON, TOML and Python (module-level literal assignments, classes
as nested mappings, ``self.x = ...`` in ``__init__``). An empty or falsy document reads
as ``{}`` as in DVC.

Parsed files are cached in-process by (path, mtime, ctime, size, inode), so one run reads each
file once however many stages track it. The cached mappings are shared: callers must
not modify what :func:`read_params_file` returns (copy first).
"""

from __future__ import annotations

import ast
import copy
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import MissingParamError, ParamsFileError, PipelineSyntaxError
from .pipeline.model import DEFAULT_PARAMS_FILE, Stage
from .repo import Repo
from .yamlio import load_yaml


def _load_toml(text: str) -> Any:
    # Imported on first use: most projects have no TOML params, and every command
    # would otherwise pay for the parser at start-up.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML: {exc}") from None


_CACHE: dict[str, tuple[tuple[int, int, int, int], dict[str, Any]]] = {}
_CACHE_LIMIT = 512
# Every params file path a read was attempted for (see consulted_params_files).
_CONSULTED: set[str] = set()


def read_params_file(repo: Repo, repo_path: str) -> dict[str, Any]:
    """The parsed content of the params file at ``repo_path`` (read-only, cached).

    Raises :class:`ParamsFileError` when the file is missing, a directory, not UTF-8,
    not parseable in its format, or not a mapping at the top level.
    """
    path = os.fspath(repo.abspath(repo_path))
    _CONSULTED.add(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ParamsFileError(repo_path, "does not exist") from None
    except OSError as exc:
        raise ParamsFileError(repo_path, exc.strerror or str(exc)) from None
    if not os.path.isfile(path):
        raise ParamsFileError(repo_path, "is a directory, expected a params file")
    stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    data = _parse(repo_path, path)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[path] = (stamp, data)
    return data


def consulted_params_files() -> set[str]:
    """Absolute paths of every params/vars file this process tried to read.

    The up-to-date stamp watches them: a change in any can change the pipeline.
    """
    return set(_CONSULTED)


def clear_params_cache() -> None:
    """Forget every parsed params file (tests, or after writing files in place)."""
    _CACHE.clear()


def _parse(repo_path: str, path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except UnicodeDecodeError:
        raise ParamsFileError(repo_path, "is not valid UTF-8") from None
    except OSError as exc:
        raise ParamsFileError(repo_path, exc.strerror or str(exc)) from None
    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            try:
                data = _load_toml(text)
            except ValueError as exc:
                raise ParamsFileError(repo_path, str(exc)) from None
        elif suffix == ".py":
            data = parse_py(text, repo_path)
        else:
            data = load_yaml(text, repo_path)
    except json.JSONDecodeError as exc:
        raise ParamsFileError(repo_path, f"invalid JSON: {exc.msg} (line {exc.lineno})") from None
    except PipelineSyntaxError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        raise ParamsFileError(repo_path, f"{exc.detail}{where}") from None
    except SyntaxError as exc:
        raise ParamsFileError(repo_path, f"invalid Python: {exc.msg} (line {exc.lineno})") from None
    if not data:
        return {}
    if not isinstance(data, dict):
        raise ParamsFileError(
            repo_path, f"expected a mapping at the top level, got {type(data).__name__}"
        )
    return data


# --- Python params (dvc/utils/serialize/_py.py) -------------------------------------------


def parse_py(text: str, path: str = "<params>") -> dict[str, Any]:
    """Literal assignments of a Python file, as DVC reads them.

    ``X = 1`` at module level, ``class C: lr = 0.1`` as ``{"C": {"lr": 0.1}}`` (so the
    key ``C.lr`` selects it) and ``self.x = ...`` in an ``__init__``. Assignments whose
    value is not a literal are skipped. Raises :class:`SyntaxError` on invalid Python.
    """
    return _py_body(ast.parse(text, filename=path).body, only_self=False)


def _py_body(body: list[ast.stmt], only_self: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for node in body:
        try:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                result.update(_py_assign(node, only_self))
            elif isinstance(node, ast.ClassDef):
                result[node.name] = _py_body(node.body, only_self=False)
            elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
                result.update(_py_body(node.body, only_self=True))
        except (ValueError, AttributeError, TypeError):
            continue  # not a literal, or not a simple target: DVC skips it
    return result


def _py_assign(node: ast.Assign | ast.AnnAssign, only_self: bool) -> dict[str, Any]:
    if isinstance(node, ast.AnnAssign):
        target = node.target
    elif len(node.targets) == 1:
        target = node.targets[0]
    else:
        raise AttributeError("chained assignment")
    if isinstance(target, ast.Name) and not only_self:
        name = target.id
    elif (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    ):
        name = target.attr
    else:
        raise AttributeError("not a simple name")
    value = node.value
    if value is None:
        raise ValueError("annotation without a value")
    if isinstance(value, ast.Dict):
        parsed: Any = {
            ast.literal_eval(k): ast.literal_eval(v)  # type: ignore[arg-type]
            for k, v in zip(value.keys, value.values, strict=True)
        }
    elif isinstance(value, ast.List):
        parsed = [ast.literal_eval(v) for v in value.elts]
    elif isinstance(value, ast.Set):
        parsed = {ast.literal_eval(v) for v in value.elts}
    elif isinstance(value, ast.Tuple):
        parsed = tuple(ast.literal_eval(v) for v in value.elts)
    else:
        parsed = ast.literal_eval(value)
    return {name: parsed}


# --- selecting keys -----------------------------------------------------------------------

_MISSING = object()


def _get_path(data: Any, key: str) -> Any:
    # dpath.get(data, key, separator="."): mappings by key, sequences by integer index.
    node = data
    for part in key.split("."):
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, (list, tuple)):
            try:
                index = int(part)
            except ValueError:
                return _MISSING
            if not 0 <= index < len(node):
                return _MISSING
            node = node[index]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def select_params(
    data: dict[str, Any], keys: Sequence[str], *, path: str, stage: str | None = None
) -> dict[str, Any]:
    """``{key: value}`` for each dotted ``key`` (``train.lr``, or a section ``train``).

    Values are copies, safe to keep; one deep copy for all keys, so values shared
    through YAML anchors stay shared (DVC then writes them as ``&id001`` aliases).
    Raises :class:`MissingParamError` naming ``path``, the key and ``stage`` when a key
    is not in ``data``.
    """
    result: dict[str, Any] = {}
    for key in keys:
        value = _get_path(data, key)
        if value is _MISSING:
            raise MissingParamError(path, key, stage=stage)
        result[key] = value
    return copy.deepcopy(result)


def _sorted_keys(values: dict[Any, Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed key types (YAML allows int keys): order by text instead
        return sorted(values, key=str)


def stage_params_values(repo: Repo, stage: Stage) -> dict[str, dict[str, Any]]:
    """What ``dvc.lock`` records under ``params`` for ``stage`` (see DVC's serialize).

    Keyed by each params file's ``def_path``: the default ``params.yaml`` first, then
    the others sorted; inside a file the keys are sorted (top level only, nested values
    keep file order). A whole-file dependency gives every top-level key.
    Raises :class:`ParamsFileError` or :class:`MissingParamError`.
    """
    result: dict[str, dict[str, Any]] = {}
    for dep in sorted(stage.params, key=lambda d: d.def_path):
        data = read_params_file(repo, dep.repo_path)
        if dep.whole_file:
            values = copy.deepcopy(dict(data))
        else:
            values = select_params(data, dep.keys, path=dep.def_path, stage=stage.name)
        result[dep.def_path] = {k: values[k] for k in _sorted_keys(values)}
    if DEFAULT_PARAMS_FILE in result:
        result = {DEFAULT_PARAMS_FILE: result.pop(DEFAULT_PARAMS_FILE), **result}
    return result
