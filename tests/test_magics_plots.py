"""``%exp_plots``: Vega-Lite charts of experiments (rendered to SVG to prove them valid)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from exp_project import FILES
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_exp.ipython.plots import VEGALITE_MIME, Chart, steps_chart, to_svg

HAS_VL_CONVERT = importlib.util.find_spec("vl_convert") is not None


@pytest.fixture
def ip() -> Any:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_exp")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_exp")


@pytest.fixture
def project(make_project: Any, in_dir: Any, ip: Any) -> Path:
    root = in_dir(make_project(FILES))
    ip.run_line_magic("exp_run", "-n fast -S train.lr=0.3")
    ip.run_line_magic("exp_run", "-n slow -S train.lr=0.1 -S train.epochs=5")
    return root


def values(chart: Chart) -> list[dict[str, Any]]:
    return chart.spec["data"]["values"]


def test_metrics_across_experiments(ip: Any, project: Path) -> None:
    chart = ip.run_line_magic("exp_plots", "acc --hide-workspace")
    by_experiment = {r["experiment"]: r["value"] for r in values(chart) if r["name"] == "acc"}
    assert by_experiment == {"fast": 0.8, "slow": 0.6}  # main has no metrics
    bundle = chart._repr_mimebundle_()
    assert bundle[VEGALITE_MIME]["$schema"].endswith("vega-lite/v5.json")
    assert ("image/svg+xml" in bundle) == HAS_VL_CONVERT
    if HAS_VL_CONVERT:
        assert bundle["image/svg+xml"].startswith("<svg")


def test_parallel_coordinates_of_params_against_a_metric(ip: Any, project: Path) -> None:
    chart = ip.run_line_magic("exp_plots", "acc --parallel --hide-workspace")
    assert chart.spec["encoding"]["x"]["sort"] == ["train.lr", "train.epochs", "acc"]
    slow = [r for r in values(chart) if r["experiment"] == "slow"]
    assert {r["name"]: r["value"] for r in slow} == {"train.lr": 0.1, "train.epochs": 5, "acc": 0.6}
    assert {r["colour"] for r in slow} == {0.6}
    if HAS_VL_CONVERT:
        assert to_svg(chart.spec).startswith("<svg")


def test_mistakes_are_usage_errors(ip: Any, project: Path) -> None:
    with pytest.raises(UsageError, match=r"no numeric metric named 'nope'.*acc"):
        ip.run_line_magic("exp_plots", "nope")
    with pytest.raises(UsageError, match="no checkpoint experiment"):
        ip.run_line_magic("exp_plots", "--steps")
    with pytest.raises(UsageError, match=r"no numeric param named 'train\.nope'"):
        ip.run_line_magic("exp_plots", "--parallel --param train.nope")


def test_steps_chart_draws_a_line_per_experiment() -> None:
    frame = pd.DataFrame(
        {
            "Experiment": ["a", "a", "b", "b"],
            "Step": pd.array([1, 2, 1, None], dtype="Int64"),
            "loss": [0.5, 0.3, 0.6, 0.4],
        }
    )
    chart = steps_chart(frame, ["loss"])
    assert [(r["experiment"], r["step"], r["value"]) for r in values(chart)] == [
        ("a", 1, 0.5),
        ("a", 2, 0.3),
        ("b", 1, 0.6),
    ]
    if HAS_VL_CONVERT:
        assert to_svg(chart.spec).startswith("<svg")


def test_checkpoint_steps_of_a_real_run(ip: Any, make_project: Any, in_dir: Any) -> None:
    from checkpoint_project import FILES as CHECKPOINT_FILES

    in_dir(make_project(CHECKPOINT_FILES))
    ip.run_line_magic("exp_run", "-n ckpt")
    chart = ip.run_line_magic("exp_plots", "epoch --steps")
    steps = sorted((r["step"], r["value"]) for r in values(chart) if r["experiment"] == "ckpt")
    assert steps == [(0, 1), (1, 2), (2, 3), (3, 3)]  # Step 0 is the first checkpoint


def test_parallel_defaults_to_varying_params_and_rows_with_the_metric() -> None:
    from jupyter_exp.ipython.plots import choose_chart

    frame = pd.DataFrame(
        {
            "Experiment": ["a", "b", "c"],
            "lr": [0.1, 0.2, 0.3],
            "seed": pd.array([7, 7, 7], dtype="Int64"),
            "acc": [0.5, 0.7, None],
        }
    )
    kinds = {"lr": "param", "seed": "param", "acc": "metric"}
    chart = choose_chart(frame, kinds, parallel=True)
    assert chart.spec["encoding"]["x"]["sort"] == ["lr", "acc"]  # seed never changes
    assert {r["experiment"] for r in values(chart)} == {"a", "b"}  # c has no acc
    forced = choose_chart(frame, kinds, ["acc"], parallel=True, params=["seed", "lr"])
    assert forced.spec["encoding"]["x"]["sort"] == ["seed", "lr", "acc"]
