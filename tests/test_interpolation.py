"""``${...}`` interpolation: values, rendering, escaping and nested keys, as DVC 3 does it."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_exp.core.pipeline.interpolate import (
    Context,
    ResolveFailure,
    has_interpolation,
    parse_expr,
    to_str,
)
from jupyter_exp.core.pipeline.loader import load_pipeline_file
from jupyter_exp.core.repo import Repo
from jupyter_exp.core.yamlio import dump_yaml

DVC_VENV = Path(
    os.environ.get("JUPYTER_EXP_DVC_VENV", os.path.expanduser("~/.cache/jupyter-exp/dvc-venv"))
)
DVC_PYTHON = DVC_VENV / "bin" / "python"
needs_dvc = pytest.mark.skipif(not DVC_PYTHON.exists(), reason="DVC oracle venv not installed")

names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,10}\Z")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(st.characters(exclude_characters="${}\\", exclude_categories=("Cs",)), max_size=15),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)),
    max_leaves=8,
)
# literal text around interpolations: no "$", so nothing in it is an expression
literal = st.text(
    st.characters(exclude_characters="$\\{}", exclude_categories=("Cs",)), max_size=10
)


def context_with(data: dict[str, Any]) -> Context:
    ctx = Context()
    ctx.merge(data, None, "vars[0]")
    return ctx


@settings(max_examples=200, deadline=None)
@given(values)
def test_whole_value_keeps_value_and_type(value):
    ctx = context_with({"x": value})
    result = ctx.resolve("${x}")
    assert result == value and type(result) is type(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        assert ctx.resolve("${x}", key="outs") == value  # scalars are fine anywhere


@settings(max_examples=200, deadline=None)
@given(scalars, literal.filter(bool), literal)
def test_embedded_value_is_rendered(value, before, after):
    ctx = context_with({"x": value})
    expected = before + to_str(value) + after
    assert ctx.resolve(f"{before}${{x}}{after}", key="cmd") == expected
    rendered = to_str(value)
    if isinstance(value, bool):
        assert rendered == ("true" if value else "false")
    else:
        assert rendered == str(value)  # 1e-05, None, inf: Python's str(), as DVC


@given(st.one_of(st.lists(scalars, min_size=1), st.dictionaries(names, scalars, min_size=1)))
def test_composites_are_refused_where_dvc_refuses_them(value):
    ctx = context_with({"x": value})
    with pytest.raises(ResolveFailure, match="cannot be used here"):
        ctx.resolve("${x}", key="deps")
    if isinstance(value, dict):
        assert isinstance(ctx.resolve("run ${x}", key="cmd"), str)  # flags in cmd
    else:
        with pytest.raises(ResolveFailure):
            ctx.resolve("run ${x}", key="cmd")
    assert ctx.resolve("${x}", key="foreach") == value  # the foreach data itself


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(literal, names, st.booleans()), min_size=1, max_size=5), literal)
def test_escaped_interpolations_are_kept_literally(parts, tail):
    ctx = context_with({"v": "VALUE"})
    template, expected = "", ""
    for text, name, escaped in parts:
        if escaped:
            template += f"{text}\\${{{name}}}"
            expected += f"{text}${{{name}}}"
        else:
            template += f"{text}${{v}}"
            expected += f"{text}VALUE"
    template += tail
    expected += tail
    assert ctx.resolve(template) == expected


@st.composite
def nested(draw):
    """A value placed at a random path of mappings and lists, and the ``${}`` path to it."""
    leaf = draw(scalars)
    steps = draw(st.lists(st.one_of(names, st.integers(0, 3)), min_size=1, max_size=5))
    if isinstance(steps[0], int):
        steps[0] = "top"
    data: Any = leaf
    for step in reversed(steps):
        if isinstance(step, int):
            filler = draw(st.lists(scalars, min_size=step, max_size=step))
            data = [*filler, data]
        else:
            data = {step: data}
    expr = steps[0]
    for step in steps[1:]:
        expr += f"[{step}]" if isinstance(step, int) else f".{step}"
    return data, expr, leaf, steps


@settings(max_examples=200, deadline=None)
@given(nested())
def test_nested_keys_and_indexes(case):
    data, expr, leaf, steps = case
    ctx = context_with(data)
    assert ctx.resolve(f"${{{expr}}}") == leaf
    dotted = ".".join(str(s) for s in steps)  # a[0] and a.0 are the same key
    assert ctx.resolve(f"${{{dotted}}}") == leaf
    with pytest.raises(ResolveFailure, match="could not find"):
        ctx.resolve(f"${{{expr}.missing_key}}")


def test_negative_indexes_and_spaces():
    ctx = context_with({"a": {"list": [1, 2, 3]}})
    assert ctx.resolve("${a.list[-1]}") == 3
    assert ctx.resolve("${ a . list [0]}") == 1  # parts are stripped, as in DVC
    assert ctx.resolve("${a.list[0] }") == 1


@pytest.mark.parametrize("expr", ["", "a..b", "a.", "[0]", "a[0]b", "a.[0]", "a[]", "a[0", "a]"])
def test_invalid_expressions(expr):
    with pytest.raises(ResolveFailure, match="invalid syntax"):
        parse_expr(expr)


def test_has_interpolation():
    assert has_interpolation("a ${b} c")
    assert not has_interpolation("a \\${b} c")
    assert not has_interpolation("a $b {c}")


def test_dict_rendering_in_cmd():
    ctx = context_with(
        {"args": {"lr": 0.1, "on": True, "off": False, "n": [1, "a b"], "sub": {"k": None}}}
    )
    assert ctx.resolve("run ${args}", key="cmd") == "run --lr 0.1 --on --n 1 'a b' --sub.k None"
    with pytest.raises(ResolveFailure, match="nested iterable"):
        context_with({"a": {"n": [[1]]}}).resolve("run ${a}", key="cmd")


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(names, scalars, min_size=1, max_size=4))
def test_values_round_trip_through_params_yaml(tmp_path_factory, params):
    root = tmp_path_factory.mktemp("rt")
    (root / ".git").mkdir()
    (root / "params.yaml").write_text(dump_yaml(params))
    meta = "\n".join(f"      {k}: ${{{k}}}" for k in params)
    (root / "dvc.yaml").write_text(f"stages:\n  s:\n    cmd: echo\n    meta:\n{meta}\n")
    (stage,) = load_pipeline_file(Repo(root), "dvc.yaml").stages
    for key, value in params.items():
        got = stage.meta[key]
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got)
        else:
            assert got == value and type(got) is type(value)


# --- DVC as the oracle ------------------------------------------------------------------

PARSER_SCRIPT = """
import json, sys
from dvc.parsing.interpolate import parse_expr, ParseError
out = []
for expr in json.load(sys.stdin):
    try:
        out.append(parse_expr(expr))
    except ParseError:
        out.append(None)
print(json.dumps(out))
"""


def random_expressions(count: int) -> list[str]:
    rng = random.Random(1234)
    alphabet = ["a", "b", "0", "1", "-1", ".", "[", "]", " ", "x_y", "\t", "$", "{", "@"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7))) for _ in range(count)]


@pytest.mark.oracle
@needs_dvc
def test_expression_grammar_matches_dvc():
    exprs = random_expressions(600)
    done = subprocess.run(
        [str(DVC_PYTHON), "-c", PARSER_SCRIPT],
        input=json.dumps(exprs),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    theirs = json.loads(done.stdout)
    ours = []
    for expr in exprs:
        try:
            ours.append(".".join(parse_expr(expr)))
        except ResolveFailure:
            ours.append(None)
    mismatches = [(e, o, t) for e, o, t in zip(exprs, ours, theirs, strict=True) if o != t]
    assert not mismatches, mismatches[:10]
    assert sum(t is not None for t in theirs) > 100  # the sample has many valid ones


RENDER_SCRIPT = """
import json, sys
from dvc.repo import Repo
repo = Repo(sys.argv[1])
print(json.dumps({s.name: s.cmd for s in repo.index.stages}))
"""


@pytest.mark.oracle
@needs_dvc
def test_rendering_matches_dvc(make_project):
    root = make_project(
        {
            ".dvc": {"config": ""},
            "params.yaml": """
            small: 1e-5
            big: 1.5e+20
            third: 0.30000000000000004
            negzero: -0.0
            inf: .inf
            huge: 123456789012345678901234567890
            flag: false
            nothing: null
            text: "it's a \\"test\\""
            uni: "naïve ☃"
            args:
              lr: 1e-3
              name: "two words"
              quote: "it's"
              on: true
              off: false
              list: [1, "x y", 2.5]
              nested: {deep: {k: v}}
            """,
            "dvc.yaml": r"""
            stages:
              s:
                cmd: >-
                  echo ${small} ${big} ${third} ${negzero} ${inf} ${huge} ${flag}
                  ${nothing} ${text} ${uni} ${args} \${esc} $${small}
            """,
        }
    )
    done = subprocess.run(
        [str(DVC_PYTHON), "-c", RENDER_SCRIPT, str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DVC_NO_ANALYTICS": "1", "PYTHONPATH": ""},
    )
    theirs = json.loads(done.stdout)
    ours = {s.name: s.cmd for s in load_pipeline_file(Repo(root), "dvc.yaml").stages}
    assert ours == theirs
