"""``exp run --queue --rev CHECKPOINT``: a queued run resumes a checkpoint, as ``--temp --rev``."""

from __future__ import annotations

from pathlib import Path

import pytest
from checkpoint_project import FILES, cached_model, chain, metrics_at, model_md5_at, run_git
from conftest import run_cli

from jupyter_exp import Project
from jupyter_exp.errors import ExperimentNotFoundError, InvalidArgumentError


@pytest.fixture
def project(make_project) -> Path:
    return make_project(FILES)


def _head(root: Path) -> str:
    return run_git(root, "rev-parse", "HEAD")


def _ref(root: Path, name: str) -> str:
    return run_git(root, "for-each-ref", "--format=%(objectname)", f"refs/exps/*/*/{name}")


def _epochs(root: Path, tip: str) -> list[int]:
    return [metrics_at(root, c)["epoch"] for c in chain(root, tip, _head(root))]


def test_queued_runs_continue_the_checkpoints_they_name(project: Path) -> None:
    base = Project(project).exp_run(name="base")
    commits = chain(project, base.sha, _head(project))
    assert _epochs(project, base.sha) == [1, 2, 3, 3]
    workspace_model = (project / "model.bin").read_text()

    (tip_entry,) = Project(project).exp_run(queue=True, rev="base")
    assert tip_entry.name == "base" and tip_entry.checkpoint["parent"] == base.sha
    (branch_entry,) = Project(project).exp_run(
        queue=True, rev=commits[1][:10], params=["train.lr=0.5"], name="branch"
    )
    assert branch_entry.checkpoint["name"] is None  # checkpoint 2 is not a tip
    assert (project / "model.bin").read_text() == workspace_model  # nothing ran yet

    finished = Project(project).exp_run(run_all=True)
    assert [e.state for e in finished] == ["Success", "Success"], [e.error for e in finished]

    # From the tip, by name: appended to that experiment.
    tip = _ref(project, "base")
    assert chain(project, tip, _head(project))[:4] == commits
    assert _epochs(project, tip) == [1, 2, 3, 3, 4, 5, 6, 6]
    # From checkpoint 2, with a new lr: a new experiment branching there.
    branch = _ref(project, "branch")
    assert chain(project, branch, _head(project))[:2] == commits[:2]
    assert _epochs(project, branch) == [1, 2, 3, 4, 5, 5]
    assert "lr=0.5" in cached_model(project, model_md5_at(project, branch))
    assert (project / "model.bin").read_text() == workspace_model  # workspace untouched


def test_a_sweep_from_a_checkpoint_starts_one_experiment_each(project: Path) -> None:
    base = Project(project).exp_run(name="base")
    entries = Project(project).exp_run(
        queue=True, rev="base", params=["train.epochs=1,2"], name="sweep"
    )
    assert [e.name for e in entries] == ["sweep-1", "sweep-2"]
    Project(project).exp_run(run_all=True)
    assert _ref(project, "base") == base.sha  # the resumed experiment keeps its tip
    assert _epochs(project, _ref(project, "sweep-1")) == [1, 2, 3, 3, 4, 4]
    assert _epochs(project, _ref(project, "sweep-2")) == [1, 2, 3, 3, 4, 5, 5]


def test_queue_rev_errors_before_queueing(project: Path, make_project) -> None:
    Project(project).exp_run(name="base")
    with pytest.raises(ExperimentNotFoundError):
        Project(project).exp_run(queue=True, rev="no-such-exp")
    with pytest.raises(InvalidArgumentError, match="--reset"):
        Project(project).exp_run(queue=True, rev="base", reset=True)
    with pytest.raises(InvalidArgumentError, match="--queue"):
        Project(project).exp_run(run_all=True, rev="base")
    plain = dict(FILES)
    plain["dvc.yaml"] = FILES["dvc.yaml"].replace("checkpoint: true", "cache: true")
    other = make_project(plain)
    Project(other).exp_run(name="plain")
    with pytest.raises(InvalidArgumentError, match="no stage has a checkpoint output"):
        Project(other).exp_run(queue=True, rev="plain")
    assert Project(project).queue_status().entries == []  # nothing was queued
    assert Project(other).queue_status().entries == []


def test_cli_queue_rev(project: Path) -> None:
    assert run_cli(project, "run", "-n", "cli").returncode == 0
    queued = run_cli(project, "run", "--queue", "--rev", "cli", "-S", "train.epochs=1")
    assert queued.returncode == 0, queued.stderr
    done = run_cli(project, "run", "--run-all")
    assert done.returncode == 0, done.stderr
    assert _epochs(project, _ref(project, "cli")) == [1, 2, 3, 3, 4, 4]
