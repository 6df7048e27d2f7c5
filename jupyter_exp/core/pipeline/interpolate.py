"""``${...}`` interpolation as DVC 3 does it (``dvc/parsing/interpolate.py``, ``context.py``).

A :class:`Context` holds the variables of one ``dvc.yaml``: the default ``params.yaml``,
``vars`` files and inline ``vars``, and during ``foreach``/``matrix`` the ``item`` and
``key`` of the current iteration. It remembers where every value came from so that the
params read from files through ``${}`` can be reported per stage ("tracked vars"), as DVC
does for ``params show``.

Rules reproduced from DVC:

* ``"${a.b[0]}"`` alone keeps the value's type; inside a longer string the value is
  rendered (``true``/``false`` for booleans, ``str()`` otherwise, and a dict in ``cmd``
  becomes ``--key value`` flags);
* ``\\${`` escapes an interpolation and is replaced by ``${``;
* only ``None`` and scalars may be embedded, except a dict in ``cmd``;
* mapping keys are interpolated as well as values.

Internal failures raise :class:`ResolveFailure`; the loader turns them into
:class:`~jupyter_exp.errors.InterpolationError` with file, line and stage.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

KEYCRE = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
_PRIMITIVES = (int, float, str, bytes, bool)

# Where a value of the context came from: (file, path of the value in that file), or
# (None, ()) for values written in dvc.yaml itself (inline vars, foreach data).
Source = tuple[str | None, tuple[str, ...]]
_LOCAL: Source = (None, ())


class ResolveFailure(Exception):
    """A ``${}`` (or ``vars``) problem; ``keys`` is where in the definition it happened."""

    def __init__(
        self, detail: str, keys: tuple[str | int, ...] = (), expr: str | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.keys = keys
        self.expr = expr  # the ``${...}`` being resolved, when there is one


def has_interpolation(value: str) -> bool:
    """True when ``value`` contains an unescaped ``${...}``."""
    return "${" in value and KEYCRE.search(value) is not None


def parse_expr(inner: str) -> tuple[str, ...]:
    """Split the inside of ``${...}`` into its keys: ``a.b[0]`` -> ``('a', 'b', '0')``.

    Same grammar as DVC's pyparsing one: a word (no ``.``, ``[``, ``]``) followed by
    ``.word`` or ``[word]`` parts. Raises :class:`ResolveFailure` on bad syntax.
    """
    text = inner.expandtabs()  # pyparsing expands tabs before parsing
    parts: list[str] = []
    pos, end = 0, len(text)
    first = True
    while pos < end or first:
        if first:
            opener = ""
        else:
            opener = text[pos]
            if opener not in ".[":
                raise ResolveFailure("invalid syntax")
            pos += 1
        stop = pos
        while stop < end and text[stop] not in ".[]":
            stop += 1
        if stop == pos:
            raise ResolveFailure("invalid syntax")
        parts.append(text[pos:stop])
        pos = stop
        if opener == "[":
            if pos >= end or text[pos] != "]":
                raise ResolveFailure("invalid syntax")
            pos += 1
            # pyparsing skips whitespace before the next literal and before the end
            while pos < end and text[pos].isspace():
                pos += 1
        first = False
    return tuple(parts)


class Context:
    """Variables for interpolation, with their sources.

    ``data`` is a plain dict; values merged in from params files may be shared with the
    params cache, so nested containers are copied before being changed.
    """

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.sources: dict[tuple[str, ...], Source] = {}
        # file -> keys loaded from it (None: the whole file), like DVC's Context.imports
        self.imports: dict[str, list[str] | None] = {}
        self.reserved: set[str] = set()
        self._tracking: dict[str, dict[str, Any]] | None = None

    def clone(self) -> Context:
        """A copy that can take more vars without changing this one."""
        new = Context()
        new.data = dict(self.data)
        new.sources = dict(self.sources)
        new.imports = {k: (list(v) if v is not None else None) for k, v in self.imports.items()}
        new.reserved = set(self.reserved)
        return new

    # --- loading -------------------------------------------------------------------------

    def merge(self, data: dict[str, Any], source: str | None, origin: str) -> None:
        """Merge ``data`` in (recursively for mappings); a clash of values is an error.

        ``source`` is the file it came from (None for inline vars); ``origin`` names it
        in messages (``params.yaml``, ``vars[0]``, ``train.vars[1]``).
        """
        clash = self.reserved.intersection(k for k in data if isinstance(k, str))
        if clash:
            names = ", ".join(f"'{k}'" for k in sorted(clash))
            raise ResolveFailure(f"attempted to modify reserved key {names} in '{origin}'")
        self._merge(self.data, data, (), source, origin)

    def _merge(
        self,
        into: dict[str, Any],
        update: dict[Any, Any],
        prefix: tuple[str, ...],
        source: str | None,
        origin: str,
    ) -> None:
        for key, value in update.items():
            if not isinstance(key, str):
                continue  # DVC's context ignores non-string keys
            path = (*prefix, key)
            existing = into.get(key)
            if isinstance(existing, dict) and isinstance(value, dict):
                into[key] = dict(existing)  # copy on write: may be a params cache object
                self._merge(into[key], value, path, source, origin)
                continue
            if key in into:
                before = self.source_of(path)[0] or "dvc.yaml"
                raise ResolveFailure(
                    f"cannot redefine '{'.'.join(path)}' from '{origin}' "
                    f"as it already exists in '{before}'"
                )
            into[key] = value
            self.sources[path] = (source, path) if source else _LOCAL

    @contextmanager
    def temporarily(
        self,
        values: dict[str, tuple[Any, Source]],
        extra_sources: dict[tuple[str, ...], Source] | None = None,
    ) -> Iterator[None]:
        """Set top-level ``item``/``key`` for one iteration, reserved against ``vars``.

        ``values`` maps each name to (value, source); ``extra_sources`` gives sources of
        parts of those values (the dimensions of a ``matrix`` item).
        """
        saved = {k: (self.data[k], self.sources.get((k,))) for k in values if k in self.data}
        for key, (value, source) in values.items():
            self.data[key] = value
            self.sources[(key,)] = source
        self.sources.update(extra_sources or {})
        added = set(values) - self.reserved
        self.reserved |= added
        try:
            yield
        finally:
            self.reserved -= added
            for path in extra_sources or {}:
                self.sources.pop(path, None)
            for key in values:
                del self.data[key]
                self.sources.pop((key,), None)
            for key, (value, source) in saved.items():
                self.data[key] = value
                if source is not None:
                    self.sources[(key,)] = source

    # --- lookup --------------------------------------------------------------------------

    def source_of(self, path: tuple[str, ...]) -> Source:
        """The file and in-file path of the value at ``path`` (``(None, ())`` if local)."""
        for i in range(len(path), 0, -1):
            found = self.sources.get(path[:i])
            if found is not None:
                if found[0] is None:
                    return _LOCAL
                return found[0], found[1] + path[i:]
        return _LOCAL

    def select(self, parts: tuple[str, ...], expr: str) -> tuple[Any, tuple[str, ...]]:
        """The value at ``parts`` and its canonical path (negative indexes made positive)."""
        node: Any = self.data
        canonical: list[str] = []
        for raw in parts:
            part = raw.strip()
            if isinstance(node, dict):
                if part not in node:
                    raise ResolveFailure(f"could not find '{expr}'")
                node = node[part]
            elif isinstance(node, (list, tuple)):
                try:
                    index = int(part)
                    length = len(node)
                    node = node[index]
                except (ValueError, IndexError):
                    raise ResolveFailure(f"could not find '{expr}'") from None
                part = str(index if index >= 0 else index + length)
            else:
                raise ResolveFailure(f"could not find '{expr}'")
            canonical.append(part)
        return node, tuple(canonical)

    @contextmanager
    def track(self) -> Iterator[dict[str, dict[str, Any]]]:
        """Record, per params file, the values read through ``${}`` inside the block."""
        tracked: dict[str, dict[str, Any]] = {}
        self._tracking = tracked
        try:
            yield tracked
        finally:
            self._tracking = None

    def _record(self, path: tuple[str, ...], value: Any) -> None:
        # DVC records scalars and lists, never whole mappings, and only from files.
        if self._tracking is None or isinstance(value, dict):
            return
        source, in_file = self.source_of(path)
        if source is None:
            return
        self._tracking.setdefault(source, {})[".".join(in_file)] = value

    # --- resolution ----------------------------------------------------------------------

    def lookup(self, expr: str) -> Any:
        """Value of the expression inside ``${...}`` (tracked when tracking is on)."""
        parts = parse_expr(expr)
        value, path = self.select(parts, expr)
        self._record(path, value)
        return value

    def resolve(self, value: Any, key: str | None = None, config: dict | None = None) -> Any:
        """Interpolate ``value`` recursively (mapping keys too).

        ``key`` is the stage field being resolved (``cmd``, ``deps``...): it decides which
        values may be embedded. ``config`` is DVC's ``parsing`` config section.
        """
        if isinstance(value, str):
            # "\\${" contains "${": strings without it need neither lookup nor unescaping
            return self.resolve_str(value, key, config) if "${" in value else value
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                try:
                    out[self.resolve(k, key, config)] = self.resolve(v, key, config)
                except ResolveFailure as exc:
                    exc.keys = (k, *exc.keys)
                    raise
            return out
        if isinstance(value, list):
            items = []
            for i, v in enumerate(value):
                try:
                    items.append(self.resolve(v, key, config))
                except ResolveFailure as exc:
                    exc.keys = (i, *exc.keys)
                    raise
            return items
        return value

    def resolve_str(self, src: str, key: str | None = None, config: dict | None = None) -> Any:
        """Interpolate one string: whole-value ``${x}`` keeps the type of ``x``."""
        matches = list(KEYCRE.finditer(src))
        if len(matches) == 1 and matches[0].group(0) == src:
            inner = matches[0]["inner"]
            value = self._lookup_checked(inner, key)
            return value
        buf, index = [], 0
        for match in matches:
            start, end = match.span(0)
            value = self._lookup_checked(match["inner"], key)
            buf.append(src[index:start])
            buf.append(to_str(value, config))
            index = end
        buf.append(src[index:])
        return "".join(buf).replace("\\${", "${")

    def _lookup_checked(self, inner: str, key: str | None) -> Any:
        try:
            value = self.lookup(inner)
        except ResolveFailure as exc:
            exc.expr = f"${{{inner}}}"
            raise
        # dvc/parsing/interpolate.py validate_value
        checked = key is not None and "foreach" not in key
        composite = value is not None and not isinstance(value, _PRIMITIVES)
        if checked and composite and not (isinstance(value, dict) and key == "cmd"):
            raise ResolveFailure(
                f"a value of type '{type(value).__name__}' cannot be used here",
                expr=f"${{{inner}}}",
            )
        return value


def to_str(value: Any, config: dict | None = None) -> str:
    """How DVC renders a value inside a string (``dvc.parsing.interpolate.to_str``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _dict_to_flags(value, config or {})
    return str(value)


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    # flatten_dict.flatten(d, reducer="dot"): nested mappings only, empty ones dropped.
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from _flatten(value, name)
        else:
            yield name, value


def _dict_to_flags(data: dict[str, Any], config: dict) -> str:
    parts: list[str] = []
    for name, value in _flatten(data):
        if isinstance(value, bool):
            if value:
                parts.append(f"--{name}")
            elif config.get("bool", "store_true") == "boolean_optional":
                parts.append(f"--no-{name}")
        elif isinstance(value, str):
            parts.append(f"--{name} {shlex.quote(value)}")
        elif isinstance(value, (list, tuple, set)):
            for n, item in enumerate(value):
                if isinstance(item, str):
                    item = shlex.quote(item)
                elif isinstance(item, (list, tuple, set, dict)):
                    raise ResolveFailure(f"cannot interpolate nested iterable in '{name}'")
                if config.get("list", "nargs") == "append" or n == 0:
                    parts.append(f"--{name} {item}")
                else:
                    parts.append(f"{item}")
        else:
            parts.append(f"--{name} {value}")
    return " ".join(parts)
