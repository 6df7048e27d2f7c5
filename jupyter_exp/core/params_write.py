"""Rewrite a params file so it holds new values, keeping everything else as it was.

:func:`rewrite_params` gets the file's text, the data it holds and the data it must hold
after the change. It computes the smallest set of edits (set a value, add a key, delete
a key) and applies them in the file's own syntax:

* YAML and JSON: text splicing at the node positions PyYAML reports (JSON is YAML's flow
  style), so comments, key order, quoting, indentation and number spellings of every
  untouched value stay byte for byte; only the changed values and lines differ.
* TOML: tomlkit's round-trip document (comments and layout preserved).
* Python: the literal of the assignment is replaced in place (``ast`` locates it);
  adding or deleting keys is refused.

Every result is parsed back and compared with the expected data. If a YAML/JSON splice
does not read back right (an edited anchor, unusual layouts), the file is re-emitted
through ruamel's round-trip dumper (YAML, comments kept) or ``json.dumps`` (JSON), and
failing that dumped plainly, so the data is always what DVC will read. Random-edit
fuzzing of ruamel- and json-dumped files never needed the fallback.
"""

from __future__ import annotations

import ast
import json
import math
import os
import sys
from typing import Any

from ..errors import InvalidArgumentError, ParamsFileError, PipelineSyntaxError
from .params import parse_py
from .yamlio import dump_yaml, load_yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

Path_ = tuple[Any, ...]
Edit = tuple[str, Path_, Any]  # ("set" | "add" | "delete", key path, value)


def params_format(path: str) -> str:
    """``yaml``, ``json``, ``toml`` or ``py`` by suffix; YAML for anything else, as DVC."""
    suffix = os.path.splitext(path)[1].lower()
    return {".json": "json", ".toml": "toml", ".py": "py"}.get(suffix, "yaml")


def parse_params_text(text: str, path: str) -> dict[str, Any]:
    """The data of a params file's ``text`` as DVC reads it (``{}`` when empty).

    Raises :class:`ParamsFileError` when it does not parse or is not a mapping.
    """
    fmt = params_format(path)
    try:
        if fmt == "json":
            data = json.loads(text) if text.strip() else {}
        elif fmt == "toml":
            data = tomllib.loads(text)
        elif fmt == "py":
            data = parse_py(text, path)
        else:
            data = load_yaml(text, path)
    except json.JSONDecodeError as exc:
        raise ParamsFileError(path, f"invalid JSON: {exc.msg} (line {exc.lineno})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParamsFileError(path, f"invalid TOML: {exc}") from None
    except PipelineSyntaxError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        raise ParamsFileError(path, f"{exc.detail}{where}") from None
    except SyntaxError as exc:
        raise ParamsFileError(path, f"invalid Python: {exc.msg} (line {exc.lineno})") from None
    if not data:
        return {}
    if not isinstance(data, dict):
        raise ParamsFileError(
            path, f"expected a mapping at the top level, got {type(data).__name__}"
        )
    return data


def identical(a: Any, b: Any) -> bool:
    """Deep equality that also compares types (1 vs 1.0 vs True differ; nan equals nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return bool(a == b)


def diff_params(old: Any, new: Any, path: Path_ = ()) -> list[Edit]:
    """Edits turning ``old`` into ``new``: deletes, then changes, then additions.

    Mappings recurse, as do lists of equal length; anything else that differs is set
    as a whole.
    """
    edits: list[Edit] = []
    if isinstance(old, dict) and isinstance(new, dict):
        edits += [("delete", (*path, k), None) for k in old if k not in new]
        for key, value in new.items():
            if key in old:
                edits += diff_params(old[key], value, (*path, key))
        edits += [("add", (*path, k), v) for k, v in new.items() if k not in old]
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            edits += diff_params(a, b, (*path, index))
    elif not identical(old, new):
        edits.append(("set", path, new))
    return edits


def rewrite_params(path: str, text: str | None, old: dict[str, Any], new: dict[str, Any]) -> str:
    """New text for the params file ``path`` (``text`` None: the file does not exist yet).

    Raises :class:`InvalidArgumentError` when the format cannot hold the change (null in
    TOML, non-literal floats or new keys in Python).
    """
    from .overrides import _spans  # lazy: the overrides package imports this module

    if text and text.count("\r\n") == text.count("\n") > 0:
        # A CRLF file: edit it with \n line ends, then give it its CRLFs back.
        result = rewrite_params(path, text.replace("\r\n", "\n"), old, new)
        crlf = result.replace("\n", "\r\n")
        return crlf if identical(_reparse(crlf, path), new) else result
    fmt = params_format(path)
    edits = diff_params(old, new)
    if fmt == "py":
        result = _rewrite_py(path, text or "", edits)
    elif fmt == "toml":
        result = _rewrite_toml(path, text or "", edits)
    else:
        # Splice; else re-emit keeping what we can (comments); else a plain dump.
        for attempt in (_spans.rewrite, _reemit, _dump):
            result = attempt(fmt, text or "", edits, new)
            if result is not None and identical(_reparse(result, path), new):
                return result
    if not identical(_reparse(result, path), new):
        raise ParamsFileError(path, "could not be rewritten to hold the new values")
    return result


def _reparse(text: str, path: str) -> Any:
    try:
        return parse_params_text(text, path)
    except ParamsFileError:
        return None


def _reemit(fmt: str, text: str, edits: list[Edit], new: dict[str, Any]) -> str | None:
    from .overrides import _spans

    if fmt == "json":
        indent = _spans.json_indent(text) if text.strip() else 2
        return json.dumps(new, indent=indent, ensure_ascii=False) + "\n"
    return _spans.ruamel_rewrite(text, new)


def _dump(fmt: str, text: str, edits: list[Edit], new: dict[str, Any]) -> str:
    if fmt == "json":
        return json.dumps(new, indent=2) + "\n"
    return dump_yaml(new)


# --- TOML ----------------------------------------------------------------------------------


def _rewrite_toml(path: str, text: str, edits: list[Edit]) -> str:
    import tomlkit

    for kind, keys, value in edits:
        if kind != "delete" and _contains_none(value):
            dotted = ".".join(map(str, keys))
            raise InvalidArgumentError(
                f"cannot write null to '{dotted}' in '{path}': TOML has no null value"
            )
    doc = tomlkit.parse(text)
    for kind, keys, value in edits:
        container: Any = doc
        for key in keys[:-1]:
            container = container[key]
        if kind == "delete":
            del container[keys[-1]]
        else:
            container[keys[-1]] = value
    return tomlkit.dumps(doc)


def _contains_none(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_contains_none(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_none(v) for v in value)
    return False


# --- Python ----------------------------------------------------------------------------------


def _rewrite_py(path: str, text: str, edits: list[Edit]) -> str:
    for kind, keys, _ in edits:
        if kind != "set":
            dotted = ".".join(map(str, keys))
            verb = "add" if kind == "add" else "delete"
            raise InvalidArgumentError(
                f"cannot {verb} '{dotted}' in '{path}': Python params files can only "
                "change existing values"
            )
    for _, keys, value in edits:
        tree = ast.parse(text)
        node = _py_locate(_py_scope(tree.body, only_self=False), keys)
        if node is None:
            dotted = ".".join(map(str, keys))
            raise InvalidArgumentError(f"cannot change '{dotted}' in '{path}': not a literal")
        start, end = _py_span(text, node)
        literal = _py_literal(value, path, keys, text[start:end])
        text = text[:start] + literal + text[end:]
    return text


def _py_scope(body: list[ast.stmt], only_self: bool) -> dict[str, Any]:
    # Mirrors params.parse_py: name -> value node, or a nested scope for classes.
    scope: dict[str, Any] = {}
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            scope[stmt.name] = _py_scope(stmt.body, only_self=False)
        elif isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            scope.update(_py_scope(stmt.body, only_self=True))
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = [stmt.target] if isinstance(stmt, ast.AnnAssign) else stmt.targets
            if len(targets) != 1:
                continue
            target = targets[0]
            if isinstance(target, ast.Name) and not only_self:
                scope[target.id] = stmt.value
            elif (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                scope[target.attr] = stmt.value
    return scope


def _py_locate(scope: Any, keys: Path_) -> ast.expr | None:
    node: Any = scope
    for key in keys:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, ast.Dict):
            found = None
            for k, v in zip(node.keys, node.values, strict=True):
                try:
                    if k is not None and ast.literal_eval(k) == key:
                        found = v
                except ValueError:
                    continue
            node = found
        elif isinstance(node, (ast.List, ast.Tuple)) and isinstance(key, int):
            node = node.elts[key] if 0 <= key < len(node.elts) else None
        else:
            return None
        if node is None:
            return None
    return node if isinstance(node, ast.expr) else None


def _py_span(text: str, node: ast.expr) -> tuple[int, int]:
    # ast columns count UTF-8 bytes; convert them to str offsets.
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        line = lines[lineno - 1]
        return starts[lineno - 1] + len(line.encode()[:col].decode())

    assert node.end_lineno is not None and node.end_col_offset is not None
    return offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)


def _py_literal(value: Any, path: str, keys: Path_, old_source: str) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        dotted = ".".join(map(str, keys))
        raise InvalidArgumentError(
            f"cannot write {value!r} to '{dotted}' in '{path}': not a Python literal"
        )
    if isinstance(value, str):
        literal = repr(value)
        # Keep the file's double quotes when the string allows it.
        if old_source.startswith('"') and literal.startswith("'") and '"' not in value:
            literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
        return literal
    if isinstance(value, list):
        return "[" + ", ".join(_py_literal(v, path, keys, "") for v in value) + "]"
    if isinstance(value, tuple):
        items = [_py_literal(v, path, keys, "") for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict):
        items = (
            f"{_py_literal(k, path, keys, '')}: {_py_literal(v, path, keys, '')}"
            for k, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    return repr(value)
