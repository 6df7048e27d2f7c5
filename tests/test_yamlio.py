"""yamlio reads YAML exactly as DVC does (ruamel.yaml, typ="safe", YAML 1.2)."""

from __future__ import annotations

import datetime
import json
import math
import textwrap
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from jupyter_exp.core.yamlio import find_line, load_yaml
from jupyter_exp.errors import PipelineSyntaxError

_RUAMEL = YAML(typ="safe")  # what DVC's parse_yaml uses


def ruamel_load(text: str) -> Any:
    data = _RUAMEL.load(text)
    return {} if data is None else data


def normal(value: Any) -> Any:
    """Comparable form: NaN equal to NaN, types kept (1 != 1.0 != True)."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, dict):
        return ("map", [(normal(k), normal(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [normal(v) for v in value])
    return (type(value).__name__, value)


# --- scalar spellings --------------------------------------------------------------------

ints = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.integers(0, 10**6).map(lambda n: f"+{n}"),
    st.integers(0, 999).map(lambda n: f"0{n}"),  # leading zero: decimal in YAML 1.2
    st.integers(0, 10**6).map(lambda n: f"0o{n:o}"),
    st.integers(0, 10**6).map(lambda n: f"0x{n:x}"),
    st.integers(0, 10**6).map(lambda n: f"0x{n:X}"),
    st.integers(1, 10**6).map(lambda n: f"{n:_}"),
)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.tuples(st.integers(-999, 999), st.integers(-30, 30)).map(lambda t: f"{t[0]}e{t[1]}"),
    st.tuples(st.integers(0, 999), st.integers(0, 30)).map(lambda t: f"{t[0]}E+{t[1]}"),
    st.integers(0, 10**6).map(lambda n: f".{n}"),
    st.integers(0, 10**6).map(lambda n: f"{n}."),
    st.integers(0, 10**6).map(lambda n: f"-{n}.5e-3"),
    st.sampled_from([".inf", "-.inf", "+.inf", ".Inf", "-.INF", ".nan", ".NaN", ".NAN"]),
)
words = st.sampled_from(
    [
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "yes",
        "no",
        "Yes",
        "NO",
        "on",
        "off",
        "On",
        "y",
        "n",
        "~",
        "null",
        "Null",
        "NULL",
        "nan",
        "inf",
        "1_0.5",
        "0b101",
        "1:20",
        "12:30:45",
        "0.1.2",
        "1e",
        "e3",
        "-",
        "0x",
        "+",
        "=",
        "<<<",
        "a b",
        "v1.0",
    ]
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.builds(
        lambda dt, sep, frac, tz: dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + frac + tz,
        st.datetimes(
            min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2200, 1, 1)
        ),
        st.sampled_from(["T", "t", " "]),
        st.sampled_from(["", ".5", ".123456"]),
        st.sampled_from(["", "Z", "+01:00", "-05:00", " Z"]),
    ),
)
# Printable characters only: raw C1 controls (U+0080-U+009F) are not printable YAML;
# libyaml rejects them while ruamel lets them through.
safe_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_categories=("Cc", "Cs")),
    max_size=20,
)
quoted = st.one_of(
    safe_text.map(json.dumps),
    safe_text.map(lambda s: "'" + s.replace("'", "''") + "'"),
)
plain = st.from_regex(r"\A[a-z][a-z0-9_]{0,8}\Z")
scalars = st.one_of(ints, floats, words, dates, quoted, plain)
keys = st.one_of(plain, ints, words, quoted)


@st.composite
def documents(draw, depth: int = 3) -> Any:
    """A tree whose leaves are scalar spellings (strings) to render as YAML text."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(scalars)
    if draw(st.booleans()):
        size = draw(st.integers(0, 4))
        doc = {}
        for _ in range(size):
            doc[draw(keys)] = draw(documents(depth - 1))
        return doc
    return [draw(documents(depth - 1)) for _ in range(draw(st.integers(0, 4)))]


def render(node: Any, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(node, dict):
        if not node:
            return pad + "{}\n"
        out = ""
        for key, value in node.items():
            if isinstance(value, (dict, list)) and value:
                out += f"{pad}{key}:\n" + render(value, indent + 2)
            else:
                out += f"{pad}{key}: {_inline(value)}\n"
        return out
    if isinstance(node, list):
        if not node:
            return pad + "[]\n"
        out = ""
        for value in node:
            if isinstance(value, (dict, list)) and value:
                out += f"{pad}-\n" + render(value, indent + 2)
            else:
                out += f"{pad}- {_inline(value)}\n"
        return out
    return pad + node + "\n"


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return value


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(plain, scalars), min_size=1, max_size=8, unique_by=lambda t: t[0]))
@example([("a", "0o17")])
@example([("a", "1e3"), ("b", "010"), ("c", "yes"), ("d", "~"), ("e", "2001-12-14")])
def test_scalars_read_like_ruamel(pairs):
    text = "".join(f"{k}: {v}\n" for k, v in pairs)
    assert_reads_like_ruamel(text)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_documents_read_like_ruamel(doc):
    assert_reads_like_ruamel(render(doc))


def assert_reads_like_ruamel(text: str) -> None:
    """Whatever DVC can read, we read to the same data."""
    try:
        expected = ruamel_load(text)
    except Exception:  # DVC cannot read it either (e.g. "a: -", "a: ="): nothing to match
        return
    assert normal(load_yaml(text)) == normal(expected), text


def test_flow_style_and_empty_values_read_like_ruamel():
    text = textwrap.dedent(
        """
        a: {x: 1, y: [1, 2.5, "s", yes, ~]}
        b:
        c: !!str 12
        d: &anchor {k: v}
        e: *anchor
        f: |
          line one
          line two
        g: >-
          folded
          text
        """
    )
    assert normal(load_yaml(text)) == normal(ruamel_load(text))


def test_empty_document_is_an_empty_mapping():
    assert load_yaml("") == {} and load_yaml("# comment only\n") == {}


def test_syntax_error_has_path_and_line():
    with pytest.raises(PipelineSyntaxError) as info:
        load_yaml("a: 1\nb: [2\nc: 3\n", "p.yaml")
    assert info.value.path == "p.yaml" and info.value.line == 3


NESTED = """\
stages:
  prepare:
    cmd: echo
  train:
    cmd: python train.py
    outs:
    - model.pkl
    - metrics:
        cache: false
    deps: [a, b]
"""


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        ((), 1),
        (("stages",), 1),
        (("stages", "prepare"), 2),
        (("stages", "train", "cmd"), 5),
        (("stages", "train", "outs", 0), 7),
        (("stages", "train", "outs", 1, "metrics", "cache"), 9),
        (("stages", "train", "deps", 1), 10),
        # the deepest existing node when the path goes further
        (("stages", "train", "nope"), 4),
        (("stages", "train", "outs", 5), 6),
        (("stages", "train", "cmd", "x"), 5),
    ],
)
def test_find_line_on_nested_keys(keys, line):
    assert find_line(NESTED, keys) == line


def test_find_line_on_unparseable_text_is_none():
    assert find_line("a: [1\n", ("a",)) is None
