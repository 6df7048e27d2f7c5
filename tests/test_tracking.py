"""jupyter_exp.tracking: metrics and params files in DVCLive's layout, read by DVC."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dvc_oracle import run_dvc  # at import: the oracle venv is found under the real HOME

from jupyter_exp import tracking
from jupyter_exp.errors import InvalidArgumentError


@pytest.fixture(autouse=True)
def fresh_log(
    tmp_path: Path, in_dir: Callable[[Path], Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Each test starts in its own folder with no current log."""
    monkeypatch.delenv(tracking.ENV_DIR, raising=False)
    monkeypatch.setattr(tracking, "_CURRENT", None)
    yield in_dir(tmp_path)


def test_layout_is_dvclives(fresh_log: Path) -> None:
    for step, loss in enumerate([0.9, 0.5, 0.25]):
        tracking.log_metric("train/loss", loss, step=step)
    tracking.log_metric("accuracy", 0.75)
    live = fresh_log / "dvclive"
    assert sorted(p.relative_to(live).as_posix() for p in live.rglob("*") if p.is_file()) == [
        "metrics.json",
        "plots/metrics/train/loss.tsv",
    ]
    # DVCLive's summary: json.dump(indent=4) and a newline, "step" first when steps are used.
    assert (live / "metrics.json").read_text() == (
        '{\n    "step": 2,\n    "train": {\n        "loss": 0.25\n    },\n    "accuracy": 0.75\n}\n'
    )
    assert (live / "plots/metrics/train/loss.tsv").read_text() == (
        "step\tloss\n0\t0.9\n1\t0.5\n2\t0.25\n"
    )


def test_values_are_checked_and_made_json_safe(fresh_log: Path) -> None:
    tracking.log_metric("nan", float("nan"))
    tracking.log_metric("inf", float("-inf"))
    tracking.log_metric("count", 3)
    np = pytest.importorskip("numpy")
    tracking.log_metric("np", np.float32(0.5), step=0)
    summary = json.loads((fresh_log / "dvclive" / "metrics.json").read_text())
    assert summary == {"nan": "nan", "inf": "-inf", "count": 3, "np": 0.5, "step": 0}
    for bad in ("0.5", None, True, [1]):
        with pytest.raises(InvalidArgumentError, match="must be a number"):
            tracking.log_metric("bad", bad)  # type: ignore[arg-type]
    for name in ("", "/x", "a//b", "../up"):
        with pytest.raises(InvalidArgumentError, match="invalid metric name"):
            tracking.log_metric(name, 1)
    with pytest.raises(InvalidArgumentError, match="step must be an integer"):
        tracking.log_metric("x", 1, step=1.5)  # type: ignore[arg-type]


def test_params_are_merged_into_params_yaml(fresh_log: Path) -> None:
    tracking.log_params({"model": "resnet", "layers": (1, 2)})
    tracking.log_param("lr", 0.01)
    tracking.log_params({"model": "vit", "opt": {"name": "adam"}})
    path = fresh_log / "dvclive" / "params.yaml"
    assert path.read_text() == ("model: vit\nlayers:\n- 1\n- 2\nlr: 0.01\nopt:\n  name: adam\n")
    with pytest.raises(InvalidArgumentError, match="params must be a mapping"):
        tracking.log_params([("a", 1)])  # type: ignore[arg-type]


def test_a_new_log_replaces_an_old_run_unless_resumed(fresh_log: Path) -> None:
    tracking.log_metric("loss", 1.0, step=0)
    tracking.log_params({"a": 1})
    tracking.log_metric("old", 1)
    stale = fresh_log / "dvclive" / "plots" / "metrics" / "gone.tsv"
    stale.write_text("step\tgone\n0\t1\n")
    tracking.start()  # a new run: earlier files go
    tracking.log_metric("loss", 0.5, step=0)
    live = fresh_log / "dvclive"
    assert json.loads((live / "metrics.json").read_text()) == {"loss": 0.5, "step": 0}
    assert not stale.exists() and not (live / "params.yaml").exists()
    assert (live / "plots/metrics/loss.tsv").read_text() == "step\tloss\n0\t0.5\n"
    tracking.start(resume=True)  # picks up where the log was
    tracking.log_metric("loss", 0.25, step=1)
    assert json.loads((live / "metrics.json").read_text()) == {"loss": 0.25, "step": 1}
    assert (live / "plots/metrics/loss.tsv").read_text() == "step\tloss\n0\t0.5\n1\t0.25\n"


def test_folder_and_json_plots_can_be_chosen(
    fresh_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tracking.ENV_DIR, "logs")
    tracking.log_metric("acc", 0.5)
    assert (fresh_log / "logs" / "metrics.json").exists()
    log = tracking.start("out", plots="json")
    tracking.log_metric("acc", 0.5, step=0)
    tracking.log_metric("acc", 0.75, step=1)
    assert log.plot_file("acc") == fresh_log / "out/plots/metrics/acc.json"
    assert json.loads(log.plot_file("acc").read_text()) == [
        {"step": 0, "acc": 0.5},
        {"step": 1, "acc": 0.75},
    ]
    with pytest.raises(InvalidArgumentError, match="plots format"):
        tracking.start(plots="csv")  # type: ignore[arg-type]


def test_usable_from_a_plain_script(fresh_log: Path) -> None:
    script = (
        "import jupyter_exp.tracking as t\n"
        "for i in range(2):\n"
        "    t.log_metric('loss', 1.0 / (i + 1), step=i)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=fresh_log, check=True)
    assert json.loads((fresh_log / "dvclive" / "metrics.json").read_text()) == {
        "loss": 0.5,
        "step": 1,
    }


@pytest.mark.oracle
def test_dvc_reads_metrics_and_plots(
    fresh_log: Path, make_project: Callable[..., Path], in_dir: Callable[[Path], Path]
) -> None:
    root = make_project(
        {
            "dvc.yaml": (
                "metrics:\n- dvclive/metrics.json\n"
                "plots:\n- dvclive/plots/metrics:\n    x: step\n"
                "params:\n- dvclive/params.yaml\n"
            )
        }
    )
    in_dir(root)
    tracking.start()
    for step, loss in enumerate([0.9, 0.5]):
        tracking.log_metric("train/loss", loss, step=step)
    tracking.log_metric("accuracy", 0.75)
    tracking.log_params({"lr": 0.1})
    run_dvc(root, "init", "-q", check=True)
    metrics = json.loads(run_dvc(root, "metrics", "show", "--json", check=True).stdout)
    (workspace,) = metrics.values()  # DVC keys the workspace "" here
    assert workspace["data"]["dvclive/metrics.json"]["data"] == {
        "step": 1,
        "train": {"loss": 0.5},
        "accuracy": 0.75,
    }
    plots = json.loads(run_dvc(root, "plots", "show", "--json", check=True).stdout)
    (plot,) = plots["data"]["dvclive/plots/metrics/train/loss.tsv"]
    values = plot["content"]["data"]["values"]
    assert [(v["step"], v["loss"]) for v in values] == [("0", "0.9"), ("1", "0.5")]
    assert plot["content"]["encoding"]["x"]["field"] == "step"
