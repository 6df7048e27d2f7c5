"""Splice edits into YAML or JSON text at the node positions PyYAML reports.

Each edit (set a value, add a key, delete a key or list item) recomposes the text, finds
the node by its key path and replaces just its characters (or inserts/removes whole
lines in block mappings), rendering new values in the file's style: YAML block or flow
by context, the detected indentation, the old value's quote style; JSON with the
detected indent and separators. Layouts we do not splice (complex keys, merge keys,
several documents...) raise :class:`Unsupported`, and the caller reads every result
back (an edited anchor would change its aliases too); either way it then re-emits the
whole file instead.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ._render import (
    Style,
    Unsupported,
    json_key,
    json_value,
    yaml_block,
    yaml_flow,
    yaml_inline,
    yaml_key,
)


def rewrite(
    fmt: str, text: str, edits: list[tuple[str, tuple[Any, ...], Any]], new: Any
) -> str | None:
    """``text`` with ``edits`` applied, or None when the layout needs a full re-emit.

    ``new`` (the expected data) is unused here; it keeps the signature of the other
    rewrite attempts in :mod:`..params_write`.
    """
    try:
        for kind, path, value in edits:
            # PyYAML rejects tab indentation; in valid JSON a raw tab is only ever
            # whitespace, so a space in its place keeps every offset.
            source = text.replace("\t", " ") if fmt == "json" else text
            root = yaml.compose(source, Loader=yaml.SafeLoader)
            if root is None and fmt == "json":
                return None
            style = _style(fmt, text, root)
            if kind == "set":
                text = _set(text, root, path, value, style)
            elif kind == "add":
                text = _add(text, root, path, value, style)
            else:
                text = _delete(text, root, path, style)
    except (Unsupported, yaml.YAMLError):
        return None
    return text


# --- locating ------------------------------------------------------------------------------


def _key_matches(node: Node, key: Any) -> bool:
    if not isinstance(node, ScalarNode):
        return False
    if isinstance(key, str):
        return bool(node.value == key)
    if key is None:
        return node.style is None and node.value in ("", "~", "null", "Null", "NULL")
    if isinstance(key, bool):
        return node.style is None and node.value.lower() == str(key).lower()
    return node.style is None and node.value == str(key)


def _find(root: Node | None, path: tuple[Any, ...]) -> tuple[Node, Node | None, Node | None]:
    node, parent, key_node = root, None, None
    for key in path:
        if isinstance(node, MappingNode):
            pairs = [p for p in node.value if _key_matches(p[0], key)]
            if not pairs:
                raise Unsupported(f"key {key!r} not found")
            parent, (key_node, node) = node, pairs[-1]  # duplicate keys: the last wins
        elif isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            parent, key_node, node = node, None, node.value[key]
        else:
            raise Unsupported(f"cannot go into {type(node).__name__} with {key!r}")
    if node is None:
        raise Unsupported("empty document")
    return node, parent, key_node


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    found = text.find("\n", index)
    return len(text) if found < 0 else found


def _is_block(node: Node) -> bool:
    return isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style


def _span(text: str, node: Node) -> tuple[int, int]:
    """Start and end of a node's own characters (block scalars without trailing breaks)."""
    start, end = node.start_mark.index, node.end_mark.index
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        while end > start and text[end - 1] in "\r\n":
            end -= 1
    return start, end


def _content_end(text: str, node: Node) -> int:
    # A block collection's end mark lies after trailing comments; use its last leaf.
    while _is_block(node) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return _span(text, node)[1]


def _after_indicator(text: str, node: Node, key_node: Node | None) -> int:
    """Position just after the ``:`` of ``key_node`` or the ``-`` before list item ``node``."""
    if key_node is not None:
        pos = key_node.end_mark.index
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos >= len(text) or text[pos] != ":":
            raise Unsupported("complex key")
        return pos + 1
    pos = node.start_mark.index - 1
    while pos >= 0 and text[pos] in " \t\r\n":
        pos -= 1
    if pos < 0 or text[pos] != "-":
        raise Unsupported("list item without a dash")
    return pos + 1


def _entries(parent: Node) -> list[tuple[Node, Node]]:
    """(first node, last node) of each entry of a mapping or sequence."""
    if isinstance(parent, MappingNode):
        return [(k, v) for k, v in parent.value]
    return [(v, v) for v in parent.value]


# --- style ---------------------------------------------------------------------------------


def _style(fmt: str, text: str, root: Node | None) -> Style:
    style = Style(fmt)
    if fmt == "json":
        style.unit = json_indent(text)
        if re.search(r'"\s*:(?=\S)', text) and not re.search(r'"\s*:\s', text):
            style.colon = ":"
        if style.unit is None and re.search(r",(?=\S)", text) and not re.search(r",\s", text):
            style.comma = ","
        return style
    step = seq = None
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if _is_block(node) and _is_block(value):
                    offset = value.start_mark.column - key.start_mark.column
                    if isinstance(value, MappingNode) and step is None and offset > 0:
                        step = offset
                    if isinstance(value, SequenceNode) and seq is None and offset >= 0:
                        seq = offset
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    style.step = step or 2
    style.seq_off = seq if seq is not None else 0
    return style


def json_indent(text: str) -> str | int | None:
    """The indent unit of a pretty-printed JSON text (None when it is one line)."""
    if "\n" not in text.strip():
        return None
    indents = [m.group(1) for m in re.finditer(r"\n([ \t]+)\S", text)]
    if not indents:
        return None
    smallest = min(indents, key=len)
    return "\t" if smallest.startswith("\t") else len(smallest)


def _indent_of_line(text: str, index: int) -> str:
    start = _line_start(text, index)
    match = re.match(r"[ \t]*", text[start:])
    return match.group() if match else ""


# --- edits ---------------------------------------------------------------------------------


def _splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _set(text: str, root: Node | None, path: tuple[Any, ...], value: Any, style: Style) -> str:
    node, parent, key_node = _find(root, path)
    if parent is None:
        raise Unsupported("replacing the whole document")
    hint = node.style if isinstance(node, ScalarNode) else None
    if style.fmt == "json":
        start, end = _span(text, node)
        multiline = node.start_mark.line != node.end_mark.line
        return _splice(
            text, start, end, json_value(value, style, _indent_of_line(text, start), multiline)
        )
    if parent.flow_style:
        start, end = _span(text, node)
        return _splice(text, start, end, yaml_flow(value, hint))
    is_collection = isinstance(value, (dict, list)) and bool(value)
    if isinstance(node, (MappingNode, SequenceNode)) and not _is_block(node):
        start, end = _span(text, node)  # a flow collection stays one
        return _splice(text, start, end, yaml_flow(value))
    if _is_block(node):
        if is_collection and isinstance(parent, MappingNode):
            assert key_node is not None
            if isinstance(node, MappingNode if isinstance(value, dict) else SequenceNode):
                start = node.start_mark.index
                line = _line_start(text, start)
                if text[line:start].strip():
                    raise Unsupported("block collection after other content")
                lines = yaml_block(value, node.start_mark.column, style)
                return _splice(text, line, _content_end(text, node), "\n".join(lines))
            return _block_under_key(text, node, key_node, value, style, _content_end(text, node))
        anchor = _after_indicator(text, node, key_node)
        return _splice(text, anchor, _content_end(text, node), " " + yaml_inline(value))
    start, end = _span(text, node)
    bare = start == end and not text[end : _line_end(text, end)].strip()
    if bare and is_collection and isinstance(parent, MappingNode):
        assert key_node is not None  # `key:` with nothing after it: write a block below
        return _block_under_key(text, node, key_node, value, style, end)
    rendered = yaml_inline(value, hint)
    return _splice(text, start, end, " " + rendered if start == end else rendered)


def _block_under_key(
    text: str, node: Node, key_node: Node, value: Any, style: Style, end: int
) -> str:
    offset = style.step if isinstance(value, dict) else style.seq_off
    lines = yaml_block(value, key_node.start_mark.column + offset, style)
    anchor = _after_indicator(text, node, key_node)
    return _splice(text, anchor, end, "\n" + "\n".join(lines))


def _add(text: str, root: Node | None, path: tuple[Any, ...], value: Any, style: Style) -> str:
    key = path[-1]
    if root is None:  # empty YAML document (maybe comments only)
        lines = yaml_block({key: value}, 0, style)
        sep = "\n" if text and not text.endswith("\n") else ""
        return text + sep + "\n".join(lines) + "\n"
    mapping = _find(root, path[:-1])[0] if len(path) > 1 else root
    if not isinstance(mapping, MappingNode):
        raise Unsupported("adding to a non-mapping")
    if style.fmt == "json" or mapping.flow_style:
        return _add_flow(text, mapping, key, value, style)
    lines = yaml_block({key: value}, mapping.value[0][0].start_mark.column, style)
    pos = _line_end(text, _content_end(text, mapping))
    return _splice(text, pos, pos, "\n" + "\n".join(lines))


def _add_flow(text: str, mapping: MappingNode, key: Any, value: Any, style: Style) -> str:
    def entry(base: str) -> str:
        if style.fmt == "json":
            return f"{json_key(key)}{style.colon}{json_value(value, style, base, bool(base))}"
        return f"{yaml_key(key, True)}: {yaml_flow(value)}"

    if not mapping.value:
        start, end = mapping.start_mark.index, mapping.end_mark.index
        if style.fmt == "json" and style.unit is not None:
            base = _indent_of_line(text, start)
            unit = style.unit if isinstance(style.unit, str) else " " * style.unit
            return _splice(text, start + 1, end - 1, f"\n{base}{unit}{entry(base + unit)}\n{base}")
        return _splice(text, start + 1, end - 1, entry(""))
    last_key, last_value = mapping.value[-1]
    if last_key.start_mark.line != mapping.start_mark.line:
        base = _indent_of_line(text, last_key.start_mark.index)
        sep = ",\n" + base
    else:
        base, sep = "", (style.comma if style.fmt == "json" else ", ")
    pos = last_value.end_mark.index
    return _splice(text, pos, pos, sep + entry(base))


def _delete(text: str, root: Node | None, path: tuple[Any, ...], style: Style) -> str:
    node, parent, _ = _find(root, path)
    if parent is None:
        raise Unsupported("deleting the whole document")
    entries = _entries(parent)
    index = next(i for i, (_, last) in enumerate(entries) if last is node)
    if style.fmt == "json" or parent.flow_style:
        if len(entries) == 1:
            return _splice(text, parent.start_mark.index + 1, parent.end_mark.index - 1, "")
        if index < len(entries) - 1:
            return _splice(
                text, entries[index][0].start_mark.index, entries[index + 1][0].start_mark.index, ""
            )
        return _splice(text, entries[index - 1][1].end_mark.index, node.end_mark.index, "")
    if len(entries) == 1 and parent is not root:
        return _set(text, root, path[:-1], {} if isinstance(parent, MappingNode) else [], style)
    first = entries[index][0]
    line = _line_start(text, first.start_mark.index)
    prefix = text[line : first.start_mark.index].strip()
    if prefix == ("-" if isinstance(parent, SequenceNode) else ""):
        end = min(_line_end(text, _content_end(text, node)) + 1, len(text))
        return _splice(text, line, end, "")
    if isinstance(parent, MappingNode) and index < len(entries) - 1:
        return _splice(text, first.start_mark.index, entries[index + 1][0].start_mark.index, "")
    raise Unsupported("entry shares its line")


# --- full re-emit ----------------------------------------------------------------------------


def ruamel_rewrite(text: str, new: dict[str, Any]) -> str | None:
    """``new`` dumped through ruamel's round-trip loader of ``text`` (comments kept)."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        _, indent, offset = load_yaml_guess_indent(text) if text.strip() else (None, 2, 0)
        rt = YAML()
        rt.preserve_quotes = True
        rt.width = 4096
        indent, offset = indent or 2, offset or 0
        rt.indent(mapping=indent, sequence=indent + offset, offset=offset)
        data = rt.load(text) if text.strip() else None
        if not isinstance(data, dict):
            return None
        _merge(data, new)
        stream = io.StringIO()
        rt.dump(data, stream)
        return stream.getvalue()
    except Exception:  # any ruamel trouble: the caller dumps plainly
        return None


def _merge(target: dict[Any, Any], new: dict[Any, Any], seen: set[int] | None = None) -> None:
    # An alias shares its anchor's object: recurse into each object once, and give
    # later references a fresh value, so changing one key never changes another.
    seen = set() if seen is None else seen
    seen.add(id(target))
    for key in [k for k in target if k not in new]:
        del target[key]
    for key, value in new.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and id(current) not in seen:
            _merge(current, value, seen)
        else:
            shared = isinstance(current, (dict, list)) and id(current) in seen
            if shared or key not in target or type(current) is not type(value) or current != value:
                target[key] = value
        if isinstance(current, (dict, list)):
            seen.add(id(current))
