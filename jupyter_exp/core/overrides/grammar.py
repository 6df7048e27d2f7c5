"""The ``-S`` override grammar: Hydra's basic override syntax, as DVC 3 accepts it.

DVC hands each ``-S`` value to Hydra's ANTLR parser. We do not depend on hydra-core;
this module is a small hand-written lexer and recursive-descent parser for the same
grammar (``hydra/grammar/Override{Lexer,Parser}.g4``), tokenising the value part with
the same rules (longest match, ties to the earlier rule) so values get the same types:
``1e-3`` is a float, ``010`` and ``0x10`` are strings, ``inf``/``nan`` are floats,
``'1'`` is a string, ``a b`` is the string ``"a b"``.

What we leave out is listed in ``docs/params-overrides.md``: config groups and packages
(``a/b=x``, ``a@pkg=x``), ``${...}`` interpolation, and the ``interval``, ``glob`` and
``shuffle`` functions. DVC rejects or cannot run the first and the last two; the
second it would resolve against the whole config.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ...errors import InvalidArgumentError
from .sweep import ChoiceSweep, RangeSweep, SweepError, call_function, sweep_values

Op = Literal["set", "add", "force", "delete"]

_PREFIX = {"set": "", "add": "+", "force": "++", "delete": "~"}


@dataclass(frozen=True)
class Override:
    """One parsed ``-S`` value.

    ``file`` is the ``file.yaml:`` prefix (None: the default params file). ``key`` is the
    dotted key (list items by index: ``train.layers.0``). ``value`` is the typed value
    (None for ``~key`` without a value, and for sweeps). ``sweep`` holds every value of
    a sweep (``a=1,2``, ``choice(...)``, ``range(...)``) in order, else None.
    ``text`` is the input, for messages; it does not take part in comparisons.
    """

    file: str | None
    op: Op
    key: str
    value: Any = None
    sweep: tuple[Any, ...] | None = None
    text: str = field(default="", compare=False)

    @property
    def is_sweep(self) -> bool:
        """True for an override that stands for several values."""
        return self.sweep is not None

    @property
    def key_element(self) -> str:
        """The key with its operator prefix (``+train.lr``), as Hydra names it."""
        return _PREFIX[self.op] + self.key

    def with_value(self, value: Any) -> Override:
        """This override with one concrete ``value`` instead of a sweep."""
        text = _format(self.file, self.key_element, value, has_value=True)
        return replace(self, value=value, sweep=None, text=text)

    def to_text(self) -> str:
        """Canonical override text that parses back to an equal :class:`Override`."""
        if self.sweep is not None:
            values = [format_value(v) for v in self.sweep]
            body = ",".join(values) if len(values) > 1 else f"choice({values[0]})"
            prefix = f"{self.file}:" if self.file is not None else ""
            return f"{prefix}{self.key_element}={body}"
        has_value = not (self.op == "delete" and self.value is None)
        return _format(self.file, self.key_element, self.value, has_value=has_value)

    def __str__(self) -> str:
        return self.text or self.to_text()


def _format(file: str | None, key_element: str, value: Any, *, has_value: bool) -> str:
    prefix = f"{file}:" if file is not None else ""
    if not has_value:
        return prefix + key_element
    return f"{prefix}{key_element}={format_value(value)}"


# --- lexer -------------------------------------------------------------------------------

_INT_U = r"(?:0|[1-9](?:_?[0-9])*)"
_DIGITS = r"[0-9](?:_?[0-9])*"
# Longer alternatives first: Python's alternation is ordered, ANTLR's lexer is longest-match.
_POINT = rf"(?:{_INT_U}?\.{_DIGITS}|{_INT_U}\.)"
_EXP = rf"(?:(?:{_POINT}|{_INT_U})[eE][+-]?{_DIGITS})"
_QUOTED = r"""(?:"(?:(?:\\\\)*|.*?[^\\](?:\\\\)*)"|'(?:(?:\\\\)*|.*?[^\\](?:\\\\)*)')"""

# VALUE_MODE rules of OverrideLexer.g4, in rule order (ties go to the earlier rule).
_RULES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern, re.S))
    for name, pattern in [
        ("POPEN", r"[ \t]*\([ \t]*"),
        ("COMMA", r"[ \t]*,[ \t]*"),
        ("PCLOSE", r"[ \t]*\)"),
        ("BRACKET_OPEN", r"\[[ \t]*"),
        ("BRACKET_CLOSE", r"[ \t]*\]"),
        ("BRACE_OPEN", r"\{[ \t]*"),
        ("BRACE_CLOSE", r"[ \t]*\}"),
        ("COLON", r"[ \t]*:[ \t]*"),
        ("EQUAL", r"[ \t]*=[ \t]*"),
        ("FLOAT", rf"[+-]?(?:{_EXP}|{_POINT}|(?i:inf|nan))"),
        ("INT", rf"[+-]?{_INT_U}"),
        ("BOOL", r"(?i:true|false)"),
        ("NULL", r"(?i:null)"),
        ("UNQUOTED_CHAR", r"[/\-\\+.$%*@?|]"),
        ("ID", r"[a-zA-Z_][a-zA-Z0-9_\-]*"),
        ("ESC", r"(?:\\\\|\\[()\[\]{}:=, \t])+"),
        ("WS", r"[ \t]+"),
        ("QUOTED_VALUE", _QUOTED),
        ("INTERPOLATION", r"\$\{[^}]+\}"),
    ]
]

_KEY_PART = r"(?:[A-Za-z_$][A-Za-z0-9_\-$]*)"
_KEY_RE = re.compile(rf"(?:{_KEY_PART}|{_INT_U})(?:\.(?:{_KEY_PART}|{_INT_U}))+|{_KEY_PART}")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int  # offset in the whole override text


class _Fail(Exception):
    """A grammar error; turned into InvalidArgumentError naming the override."""


def _tokenize(text: str, start: int) -> list[_Token]:
    tokens: list[_Token] = []
    pos = start
    while pos < len(text):
        best: tuple[str, int] | None = None
        for kind, pattern in _RULES:
            match = pattern.match(text, pos)
            if match and match.end() > pos and (best is None or match.end() > best[1]):
                best = (kind, match.end())
        if best is None:
            raise _Fail(f"unexpected character {text[pos]!r} at column {pos + 1}")
        tokens.append(_Token(best[0], text[pos : best[1]], pos))
        pos = best[1]
    return tokens


# --- parser ------------------------------------------------------------------------------

_PRIMITIVE = {"ID", "NULL", "INT", "FLOAT", "BOOL", "INTERPOLATION"}
_PRIMITIVE |= {"UNQUOTED_CHAR", "COLON", "ESC", "WS"}
_DICT_KEY = _PRIMITIVE - {"COLON", "INTERPOLATION"}


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self, offset: int = 0) -> _Token | None:
        i = self.index + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def at(self, kind: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == kind

    def skip(self, kind: str) -> bool:
        """Consume the next token if it is a ``kind``."""
        if self.at(kind):
            self.index += 1
            return True
        return False

    def expect(self, kind: str, what: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            raise self.unexpected(f"expected {what}")
        self.index += 1
        return token

    def unexpected(self, hint: str = "") -> _Fail:
        token = self.peek()
        if token is None:
            where = "unexpected end of value"
        elif not token.text.strip():
            where = f"unexpected whitespace at column {token.pos + 1}"
        else:
            where = f"unexpected {token.text.strip()!r} at column {token.pos + 1}"
        return _Fail(f"{where}{', ' + hint if hint else ''}")

    def value(self) -> Any:
        items = [self.element()]
        while self.skip("COMMA"):
            items.append(self.element())
        return items[0] if len(items) == 1 else ChoiceSweep(items, simple=True)

    def element(self) -> Any:
        token = self.peek()
        if token is None:
            raise self.unexpected("expected a value")
        if token.kind == "ID" and self.at("POPEN", 1):
            return self.function()
        if token.kind == "BRACKET_OPEN":
            return self.list_()
        if token.kind == "BRACE_OPEN":
            return self.dict_()
        if token.kind == "QUOTED_VALUE":
            self.index += 1
            return _unquote(token.text)
        if token.kind in _PRIMITIVE:
            return self.primitive(_PRIMITIVE)
        raise self.unexpected("expected a value")

    def primitive(self, allowed: set[str]) -> Any:
        start = self.index
        while (token := self.peek()) is not None and token.kind in allowed:
            self.index += 1
        run = self.tokens[start : self.index]
        if not run:
            raise self.unexpected("expected a value")
        return _primitive(run)

    def list_(self) -> list[Any]:
        self.expect("BRACKET_OPEN", "'['")
        items: list[Any] = []
        if self.skip("BRACKET_CLOSE"):
            return items
        items.append(self.element())
        while self.skip("COMMA"):
            items.append(self.element())
        self.expect("BRACKET_CLOSE", "',' or ']'")
        return items

    def dict_(self) -> dict[Any, Any]:
        self.expect("BRACE_OPEN", "'{'")
        items: dict[Any, Any] = {}
        if self.skip("BRACE_CLOSE"):
            return items
        while True:
            key = self.primitive(_DICT_KEY)
            self.expect("COLON", "':' after a dict key")
            items[key] = self.element()
            if not self.skip("COMMA"):
                self.expect("BRACE_CLOSE", "',' or '}'")
                return items

    def function(self) -> Any:
        name = self.expect("ID", "a function name").text
        self.expect("POPEN", "'('")
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if self.skip("PCLOSE"):
            return call_function(name, args, kwargs)
        while True:
            if self.at("ID") and self.at("EQUAL", 1):
                arg_name = self.tokens[self.index].text
                self.index += 2
                kwargs[arg_name] = self.element()
            elif kwargs:
                raise _Fail(f"{name}(): positional argument follows keyword argument")
            else:
                args.append(self.element())
            if not self.skip("COMMA"):
                self.expect("PCLOSE", "',' or ')'")
                return call_function(name, args, kwargs)


def _primitive(run: list[_Token]) -> Any:
    # OverridesVisitor._createPrimitive: trim outer whitespace; several tokens -> string.
    if run[0].kind == "WS":
        if len(run) == 1:
            raise _Fail("a value cannot be only whitespace")
        run = run[1:]
    if run[-1].kind == "WS":
        run = run[:-1]
    if len(run) > 1:
        return "".join(t.text[1::2] if t.kind == "ESC" else t.text for t in run)
    token = run[0]
    text = token.text
    if token.kind == "INT":
        return int(text)
    if token.kind == "FLOAT":
        return float(text)
    if token.kind == "BOOL":
        return text.lower() == "true"
    if token.kind == "NULL":
        return None
    if token.kind == "ESC":
        return text[1::2]
    return text


_ESC_QUOTED = {"'": re.compile(r"(\\)+'"), '"': re.compile(r'(\\)+"')}


def _unquote(text: str) -> str:
    # Backslashes matter only before a quote: \' -> ', \\' -> \ + end quote, etc.
    quote = text[0]
    body = text[1:]  # keep the closing quote so trailing backslashes are matched
    out: list[str] = []
    while (match := _ESC_QUOTED[quote].search(body)) is not None:
        start, stop = match.span()
        out.append(body[:start])
        out.append(body[start + 1 : stop : 2])
        body = body[stop:]
    out.append(body[:-1])
    return "".join(out)


# --- public ------------------------------------------------------------------------------


def parse_override(text: str) -> Override:
    """Parse one ``-S`` value: ``[file:]key=value``, ``+key=v``, ``++key=v``, ``~key[=v]``.

    The ``file:`` prefix is split as DVC does: a ``:`` before the first ``=`` ends the
    file name (keys cannot contain ``:``, values can). Raises
    :class:`~jupyter_exp.errors.InvalidArgumentError` naming the override and the problem.
    """
    try:
        return _parse(text)
    except (_Fail, SweepError) as exc:
        raise InvalidArgumentError(f"invalid override '{text}': {exc}", argument=text) from None


def parse_overrides(items: Sequence[str]) -> list[Override]:
    """Parse several ``-S`` values, in order.

    As in DVC 3, each value is ONE override: ``-S a=1,2`` is a sweep of ``a`` over 1 and
    2, and ``-S a=1,b=2`` is an error (``=`` is not allowed in an unquoted value).
    """
    return [parse_override(item) for item in items]


def _parse(text: str) -> Override:
    file: str | None = None
    pos = 0
    if ":" in text.partition("=")[0]:  # dvc.utils.cli_parse.to_path_overrides
        file = text.partition(":")[0]
        if not file:
            raise _Fail("empty file name before ':'")
        pos = len(file) + 1
    op: Op = "set"
    if text.startswith("~", pos):
        op, pos = "delete", pos + 1
    elif text.startswith("++", pos):
        op, pos = "force", pos + 2
    elif text.startswith("+", pos):
        op, pos = "add", pos + 1
    match = _KEY_RE.match(text, pos)
    if match is None:
        hint = "" if pos < len(text) else " (the key is missing)"
        raise _Fail(f"expected a key at column {pos + 1}{hint}")
    key, pos = match.group(), match.end()
    if pos < len(text) and text[pos] in "@/":
        raise _Fail("config group overrides ('group/option', 'key@package') are not supported")
    if pos == len(text):
        if op != "delete":
            raise _Fail("expected '=' after the key")
        return Override(file, op, key, None, None, text)
    if text[pos] != "=":
        raise _Fail(f"unexpected {text[pos]!r} at column {pos + 1}, expected '='")
    pos += 1
    while pos < len(text) and text[pos] in " \t":  # EQUAL: '=' WS?
        pos += 1
    if pos == len(text):
        return Override(file, op, key, "", None, text)  # `key=`: the empty string
    parser = _Parser(_tokenize(text, pos))
    value = parser.value()
    if parser.peek() is not None:
        raise parser.unexpected()
    if isinstance(value, (ChoiceSweep, RangeSweep)):
        values = sweep_values(value)
        for item in values:
            _check_element(item)
        return Override(file, op, key, None, values, text)
    _check_element(value)
    return Override(file, op, key, value, None, text)


def _check_element(value: Any) -> None:
    if isinstance(value, (ChoiceSweep, RangeSweep)):
        raise _Fail("a sweep can only be the whole value, not part of a list or dict")
    if isinstance(value, str) and "${" in value:
        raise _Fail(f"interpolation is not supported: {value!r}")
    if isinstance(value, list):
        for item in value:
            _check_element(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_element(key)
            _check_element(item)


# --- formatting (the inverse of parsing) -----------------------------------------------

_PLAIN_STRING = re.compile(r"[a-zA-Z_][a-zA-Z0-9_\-]*")
_KEYWORDS = {"true", "false", "null", "inf", "nan"}


def format_value(value: Any) -> str:
    """Override text for ``value`` that parses back to an equal value of the same type.

    Strings are quoted unless they are a plain identifier; dict keys must be strings of
    characters an unquoted Hydra dict key accepts. Raises InvalidArgumentError otherwise.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # 'inf', '-inf', 'nan', '1e-05' all lex as FLOAT
    if isinstance(value, str):
        if _PLAIN_STRING.fullmatch(value) and value.lower() not in _KEYWORDS:
            return value
        return _quote(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_format_key(k)}: {format_value(v)}" for k, v in value.items()) + "}"
        )
    raise InvalidArgumentError(f"cannot write {type(value).__name__} values in an override")


def _format_key(key: Any) -> str:
    if isinstance(key, str) and _PLAIN_STRING.fullmatch(key) and key.lower() not in _KEYWORDS:
        return key
    if isinstance(key, (bool, int, float)) or key is None:
        return format_value(key)
    raise InvalidArgumentError(f"dict key {key!r} cannot be written in override syntax")


def _quote(text: str) -> str:
    # QuotedString.with_quotes: escape quotes; double backslashes that precede a quote.
    quote = "'"
    escaped = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, text)
    return quote + escaped.replace("'", "\\'") + quote
