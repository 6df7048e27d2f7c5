"""YAML as DVC reads and writes it.

DVC parses with ruamel.yaml, i.e. YAML 1.2: ``1e-3`` is a float, ``yes``/``on`` are
strings, ``010`` is decimal. Reading through libyaml (PyYAML's C parser) is ~15x faster
than ruamel in pure Python, which matters for a no-op ``repro``, so we read with libyaml
and swap PyYAML's YAML 1.1 implicit resolvers for the YAML 1.2 core schema ones. The
property tests check this reader against ruamel's.

Writing goes through ruamel.yaml with DVC's settings so ``dvc.lock`` is byte-identical.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import yaml

from ..errors import PipelineSyntaxError

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Yaml12Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml-backed safe loader with YAML 1.2 core schema scalar resolution."""


# Start from no implicit resolvers, then add YAML 1.2 core schema ones.
Yaml12Loader.yaml_implicit_resolvers = {}
_RESOLVERS: list[tuple[str, str, list[str | None]]] = [
    # The YAML 1.2 entries of ruamel.yaml's resolver table, which is what DVC uses.
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        list("-+0123456789."),
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        list("-+0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
    ("tag:yaml.org,2002:null", r"^(?: ~ |null|Null|NULL | )$", ["~", "n", "N", None]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        list("0123456789"),
    ),
]
for _tag, _pattern, _first in _RESOLVERS:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern, re.X), _first)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text.startswith("0b"):
        return sign * int(text[2:], 2)
    if text.startswith("0x"):
        return sign * int(text[2:], 16)
    if text.startswith("0o"):
        return sign * int(text[2:], 8)
    return sign * int(text or "0", 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text.endswith(".nan"):
        return float("nan")
    return float(text)


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def load_yaml(text: str, path: str | None = None) -> Any:
    """Parse ``text`` as YAML 1.2 (safe). An empty document gives ``{}``.

    Raises :class:`PipelineSyntaxError` with ``path`` and the 1-based line on bad syntax.
    """
    try:
        data = yaml.load(text, Loader=Yaml12Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PipelineSyntaxError(f"invalid YAML: {problem}", path=path, line=line) from None
    return {} if data is None else data


def find_line(text: str, keys: Sequence[str | int]) -> int | None:
    """1-based line of the node at ``keys`` (mapping keys / list indexes), best effort.

    Returns the line of the deepest node that exists along the path; None if the text
    does not parse. Only called on the error path, so speed does not matter.
    """
    try:
        node = yaml.compose(text, Loader=Yaml12Loader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in keys:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == key:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if not 0 <= key < len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def dump_yaml(data: Any) -> str:
    """Serialise ``data`` exactly as DVC dumps ``dvc.lock``, ``*.dvc`` and run-cache files.

    ruamel.yaml's round-trip dumper, block style, default indentation and width.
    Imported lazily: only writes pay for it.
    """
    from ruamel.yaml import YAML

    dumper = YAML()
    dumper.default_flow_style = False
    stream = io.StringIO()
    dumper.dump(_plain(data), stream)
    return stream.getvalue()


def _plain(data: Any, seen: dict[int, Any] | None = None) -> Any:
    # ruamel's round-trip representer handles dict/list; tuples would become
    # !!python/tuple. Shared containers stay shared (DVC writes them as &id aliases).
    seen = {} if seen is None else seen
    if not isinstance(data, (dict, list, tuple)):
        return data
    if id(data) in seen:
        return seen[id(data)]
    if isinstance(data, dict):
        out: Any = {}
        seen[id(data)] = out
        out.update((k, _plain(v, seen)) for k, v in data.items())
        return out
    items: list[Any] = []
    seen[id(data)] = items
    items.extend(_plain(v, seen) for v in data)
    return items
