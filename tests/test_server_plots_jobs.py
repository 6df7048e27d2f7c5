"""GET plots/specs and DELETE jobs/{id} on a real jupyter_server (pytest-jupyter)."""

# The fixtures imported from test_server are test parameters of the same name.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jupyter_server")
pytest.importorskip("pytest_jupyter")

import vl_convert
from conftest import git, write_tree
from exp_project import FILES, exp_refs
from plots_project import PLOTS_FILES, loss_at
from pytest_jupyter.jupyter_server import *  # noqa: F403
from test_cancel import SLOW, alive
from test_server import api, jp_server_config, run_async  # noqa: F401 (fixtures)

from jupyter_exp import Project


def committed(root: Path, files: dict[str, Any]) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_tree(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def plots_dir(jp_root_dir: Path) -> Path:
    """The plots project at ``<root>/plots`` with experiments ``fast`` and ``slow``."""
    root = committed(jp_root_dir / "plots", PLOTS_FILES)
    project = Project(root)
    project.exp_run(name="fast", params=["train.lr=0.3"])
    project.exp_run(name="slow", params=["train.lr=0.1"])
    return root


@pytest.fixture
def slow_dir(jp_root_dir: Path) -> Path:
    """The experiment project whose ``train`` stage waits a minute (see test_cancel)."""
    dvc_yaml = FILES["dvc.yaml"].replace("cmd: python train.py", f"cmd: {SLOW}")
    return committed(jp_root_dir / "slow", {**FILES, "dvc.yaml": dvc_yaml})


# --- plots/specs --------------------------------------------------------------------------


@run_async
async def test_specs_of_each_kind(api, plots_dir: Path) -> None:
    status, body = await api("GET", "plots/specs", params={"path": "plots"})
    assert status == 200, body
    (metrics,) = body["specs"]
    assert metrics["title"] == "metrics acc across experiments"
    assert {r["experiment"] for r in metrics["spec"]["data"]["values"]} == {
        "workspace",
        "fast",
        "slow",
    }
    vl_convert.vegalite_to_svg(metrics["spec"])

    wanted = [("path", "plots"), ("kind", "dvc"), ("experiments", "fast"), ("experiments", "main")]
    status, body = await api("GET", "plots/specs", params=wanted)
    assert status == 200, body
    assert [s["title"] for s in body["specs"]] == ["acc-curve", "logs.csv", "preds.json"]
    logs = body["specs"][1]["spec"]
    assert [r["y"] for r in logs["data"]["values"]] == loss_at(0.3)  # main has no data
    for spec in body["specs"]:
        assert vl_convert.vegalite_to_svg(spec["spec"]).startswith("<svg")

    status, body = await api(
        "GET", "plots/specs", params={"path": "plots", "kind": "dvc", "target": "preds.json"}
    )
    assert [s["title"] for s in body["specs"]] == ["preds.json"]
    status, body = await api("GET", "plots/specs", params={"path": "plots", "kind": "parallel"})
    assert status == 200 and body["specs"][0]["spec"]["encoding"]["x"]["sort"][-1] == "acc"


@run_async
async def test_specs_bad_requests(api, plots_dir: Path) -> None:
    status, body = await api("GET", "plots/specs", params={"path": "plots", "kind": "pie"})
    assert status == 400 and body["argument"] == "kind", body
    status, body = await api(
        "GET", "plots/specs", params={"path": "plots", "kind": "metrics", "metric": "nope"}
    )
    assert status == 400 and body["error"] == "InvalidArgumentError", body
    status, body = await api("GET", "plots/specs", params={"path": "plots", "experiments": "x"})
    assert status == 404 and body["error"] == "ExperimentNotFoundError", body
    status, body = await api(
        "GET", "plots/specs", params={"path": "plots", "kind": "dvc", "target": "../x"}
    )
    assert status == 400 and body["argument"] == "target", body
    status, body = await api("GET", "plots/specs", params={"path": "../elsewhere"})
    assert status == 403, body


@run_async
async def test_a_bad_plot_definition_is_a_400_naming_it(api, jp_root_dir: Path) -> None:
    committed(
        jp_root_dir / "bad", {"dvc.yaml": "plots:\n- a.csv:\n    y: acc\n", "a.csv": "x\n1\n"}
    )
    status, body = await api("GET", "plots/specs", params={"path": "bad", "kind": "dvc"})
    assert status == 400, body
    assert body["error"] == "PlotDefinitionError"
    assert (body["path"], body["plot"], body["source"]) == ("dvc.yaml", "a.csv", "a.csv")


# --- DELETE jobs/{id} ---------------------------------------------------------------------


async def until(condition: Any, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)


@pytest.mark.slow
@run_async
async def test_cancel_a_running_and_a_pending_run(api, slow_dir: Path) -> None:
    status, first = await api("POST", "run", body={"path": "slow", "name": "first"})
    assert status == 202, first
    status, second = await api("POST", "run", body={"path": "slow", "name": "second"})
    assert status == 202, second
    first_id, second_id = first["job"]["id"], second["job"]["id"]
    await until(lambda: (slow_dir / "child.pid").is_file() and (slow_dir / "shell.pid").is_file())
    await asyncio.sleep(0.1)  # the pid files are written before `wait` starts

    # The second waits for the first (one job per project): it never starts.
    status, job = await api("DELETE", f"jobs/{second_id}")
    assert status == 200, job
    assert job["status"] == "cancelled" and job["cancellable"] is False and job["events"] == []

    status, job = await api("GET", f"jobs/{first_id}")
    assert job["status"] == "running" and job["cancellable"] is True
    status, job = await api("DELETE", f"jobs/{first_id}")
    assert status == 200, job
    assert job["status"] == "cancelled"
    assert job["error"]["error"] == "RunCancelledError" and job["error"]["stage"] == "train"
    for name in ("shell.pid", "child.pid"):
        assert not alive(int((slow_dir / name).read_text()))
    assert exp_refs(slow_dir) == {}
    # What the run did before the stop stays, as after Ctrl+C.
    assert (slow_dir / "prepared.txt").read_text() == "HELLO\n"

    status, body = await api("DELETE", f"jobs/{first_id}")
    assert status == 409 and "it is cancelled" in body["message"], body
    status, body = await api("DELETE", "jobs/" + "0" * 32)
    assert status == 404, body
    # The project is free again: a new run goes through.
    (slow_dir / "dvc.yaml").write_text(FILES["dvc.yaml"])
    status, third = await api("POST", "run", body={"path": "slow", "name": "third"})
    assert status == 202, third
    await until(lambda: "third" in " ".join(exp_refs(slow_dir)))
    assert os.path.exists(slow_dir / "model.bin")
