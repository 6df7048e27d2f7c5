"""The demo project: built correctly, and `jupyter exp demo` runs it end to end."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git, run_cli

from jupyter_exp.demo import (
    DEFAULT_PARAMS,
    create_demo_project,
    read_metrics,
    set_param,
)
from jupyter_exp.errors import InvalidArgumentError

pytest_plugins = ["dvc_oracle"]


def test_create_demo_project_commits_a_clean_repository(tmp_path: Path) -> None:
    root = create_demo_project(tmp_path / "demo")
    assert root == (tmp_path / "demo").resolve()
    for name in ("dvc.yaml", "params.yaml", "data/raw.csv", "src/train.py", ".dvc/config"):
        assert (root / name).is_file(), name
    assert git(root, "status", "--porcelain") == ""
    assert len(git(root, "log", "--oneline").splitlines()) == 1
    tracked = git(root, "ls-files").split()
    assert ".dvc/config" in tracked and "dvc.yaml" in tracked
    assert (root / "data/raw.csv").read_text().count("\n") == 401


def test_demo_data_is_deterministic(tmp_path: Path) -> None:
    a = create_demo_project(tmp_path / "a")
    b = create_demo_project(tmp_path / "b")
    assert (a / "data/raw.csv").read_bytes() == (b / "data/raw.csv").read_bytes()


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file.txt").write_text("mine")
    with pytest.raises(InvalidArgumentError, match="not an empty directory"):
        create_demo_project(tmp_path / "busy")
    assert (tmp_path / "busy" / "file.txt").read_text() == "mine"


def test_set_param_rewrites_params_yaml(tmp_path: Path) -> None:
    root = create_demo_project(tmp_path / "demo")
    assert set_param(root, "train.lr", 0.5) == DEFAULT_PARAMS["train"]["lr"]
    text = (root / "params.yaml").read_text()
    assert "  lr: 0.5\n" in text
    assert "  epochs: 30\n" in text
    with pytest.raises(InvalidArgumentError):
        set_param(root, "train.nope", 1)


def test_stage_scripts_run_with_plain_python(tmp_path: Path) -> None:
    """The stages need nothing but the standard library."""
    root = create_demo_project(tmp_path / "demo")
    for argv in (
        ["src/prepare.py", "--test-ratio", "0.25", "--seed", "7"],
        ["src/train.py", "--lr", "0.5", "--epochs", "30"],
        ["src/evaluate.py"],
    ):
        subprocess.run(["python3", "-I", *argv], cwd=root, check=True, capture_output=True)
    metrics = read_metrics(root)
    assert set(metrics) == {"train.loss", "train.accuracy", "test.accuracy"}
    assert metrics["test.accuracy"] > 0.7


def test_demo_command_end_to_end(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    done = run_cli(tmp_path, "demo", str(target))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Created the demo project in {target.resolve()}" in out

    baseline = out.split("$ jupyter exp repro\n")[1]
    for stage in ("prepare", "train", "evaluate"):
        assert f"Running stage '{stage}':" in baseline
    # Each experiment re-runs only the stages that use train.lr.
    for name, override in (("lr-0.5", "train.lr=0.5"), ("lr-0.01", "train.lr=0.01")):
        run = out.split(f"$ jupyter exp run -S {override} -n {name}\n")[1].split("$ ")[0]
        assert "Stage 'prepare' didn't change, skipping" in run
        assert "Running stage 'prepare':" not in run
        assert "Running stage 'train':" in run and "Running stage 'evaluate':" in run
        assert f"Ran experiment(s): {name}" in run

    # exp show compares the baseline and both experiments, with their params and metrics.
    table = out.split("$ jupyter exp show\n")[1].split("The demo project is in")[0]
    lr05 = next(line for line in table.splitlines() if "[lr-0.5]" in line)
    lr001 = next(line for line in table.splitlines() if "[lr-0.01]" in line)
    assert "Success" in lr05 and "Success" in lr001
    assert " 0.5 " in lr05 and " 0.01 " in lr001
    assert "0.83" in lr05  # the larger learning rate gives the better test accuracy

    refs = git(target, "for-each-ref", "--format=%(refname)", "refs/exps/")
    assert sorted(ref.rsplit("/", 1)[1] for ref in refs.split()) == ["lr-0.01", "lr-0.5"]

    # The workspace is consistent: nothing left to run, baseline committed to Git.
    assert run_cli(target, "status").stdout == "Data and pipelines are up to date.\n"
    assert "lr: 0.01" in (target / "params.yaml").read_text()  # the last experiment
    assert "Baseline" in git(target, "log", "--oneline")
    again = run_cli(target, "repro")
    assert again.stdout.endswith("Data and pipelines are up to date.\n")


def test_demo_in_a_fresh_temp_dir(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "demo", "-q", env={"TMPDIR": str(tmp_path)})
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    (created,) = tmp_path.glob("jupyter-exp-demo-*")
    assert (created / "dvc.lock").is_file()


def test_demo_refuses_a_non_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("")
    done = run_cli(tmp_path, "demo", ".")
    assert done.returncode == 2
    assert done.stderr.startswith("ERROR: ") and "not an empty directory" in done.stderr


@pytest.mark.oracle
def test_dvc_agrees_the_demo_is_up_to_date(tmp_path: Path, dvc) -> None:
    target = tmp_path / "demo"
    assert run_cli(tmp_path, "demo", "-q", str(target)).returncode == 0
    status = dvc(target, "status")
    assert status.stdout.strip() == "Data and pipelines are up to date."
    repro = dvc(target, "repro")
    assert "Running stage" not in repro.stdout


@pytest.mark.oracle
def test_demo_lock_file_is_the_one_dvc_writes(tmp_path: Path, dvc) -> None:
    ours = create_demo_project(tmp_path / "ours")
    theirs = create_demo_project(tmp_path / "theirs")
    assert run_cli(ours, "repro", "-q").returncode == 0
    dvc(theirs, "repro", "-q")
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    for ignore in (".gitignore", "data/.gitignore"):
        assert (ours / ignore).read_text() == (theirs / ignore).read_text()
