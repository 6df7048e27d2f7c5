"""DVC 3's ``dvc.yaml`` schema, checked by hand on the data as parsed (before ``${}``).

DVC validates the raw file with voluptuous (``dvc/schema.py``); we check the same rules
in plain Python, which is faster to import and run and lets each message name the key,
the stage and the line. Line numbers are looked up (``yamlio.find_line``) only when a
check fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import PipelineSchemaError
from ..yamlio import find_line

TOP_LEVEL_KEYS = ("stages", "vars", "params", "metrics", "plots", "artifacts", "datasets")
STAGE_KEYS = (
    "cmd",
    "wdir",
    "deps",
    "params",
    "outs",
    "metrics",
    "plots",
    "vars",
    "frozen",
    "always_changed",
    "desc",
    "meta",
    "matrix",
)
ANNOTATION_KEYS = ("desc", "type", "labels", "meta")
# Flags of an entry of outs/metrics/plots: (key, expected type) in DVC's order.
OUT_FLAGS: dict[str, str] = {
    "desc": "str",
    "type": "str",
    "labels": "list[str]",
    "meta": "any",
    "cache": "bool",
    "persist": "bool",
    "checkpoint": "bool",
    "remote": "str",
    "push": "bool",
}
PLOT_PROPS: dict[str, str] = {
    "template": "str",
    "x": "str",
    "y": "str",
    "x_label": "str",
    "y_label": "str",
    "title": "str",
    "header": "bool",
}
# Top-level `plots:` definitions (dvc/schema.py PLOT_DEFINITION).
TOP_PLOT_KEYS = ("x", "y", "x_label", "y_label", "title", "template")
ARTIFACT_KEYS = ("path", *ANNOTATION_KEYS)

# DVC refuses most punctuation only in `dvc stage add`; its loader accepts names such as
# `train.v2`, and existing projects use them. We refuse only what breaks addressing:
# `file:stage`, `stage@item`, and path separators.
INVALID_NAME_CHARS = frozenset(":@/\\")

_TYPE_WORDS = {
    "str": "a string",
    "bool": "a boolean",
    "list": "a list",
    "dict": "a mapping",
    "list[str]": "a list of strings",
}

Keys = Sequence[str | int]


class _Checker:
    """Raises :class:`PipelineSchemaError` located in ``text`` for one file."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path

    def fail(self, detail: str, keys: Keys, stage: str | None = None) -> None:
        raise PipelineSchemaError(
            detail, path=self.path, line=find_line(self.text, keys), stage=stage
        )

    def expect(
        self, value: Any, kind: str, where: str, keys: Keys, stage: str | None = None
    ) -> None:
        """Fail unless ``value`` has the schema type ``kind``."""
        if _is(value, kind):
            return
        self.fail(f"'{where}' must be {_TYPE_WORDS[kind]}, got {_type_name(value)}", keys, stage)


def _is(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "dict":
        return isinstance(value, dict)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise AssertionError(kind)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "float",
        list: "list",
        dict: "mapping",
    }.get(type(value), type(value).__name__)


def invalid_name_chars(name: str) -> str:
    """The characters of ``name`` that DVC forbids in a stage name (sorted, joined)."""
    return "".join(sorted(INVALID_NAME_CHARS.intersection(name)))


def validate_pipeline(data: Any, text: str, path: str) -> None:
    """Check parsed ``dvc.yaml`` data against DVC 3's schema.

    ``text`` is the file's content (for line numbers), ``path`` its repo-relative path.
    Raises :class:`PipelineSchemaError` at the first problem.
    """
    check = _Checker(text, path)
    if not isinstance(data, dict):
        check.fail(f"expected a mapping at the top level, got {_type_name(data)}", [])
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            check.fail(f"unknown top-level key '{key}'", [key])
    if "stages" in data:
        stages = data["stages"]
        check.expect(stages, "dict", "stages", ["stages"])
        for name, definition in stages.items():
            _check_stage(check, name, definition)
    if "vars" in data:
        _check_vars(check, data["vars"], ["vars"], "vars", None)
    for key in ("params", "metrics"):
        if key in data:
            check.expect(data[key], "list", key, [key])
            for i, item in enumerate(data[key]):
                check.expect(item, "str", f"{key}[{i}]", [key, i])
    if "plots" in data:
        _check_top_plots(check, data["plots"])
    if "artifacts" in data:
        _check_artifacts(check, data["artifacts"])


def _check_stage(check: _Checker, name: Any, definition: Any) -> None:
    keys: list[str | int] = ["stages", name]
    if not isinstance(name, str):
        check.fail(f"stage name must be a string, got {_type_name(name)} {name!r}", keys)
    bad = invalid_name_chars(name)
    if bad or not name:
        check.fail(
            f"invalid stage name '{name}': it may not contain {bad!r}"
            if bad
            else "stage name may not be empty",
            keys,
        )
    if not isinstance(definition, dict):
        check.fail(f"stage definition must be a mapping, got {_type_name(definition)}", keys)
    if "foreach" in definition or "do" in definition:
        for key in definition:
            if key not in ("foreach", "do"):
                check.fail(f"unknown key '{key}' next to 'foreach'/'do'", [*keys, key], name)
        for key in ("foreach", "do"):
            if key not in definition:
                check.fail(f"missing required key '{key}'", keys, name)
        foreach = definition["foreach"]
        if not isinstance(foreach, (dict, list, str)):
            check.fail(
                f"'foreach' must be a list, a mapping or a '${{...}}' string, "
                f"got {_type_name(foreach)}",
                [*keys, "foreach"],
                name,
            )
        check.expect(definition["do"], "dict", "do", [*keys, "do"], name)
        if "matrix" in definition["do"]:
            check.fail("unknown key 'matrix'", [*keys, "do", "matrix"], name)
        _check_stage_body(check, name, definition["do"], [*keys, "do"])
        return
    _check_stage_body(check, name, definition, keys)


def _check_stage_body(check: _Checker, name: str, body: dict, keys: list[str | int]) -> None:
    for key in body:
        if key not in STAGE_KEYS:
            check.fail(f"unknown key '{key}'", [*keys, key], name)
    if "cmd" not in body:
        check.fail("missing required key 'cmd'", keys, name)
    cmd = body["cmd"]
    if not isinstance(cmd, (str, list)):
        check.fail(f"'cmd' must be a string or a list, got {_type_name(cmd)}", [*keys, "cmd"], name)
    for key, kind in (("wdir", "str"), ("desc", "str")):
        if key in body:
            check.expect(body[key], kind, key, [*keys, key], name)
    for key in ("frozen", "always_changed"):
        if key in body:
            check.expect(body[key], "bool", key, [*keys, key], name)
    if "deps" in body:
        check.expect(body["deps"], "list", "deps", [*keys, "deps"], name)
        for i, dep in enumerate(body["deps"]):
            check.expect(dep, "str", f"deps[{i}]", [*keys, "deps", i], name)
    if "params" in body:
        _check_params(check, name, body["params"], [*keys, "params"])
    if "vars" in body:
        _check_vars(check, body["vars"], [*keys, "vars"], "vars", name)
    for key in ("outs", "metrics", "plots"):
        if key in body:
            _check_outs(check, name, key, body[key], [*keys, key])
    if "matrix" in body:
        matrix = body["matrix"]
        check.expect(matrix, "dict", "matrix", [*keys, "matrix"], name)
        for dim, values in matrix.items():
            if not isinstance(dim, str):
                check.fail(f"matrix key {dim!r} must be a string", [*keys, "matrix"], name)
            if not isinstance(values, (str, list)):
                check.fail(
                    f"'matrix.{dim}' must be a list or a '${{...}}' string, "
                    f"got {_type_name(values)}",
                    [*keys, "matrix", dim],
                    name,
                )


def _check_params(check: _Checker, name: str, params: Any, keys: list[str | int]) -> None:
    check.expect(params, "list", "params", keys, name)
    for i, item in enumerate(params):
        if isinstance(item, str):
            continue
        if not isinstance(item, dict):
            check.fail(
                f"'params[{i}]' must be a key or a mapping of a file to keys, "
                f"got {_type_name(item)}",
                [*keys, i],
                name,
            )
        for file, file_keys in item.items():
            where = [*keys, i, file]
            if not isinstance(file, str):
                check.fail(f"params file name must be a string, got {file!r}", where, name)
            if file_keys is None or file_keys == []:
                continue  # the whole file is tracked
            if not isinstance(file_keys, list):
                check.fail(
                    f"params of '{file}' must be a list of keys, got {_type_name(file_keys)}",
                    where,
                    name,
                )
            for key in file_keys:
                if not isinstance(key, str):
                    check.fail(f"params key {key!r} of '{file}' must be a string", where, name)


def _check_vars(
    check: _Checker, vars_: Any, keys: list[str | int], where: str, stage: str | None
) -> None:
    check.expect(vars_, "list", where, keys, stage)
    for i, item in enumerate(vars_):
        if not isinstance(item, (str, dict)):
            check.fail(
                f"'{where}[{i}]' must be a file name or a mapping, got {_type_name(item)}",
                [*keys, i],
                stage,
            )


def _check_outs(
    check: _Checker, name: str, section: str, items: Any, keys: list[str | int]
) -> None:
    check.expect(items, "list", section, keys, name)
    allowed = {**OUT_FLAGS, **PLOT_PROPS} if section == "plots" else OUT_FLAGS
    for i, item in enumerate(items):
        if isinstance(item, str):
            continue
        if not isinstance(item, dict):
            check.fail(
                f"'{section}[{i}]' must be a path or a mapping of a path to options, "
                f"got {_type_name(item)}",
                [*keys, i],
                name,
            )
        for path, flags in item.items():
            where = [*keys, i, path]
            if not isinstance(path, str):
                check.fail(f"{section} path must be a string, got {path!r}", where, name)
            if not isinstance(flags, dict):
                check.fail(
                    f"options of '{path}' in '{section}' must be a mapping, "
                    f"got {_type_name(flags)}",
                    where,
                    name,
                )
            for flag, value in flags.items():
                kind = allowed.get(flag)
                if kind is None:
                    check.fail(
                        f"unknown key '{flag}' for '{path}' in '{section}'",
                        [*where, flag],
                        name,
                    )
                if not _is(value, kind):
                    check.fail(
                        f"'{flag}' of '{path}' in '{section}' must be {_TYPE_WORDS[kind]}, "
                        f"got {_type_name(value)}",
                        [*where, flag],
                        name,
                    )


def _check_top_plots(check: _Checker, plots: Any) -> None:
    check.expect(plots, "list", "plots", ["plots"])
    for i, item in enumerate(plots):
        if isinstance(item, str):
            continue
        if not isinstance(item, dict):
            check.fail(
                f"'plots[{i}]' must be a path or a mapping, got {_type_name(item)}",
                ["plots", i],
            )
        for plot_id, props in item.items():
            where: list[str | int] = ["plots", i, plot_id]
            if not isinstance(plot_id, str):
                check.fail(f"plot id must be a string, got {plot_id!r}", where)
            if props is None:
                continue
            if not isinstance(props, dict):
                check.fail(f"plot '{plot_id}' must be a mapping, got {_type_name(props)}", where)
            for key, value in props.items():
                if key not in TOP_PLOT_KEYS:
                    check.fail(f"unknown key '{key}' in plot '{plot_id}'", [*where, key])
                if not _plot_value_ok(key, value):
                    check.fail(
                        f"'{key}' of plot '{plot_id}' has the wrong type ({_type_name(value)})",
                        [*where, key],
                    )


def _plot_value_ok(key: str, value: Any) -> bool:
    if isinstance(value, str):
        return True
    if key == "x":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if key == "y":
        if isinstance(value, list):
            return all(isinstance(v, str) for v in value)
        return isinstance(value, dict) and all(
            isinstance(v, str) or _is(v, "list[str]") for v in value.values()
        )
    return False


def _check_artifacts(check: _Checker, artifacts: Any) -> None:
    check.expect(artifacts, "dict", "artifacts", ["artifacts"])
    for name, spec in artifacts.items():
        where: list[str | int] = ["artifacts", name]
        if not isinstance(spec, dict):
            check.fail(f"artifact '{name}' must be a mapping, got {_type_name(spec)}", where)
        for key in spec:
            if key not in ARTIFACT_KEYS:
                check.fail(f"unknown key '{key}' in artifact '{name}'", [*where, key])
        if "path" not in spec:
            check.fail(f"artifact '{name}' is missing required key 'path'", where)
        for key, kind in (("path", "str"), ("desc", "str"), ("type", "str")):
            if key in spec:
                check.expect(spec[key], kind, f"artifacts.{name}.{key}", [*where, key])
        if "labels" in spec:
            check.expect(spec["labels"], "list[str]", f"artifacts.{name}.labels", [*where])
