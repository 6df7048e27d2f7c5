"""Our experiments against real DVC 3: it lists and applies ours, we find its own, and the
same run gets the same experiment hash and ``dvc.lock``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_tree
from exp_project import FILES, git_out, show, tree_files

from jupyter_exp import Project
from jupyter_exp.experiments.lookup import find_experiment, list_experiments
from jupyter_exp.git import Git

pytest_plugins = ["dvc_oracle"]
pytestmark = pytest.mark.oracle


@pytest.fixture
def project(make_project) -> Path:
    return make_project(FILES)


def _exp_show(dvc, root: Path) -> dict[str, dict]:
    """``dvc exp show --json``: experiment name -> its first rev's data."""
    data = json.loads(dvc(root, "exp", "show", "--json").stdout)
    found = {}
    for baseline in data:
        for exp in baseline.get("experiments") or []:
            found[exp["name"]] = exp["revs"][0]["data"]
    return found


def test_dvc_exp_show_lists_our_experiments_with_params_and_metrics(dvc, project: Path) -> None:
    api = Project(project)
    ran = api.exp_run(params=["train.lr=0.3"], name="ours-ws")
    temp = api.exp_run(params=["train.lr=0.4"], name="ours-temp", temp=True)
    (project / "model.bin").write_text("by hand\n")
    saved = api.exp_save(name="ours-saved")

    shown = _exp_show(dvc, project)
    assert set(shown) == {"ours-ws", "ours-temp", "ours-saved"}
    for name, result, lr in ((ran.name, ran, 0.3), (temp.name, temp, 0.4)):
        data = shown[name]
        assert data["rev"] == result.sha
        assert data["params"]["params.yaml"]["data"]["train"] == {"lr": lr, "epochs": 2}
        assert data["metrics"]["metrics.json"]["data"]["acc"] == pytest.approx(0.5 + lr)
    assert shown["ours-saved"]["rev"] == saved.sha


def test_dvc_exp_apply_of_ours_restores_files_and_outputs(dvc, project: Path) -> None:
    api = Project(project)
    first = api.exp_run(params=["train.lr=0.3"], name="first")
    api.exp_run(params=["train.lr=0.6"], name="second")
    assert "lr=0.6" in (project / "model.bin").read_text()

    dvc(project, "exp", "apply", "first")
    assert "lr: 0.3" in (project / "params.yaml").read_text()
    assert (project / "model.bin").read_text() == "model lr=0.3 data=HELLO\n"
    assert (project / "dvc.lock").read_text().rstrip("\n") == show(project, first.sha, "dvc.lock")
    status = dvc(project, "status", "--json")
    assert json.loads(status.stdout) == {}


def test_dvc_exp_apply_of_a_temp_experiment(dvc, project: Path) -> None:
    Project(project).repro()
    Project(project).exp_run(params=["train.lr=0.45"], name="from-temp", temp=True)
    dvc(project, "exp", "apply", "from-temp")
    assert (project / "model.bin").read_text() == "model lr=0.45 data=HELLO\n"
    assert json.loads(dvc(project, "status", "--json").stdout) == {}


def test_we_find_experiments_dvc_made(dvc, project: Path) -> None:
    dvc(project, "exp", "run", "-S", "train.lr=0.3", "-n", "dvc-made")
    gitobj = Git(project)
    names = [e.name for e in list_experiments(gitobj, git_out(project, "rev-parse", "HEAD"))]
    assert names == ["dvc-made"]
    found = find_experiment(gitobj, "dvc-made")
    assert "lr: 0.3" in show(project, found.sha, "params.yaml")
    # And a name DVC used is taken for us too.
    from jupyter_exp.errors import ExperimentExistsError

    with pytest.raises(ExperimentExistsError):
        Project(project).exp_run(name="dvc-made")


def test_same_run_same_experiment_hash_and_lock_as_dvc(dvc, make_project) -> None:
    theirs = make_project(FILES, name="theirs")
    ours = make_project(FILES, name="ours")
    dvc(theirs, "exp", "run", "-S", "train.lr=0.3", "-S", "+train.seed=1", "-n", "x")
    result = Project(ours).exp_run(params=["train.lr=0.3", "+train.seed=1"], name="x")

    their_sha = find_experiment(Git(theirs), "x").sha
    message = git_out(theirs, "log", "-1", "--format=%s", their_sha)
    assert message == f"dvc: commit experiment {result.exp_hash}"
    assert git_out(ours, "log", "-1", "--format=%s", result.sha) == message
    for path in ("dvc.lock", "params.yaml", "metrics.json"):
        assert show(ours, result.sha, path) == show(theirs, their_sha, path), path
    # DVC leaves its new .gitignore out of the experiment; we keep it (it is the run's).
    assert tree_files(theirs, their_sha) | {".gitignore"} == tree_files(ours, result.sha)


def test_save_hash_matches_dvc_exp_save(dvc, make_project) -> None:
    roots = [make_project(FILES, name=n) for n in ("dvc-save", "our-save")]
    for root in roots:
        Project(root).repro()
        write_tree(root, {"model.bin": "edited\n"})
    dvc(roots[0], "exp", "save", "-n", "s")
    result = Project(roots[1]).exp_save(name="s")
    their_sha = find_experiment(Git(roots[0]), "s").sha
    assert git_out(roots[0], "log", "-1", "--format=%s", their_sha) == (
        f"dvc: commit experiment {result.exp_hash}"
    )
    assert show(roots[0], their_sha, "dvc.lock") == show(roots[1], result.sha, "dvc.lock")
