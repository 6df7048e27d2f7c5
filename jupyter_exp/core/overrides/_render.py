"""Rendering values in a params file's own syntax: YAML scalars, flow and block
collections in the file's indentation, and JSON with its indent and separators.

Every YAML string is checked by reading it back (``yamlio.load_yaml``, what DVC reads):
plain when that gives the same string, else single quotes, else double quotes with
escapes. Floats use Python's shortest repr, which YAML 1.2 reads as the same float.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..yamlio import load_yaml


class Unsupported(Exception):
    """This layout is not edited by splicing."""


@dataclass
class Style:
    """How the file at hand writes things (detected by the editor)."""

    fmt: str
    step: int = 2  # YAML: indent of a nested mapping
    seq_off: int = 0  # YAML: dash column of a block list relative to its key
    unit: str | int | None = None  # JSON: indent unit (None: one line)
    colon: str = ": "
    comma: str = ", "


def _yaml_float(value: float) -> str:
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def _reads_back(snippet: str, expected: Any) -> bool:
    try:
        return bool(load_yaml(snippet) == expected)
    except Exception:
        return False


def _raw_ok(char: str) -> bool:
    """May ``char`` appear unescaped in a YAML scalar? (c-printable, minus line breaks)."""
    code = ord(char)
    return (
        0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    ) and char not in "\u2028\u2029\ufeff"


def _yaml_double(value: str) -> str:
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _raw_ok(char):
            out.append(char)
        else:
            code = ord(char)
            out.append(
                f"\\x{code:02x}"
                if code <= 0xFF
                else f"\\u{code:04x}"
                if code <= 0xFFFF
                else f"\\U{code:08x}"
            )
    return '"' + "".join(out) + '"'


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _yaml_str(value: str, flow: bool, hint: str | None = None) -> str:
    raw = all(_raw_ok(c) for c in value)

    def plain() -> str | None:
        if not value or value != value.strip() or not raw:
            return None
        if flow:
            return value if _reads_back(f"[{value}]", [value]) else None
        return value if _reads_back(f"k: {value}\n", {"k": value}) else None

    def single() -> str | None:
        return "'" + value.replace("'", "''") + "'" if raw else None

    def double() -> str:
        return _yaml_double(value)

    order = {"'": (single, plain), '"': (double,)}.get(hint or "", (plain, single))
    for candidate in order:
        rendered = candidate()
        if rendered is not None:
            return rendered
    return double()


def yaml_scalar(value: Any, flow: bool, hint: str | None = None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _yaml_float(value)
    if isinstance(value, str):
        return _yaml_str(value, flow, hint if hint in ("'", '"') else None)
    raise Unsupported(f"cannot render {type(value).__name__}")


def yaml_key(key: Any, flow: bool) -> str:
    if not isinstance(key, str):
        return yaml_scalar(key, flow)
    snippet = f"{{{key}: 0}}" if flow else f"{key}: 0\n"
    raw = all(_raw_ok(c) for c in key)
    if key and key == key.strip() and raw and _reads_back(snippet, {key: 0}):
        return key
    return _yaml_str(key, flow, "'" if raw else '"')


def yaml_flow(value: Any, hint: str | None = None) -> str:
    if isinstance(value, dict):
        items = (f"{yaml_key(k, True)}: {yaml_flow(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_flow(v) for v in value) + "]"
    return yaml_scalar(value, True, hint)


def yaml_inline(value: Any, hint: str | None = None) -> str:
    if isinstance(value, (dict, list, tuple)):
        return yaml_flow(value)
    return yaml_scalar(value, False, hint)


def yaml_block(value: Any, indent: int, style: Style) -> list[str]:
    """Block-style lines (indented, without newlines) for a non-empty dict or list."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{yaml_key(key, False)}:"
            if isinstance(item, dict) and item:
                lines += [head, *yaml_block(item, indent + style.step, style)]
            elif isinstance(item, (list, tuple)) and item:
                lines += [head, *yaml_block(list(item), indent + style.seq_off, style)]
            else:
                lines.append(f"{head} {yaml_inline(item)}")
        return lines
    for item in value:
        if isinstance(item, dict) and item:
            inner = yaml_block(item, indent + 2, style)
            lines += [f"{pad}- {inner[0].lstrip()}", *inner[1:]]
        else:
            lines.append(f"{pad}- {yaml_inline(item)}")
    return lines


def json_value(value: Any, style: Style, base: str, multiline: bool) -> str:
    if multiline and style.unit is not None and isinstance(value, (dict, list)) and value:
        text = json.dumps(
            value, indent=style.unit, ensure_ascii=False, separators=(",", style.colon)
        )
        return text.replace("\n", "\n" + base)
    return json.dumps(value, ensure_ascii=False, separators=(style.comma, style.colon))


def json_key(key: Any) -> str:
    if not isinstance(key, str):
        raise Unsupported("JSON keys are strings")
    return json.dumps(key, ensure_ascii=False)
