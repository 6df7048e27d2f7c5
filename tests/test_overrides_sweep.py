"""Sweeps: the values of `a=1,2`, choice() and range(), and the combinations --queue
queues, in DVC's order (oracle: dvc.utils.hydra.get_hydra_sweeps)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_exp.core.overrides import Override, expand_sweeps, parse_override, parse_overrides
from jupyter_exp.core.overrides.sweep import MAX_SWEEP_VALUES
from jupyter_exp.errors import InvalidArgumentError

DVC_VENV = Path(
    os.environ.get("JUPYTER_EXP_DVC_VENV", os.path.expanduser("~/.cache/jupyter-exp/dvc-venv"))
)
DVC_PYTHON = DVC_VENV / "bin" / "python"


def sweep_of(text: str) -> tuple[Any, ...]:
    override = parse_override(text)
    assert override.is_sweep and override.value is None
    assert override.sweep is not None
    return override.sweep


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("a=1,2,3", (1, 2, 3)),
        ("a=x, 'y z', null", ("x", "y z", None)),
        ("a=[1,2],[3]", ([1, 2], [3])),
        ("a={x: 1},{x: 2}", ({"x": 1}, {"x": 2})),
        ("a=choice(1, 2)", (1, 2)),
        ("a=choice(1)", (1,)),
        ("a=range(3)", (0, 1, 2)),
        ("a=range(1, 10, 3)", (1, 4, 7)),
        ("a=range(10, 1, -3)", (10, 7, 4)),
        ("a=range(start=2, stop=4)", (2, 3)),
        ("a=range(0, 1, 0.25)", (0.0, 0.25, 0.5, 0.75)),
        # Hydra adds the exact decimal value of the binary float 0.1 (a bit more than
        # 0.1) yet 8 steps stay below the exact value of 0.8: stop is exclusive, and
        # still 0.8 comes out. Same values as DVC.
        ("a=range(0, 0.8, 0.1)", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7000000000000001, 0.8)),
        ("a=range(1, 2, 0.3)", (1.0, 1.3, 1.6, 1.9)),
        ("a=int(range(1.0, 3.0))", (1, 2)),
        ("a=float(1, 2)", (1.0, 2.0)),
        ("a=str(1, 2)", ("1", "2")),
        ("a=sort(3, 1, 2)", (1, 2, 3)),
        ("a=sort(b, a, reverse=true)", ("b", "a")),
        ("a=sort(range(3), reverse=true)", (2, 1, 0)),
        ("+a=1,2", (1, 2)),
        ("~a=1,2", (1, 2)),
    ],
)
def test_sweep_values(text: str, values: tuple[Any, ...]) -> None:
    assert sweep_of(text) == values
    assert [type(v) for v in sweep_of(text)] == [type(v) for v in values]


def test_range_too_long() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_override("a=range(0, 1000000)")
    assert str(info.value) == (
        "invalid override 'a=range(0, 1000000)': range() gives 1000000 values, "
        f"more than {MAX_SWEEP_VALUES}"
    )


def test_nested_choice_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="nesting choices is not supported"):
        parse_override("a=choice(choice(1, 2))")


def test_no_sweep_gives_one_combination_unchanged() -> None:
    overrides = parse_overrides(["a=1", "a=2", "+b=3"])
    assert expand_sweeps(overrides) == [overrides]
    assert expand_sweeps([]) == [[]]


def texts(combos: list[list[Override]]) -> list[list[str]]:
    return [[o.to_text() for o in combo] for combo in combos]


def test_product_order_first_override_varies_slowest() -> None:
    combos = expand_sweeps(parse_overrides(["a=1,2", "b=x,y", "c=0"]))
    assert texts(combos) == [
        ["a=1", "b=x", "c=0"],
        ["a=1", "b=y", "c=0"],
        ["a=2", "b=x", "c=0"],
        ["a=2", "b=y", "c=0"],
    ]
    assert all(not o.is_sweep for combo in combos for o in combo)


def test_grouped_by_file_then_key() -> None:
    combos = expand_sweeps(
        parse_overrides(["a=1,2", "p.json:b=3,4", "c=5", "params.yaml:d=6"]),
        default_file="params.yaml",
    )
    # params.yaml overrides (a, c, d) come first, then p.json's, as DVC groups per file.
    assert texts(combos) == [
        ["a=1", "c=5", "params.yaml:d=6", "p.json:b=3"],
        ["a=1", "c=5", "params.yaml:d=6", "p.json:b=4"],
        ["a=2", "c=5", "params.yaml:d=6", "p.json:b=3"],
        ["a=2", "c=5", "params.yaml:d=6", "p.json:b=4"],
    ]


def test_last_override_of_a_key_wins_in_the_first_place() -> None:
    combos = expand_sweeps(parse_overrides(["a=0", "b=1,2", "a=5,6", "+a=9"]))
    assert texts(combos) == [
        ["a=5", "b=1", "+a=9"],
        ["a=5", "b=2", "+a=9"],
        ["a=6", "b=1", "+a=9"],
        ["a=6", "b=2", "+a=9"],
    ]


def test_expanded_overrides_keep_file_and_op() -> None:
    (combo,) = expand_sweeps(parse_overrides(["cfg.toml:++train.lr=choice(0.1)"]))
    assert combo == [Override("cfg.toml", "force", "train.lr", 0.1)]
    assert combo[0].text == "cfg.toml:++train.lr=0.1"


def test_values_keep_their_type_when_expanded() -> None:
    combos = expand_sweeps(parse_overrides(["a='1',2", "b=[1],{x: null}"]))
    assert [[o.value for o in combo] for combo in combos] == [
        ["1", [1]],
        ["1", {"x": None}],
        [2, [1]],
        [2, {"x": None}],
    ]
    assert isinstance(combos[0][0].value, str)


# --- oracle ---------------------------------------------------------------------------------

_ORACLE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from dvc.utils.cli_parse import to_path_overrides
from dvc.utils.hydra import get_hydra_sweeps
from hydra.core.override_parser.overrides_parser import OverridesParser

def enc(v):
    if v is None: return ["null"]
    if isinstance(v, bool): return ["bool", v]
    if isinstance(v, int): return ["int", v]
    if isinstance(v, float): return ["float", repr(v)]
    if isinstance(v, str): return ["str", v]
    if isinstance(v, list): return ["list", [enc(x) for x in v]]
    return ["dict", [[enc(k), enc(x)] for k, x in v.items()]]

parser = OverridesParser.create()
out = []
for items in json.load(sys.stdin):
    combos = []
    for sweep in get_hydra_sweeps(to_path_overrides(items)):
        combo = []
        for path, lines in sweep.items():
            for o in parser.parse_overrides(lines):
                op = {"CHANGE": "set", "ADD": "add", "FORCE_ADD": "force", "DEL": "delete"}
                combo.append([path, op[o.type.name], o.key_or_group, enc(o.value())])
        combos.append(combo)
    out.append(combos)
json.dump(out, sys.stdout)
"""

SWEEP_CASES = [
    ["a=1,2", "b=3,4"],
    ["a=1,2", "f.yaml:b=x,y", "c=5"],
    ["f.json:a=range(0,3)", "b=choice([1],[2])", "params.yaml:c=1,2"],
    ["a=1", "a=2,3"],
    ["a=1,2", "+a=3", "++b=4,5"],
    ["a=range(0,1,0.25)", "b=range(5,0,-2)"],
    ["a=range(0.1,0.5,0.1)"],
    ["~a", "b=1,2"],
    ["~a=1,2"],
    ["a='x y',z", "b={x: 1},{y: [2]}"],
    ["a=sort(3,1,2)", "x.yaml:b=choice(true,false)", "y.yaml:c=null,1e-3"],
    ["p.yaml:a=1,2", "q.yaml:a=3,4", "p.yaml:b=5"],
]


def _enc(v: Any) -> Any:
    if v is None:
        return ["null"]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        return ["float", repr(v)]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, list):
        return ["list", [_enc(x) for x in v]]
    return ["dict", [[_enc(k), _enc(x)] for k, x in v.items()]]


@pytest.mark.oracle
@pytest.mark.skipif(not DVC_PYTHON.exists(), reason="DVC oracle venv not installed")
def test_expansion_matches_dvc() -> None:
    done = subprocess.run(
        [str(DVC_PYTHON), "-c", _ORACLE],
        input=json.dumps(SWEEP_CASES),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    for items, theirs in zip(SWEEP_CASES, json.loads(done.stdout), strict=True):
        ours = [
            [[o.file or "params.yaml", o.op, o.key, _enc(o.value)] for o in combo]
            for combo in expand_sweeps(parse_overrides(items))
        ]
        assert ours == theirs, items
