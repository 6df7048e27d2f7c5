"""``exp run`` in the workspace on real Git repositories: names, overrides, contents,
identical results, failures, and that HEAD, the index and the branches never move."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import git, run_cli
from exp_project import FILES, exp_refs, git_out, git_state, show, tree_files

from jupyter_exp import Project
from jupyter_exp.errors import (
    ExperimentExistsError,
    InvalidArgumentError,
    InvalidExperimentNameError,
    MissingParamError,
    StageFailedError,
    StageNotFoundError,
)
from jupyter_exp.experiments.executors.base import record
from jupyter_exp.experiments.names import ADJECTIVES, NOUNS
from jupyter_exp.experiments.refs import ExpRef
from jupyter_exp.git import Git


@pytest.fixture
def project(make_project) -> Path:
    return make_project(FILES)


def test_run_records_one_commit_on_head_and_leaves_results_in_workspace(project: Path) -> None:
    before = git_state(project)
    result = Project(project).exp_run(params=["train.lr=0.3"])

    assert result.recorded and result.identical_to is None
    head = before[0]
    assert result.baseline == head
    assert result.ref == str(ExpRef(head, result.name))
    assert exp_refs(project) == {result.ref: result.sha}
    assert git_out(project, "rev-parse", f"{result.sha}^@") == head  # one parent: HEAD
    assert git_out(project, "log", "-1", "--format=%s", result.sha) == (
        f"dvc: commit experiment {result.exp_hash}"
    )
    assert re.fullmatch(r"[0-9a-f]{64}", result.exp_hash)
    # Nothing moved; the results stay in the workspace.
    assert git_state(project) == before
    assert "lr: 0.3  # learning rate" in (project / "params.yaml").read_text()
    assert (project / "model.bin").read_text().startswith("model lr=0.3")
    assert result.metrics == {"metrics.json": {"acc": 0.8, "secret": None}}
    assert result.changed_files == ["params.yaml"]
    assert result.overrides == ["train.lr=0.3"]
    assert result.repro.ran == ["prepare", "train"]


def test_commit_holds_what_git_should_track_and_no_ignored_file(project: Path) -> None:
    result = Project(project).exp_run(params=["train.lr=0.3"])
    files = tree_files(project, result.sha)
    # Untracked before the run, but files a run writes for Git: all recorded.
    assert {"dvc.lock", ".gitignore", "metrics.json"} <= files
    # Cached outputs are git-ignored: the commit's dvc.lock points at the cache instead.
    assert not files & {"model.bin", "prepared.txt"}
    assert "stage_env.json" not in files  # undeclared, untracked: not the run's
    assert "lr: 0.3  # learning rate" in show(project, result.sha, "params.yaml")
    lock = show(project, result.sha, "dvc.lock")
    assert lock == (project / "dvc.lock").read_text().rstrip("\n")
    assert json.loads(show(project, result.sha, "metrics.json"))["acc"] == 0.8


def test_staged_and_unstaged_edits_are_recorded_and_the_index_is_kept(project: Path) -> None:
    (project / "data.txt").write_text("staged\n")
    git(project, "add", "data.txt")
    (project / "notes.md").write_text("staged new file\n")
    git(project, "add", "notes.md")
    (project / "prepare.py").write_text(FILES["prepare.py"] + "print('edited, not staged')\n")
    before = git_state(project)
    result = Project(project).exp_run()

    assert git_state(project) == before  # the staged part of status is unchanged
    assert show(project, result.sha, "data.txt") == "staged"
    assert show(project, result.sha, "notes.md") == "staged new file"
    assert "edited, not staged" in show(project, result.sha, "prepare.py")
    assert (project / "prepared.txt").read_text() == "STAGED\n"


def test_stage_commands_see_the_experiment_environment(project: Path) -> None:
    result = Project(project).exp_run(name="env-check")
    seen = json.loads((project / "stage_env.json").read_text())
    assert seen["DVC_EXP_NAME"] == "env-check" == result.name
    assert seen["DVC_EXP_BASELINE_REV"] == git_out(project, "rev-parse", "HEAD")
    assert Path(seen["DVC_ROOT"]) == project.resolve()


# --- names ---------------------------------------------------------------------------------


def test_random_names_are_adjective_noun_and_distinct(project: Path) -> None:
    api = Project(project)
    first = api.exp_run(params=["train.lr=0.2"])
    second = api.exp_run(params=["train.lr=0.4"])
    for result in (first, second):
        adjective, noun = result.name.split("-")
        assert adjective in ADJECTIVES and noun in NOUNS
    assert first.name != second.name
    assert len(exp_refs(project)) == 2


@pytest.mark.parametrize(
    "name", ["bad name", "a..b", "x/y", "-dash", "end.", "x.lock", "tab\there", "exec", "a~1"]
)
def test_invalid_name_is_refused_before_anything_runs(project: Path, name: str) -> None:
    params = (project / "params.yaml").read_bytes()
    with pytest.raises(InvalidExperimentNameError) as caught:
        Project(project).exp_run(params=["train.lr=0.5"], name=name)
    assert "\n" not in str(caught.value)
    assert (project / "params.yaml").read_bytes() == params
    assert not (project / "dvc.lock").exists() and exp_refs(project) == {}


def test_existing_name_is_refused_before_anything_runs_and_force_replaces(project: Path) -> None:
    api = Project(project)
    first = api.exp_run(params=["train.lr=0.2"], name="lr")
    params = (project / "params.yaml").read_bytes()
    lock = (project / "dvc.lock").read_bytes()

    with pytest.raises(ExperimentExistsError, match="experiment 'lr' already exists"):
        api.exp_run(params=["train.lr=0.6"], name="lr")
    assert (project / "params.yaml").read_bytes() == params  # -S not applied
    assert (project / "dvc.lock").read_bytes() == lock
    assert exp_refs(project) == {first.ref: first.sha}

    again = api.exp_run(params=["train.lr=0.6"], name="lr", force=True)
    assert again.ref == first.ref and again.sha != first.sha
    assert exp_refs(project) == {first.ref: again.sha}
    assert "lr: 0.6" in show(project, again.sha, "params.yaml")
    assert again.repro.ran == ["prepare", "train"]  # force also re-runs every stage


def test_same_name_on_another_baseline_is_free(project: Path) -> None:
    api = Project(project)
    api.exp_run(params=["train.lr=0.2"], name="same")
    git(project, "commit", "-q", "--allow-empty", "-m", "next")
    result = api.exp_run(params=["train.lr=0.4"], name="same")
    assert result.recorded and len(exp_refs(project)) == 2


def test_a_random_name_taken_meanwhile_is_redrawn(project: Path) -> None:
    """The race of two recorders: the ref exists by the time we write it."""
    api = Project(project)
    taken = api.exp_run(params=["train.lr=0.2"], name="taken")
    (project / "data.txt").write_text("other\n")
    gitobj = Git(project)
    tree = gitobj.workspace_tree()
    head = gitobj.head()
    assert head is not None
    done = record(
        gitobj, baseline=head, tree=tree, name="taken", explicit=False, force=False, message="m"
    )
    assert done.ref is not None and done.name != "taken"
    assert exp_refs(project)[taken.ref] == taken.sha  # the other writer's ref is intact
    with pytest.raises(ExperimentExistsError):
        (project / "data.txt").write_text("third\n")
        record(
            gitobj,
            baseline=head,
            tree=gitobj.workspace_tree(),
            name="taken",
            explicit=True,
            force=False,
            message="m",
        )


# --- overrides -------------------------------------------------------------------------------


def test_overrides_are_applied_recorded_and_keep_comments(project: Path) -> None:
    result = Project(project).exp_run(params=["train.lr=0.25", "+train.seed=7", "~train.epochs"])
    recorded = show(project, result.sha, "params.yaml")
    assert recorded == "# training knobs\ntrain:\n  lr: 0.25  # learning rate\n  seed: 7"
    lock = show(project, result.sha, "dvc.lock")
    assert "lr: 0.25" in lock and "seed: 7" in lock


def test_bad_override_changes_nothing(project: Path) -> None:
    params = (project / "params.yaml").read_bytes()
    api = Project(project)
    with pytest.raises(MissingParamError):
        api.exp_run(params=["train.lr=0.5", "train.nope=1"])
    with pytest.raises(InvalidArgumentError, match="Sweep overrides can't be used without"):
        api.exp_run(params=["train.lr=0.5,0.6"])
    with pytest.raises(InvalidArgumentError):
        api.exp_run(params=["train.lr=[unclosed"])
    assert (project / "params.yaml").read_bytes() == params
    assert not (project / "dvc.lock").exists() and exp_refs(project) == {}


def test_bad_target_is_refused_before_overrides_are_written(project: Path) -> None:
    params = (project / "params.yaml").read_bytes()
    with pytest.raises(StageNotFoundError):
        Project(project).exp_run(["nope"], params=["train.lr=0.5"])
    assert (project / "params.yaml").read_bytes() == params


# --- nothing new -------------------------------------------------------------------------------


def test_identical_result_is_not_recorded_again(project: Path) -> None:
    api = Project(project)
    first = api.exp_run(params=["train.lr=0.3"])
    again = api.exp_run(params=["train.lr=0.3"])
    assert not again.recorded and again.identical_to == first.name
    assert again.sha == first.sha and again.repro.ran == []
    assert exp_refs(project) == {first.ref: first.sha}
    named = api.exp_run(name="other-name")  # a new name does not make it new
    assert named.identical_to == first.name and exp_refs(project) == {first.ref: first.sha}


def test_run_identical_to_head_records_nothing(project: Path) -> None:
    Project(project).repro()
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "ran")
    result = Project(project).exp_run()
    assert not result.recorded and result.identical_to == "HEAD"
    assert result.sha == git_out(project, "rev-parse", "HEAD")
    assert exp_refs(project) == {}


# --- failures -----------------------------------------------------------------------------------


def test_failed_stage_records_nothing_and_keeps_finished_stages(project: Path) -> None:
    before = git_state(project)
    with pytest.raises(StageFailedError) as caught:
        Project(project).exp_run(params=["+train.fail=true"])
    assert caught.value.returncode == 3
    assert exp_refs(project) == {}
    assert git_state(project) == before
    lock = (project / "dvc.lock").read_text()
    assert "prepare:" in lock and "train:" not in lock  # the finished stage's lock is kept
    assert "fail: true" in (project / "params.yaml").read_text()  # as the run left it
    assert (project / "prepared.txt").exists()


def test_project_in_a_subfolder_of_the_git_repository(make_project) -> None:
    root = make_project({"sub": FILES, "README": "top\n"})
    result = Project(root / "sub").exp_run(params=["train.lr=0.3"])
    files = tree_files(root, result.sha)
    assert {"README", "sub/dvc.lock", "sub/metrics.json", "sub/params.yaml"} <= files
    assert "lr: 0.3" in show(root, result.sha, "sub/params.yaml")


def test_empty_repository_is_a_clear_error(make_project) -> None:
    root = make_project(FILES, commit=False)
    from jupyter_exp.errors import ExperimentError

    with pytest.raises(ExperimentError, match="make a first commit"):
        Project(root).exp_run()


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_run_prints_dvc_lines_and_one_line_errors(project: Path) -> None:
    done = run_cli(project, "run", "-S", "train.lr=0.3", "-n", "cli-exp")
    assert done.returncode == 0, done.stderr
    assert "Running stage 'train':" in done.stdout
    assert done.stdout.endswith(
        "Ran experiment(s): cli-exp\nExperiment results have been applied to your workspace.\n"
    )
    again = run_cli(project, "run", "-S", "train.lr=0.3")
    assert "identical to experiment 'cli-exp'" in again.stdout
    dup = run_cli(project, "run", "-n", "cli-exp")
    assert dup.returncode == 1
    assert dup.stderr == "ERROR: experiment 'cli-exp' already exists; use force to overwrite it\n"
    bad = run_cli(project, "run", "-n", "no good")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    failed = run_cli(project, "run", "-S", "+train.fail=true")
    assert failed.returncode == 3 and "ERROR: stage 'train' failed" in failed.stderr


def test_ctrl_c_records_nothing_and_keeps_finished_stages(project: Path) -> None:
    import signal
    import subprocess
    import time

    go = project.parent / "never"
    proc = subprocess.Popen(
        ["jupyter-exp", "run", "-S", "train.lr=0.3"],
        cwd=project,
        env={**os.environ, "WAIT_FOR": str(go)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = Path(str(go) + ".started")
    deadline = time.time() + 30
    while not started.exists():
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert exp_refs(project) == {}
    lock = (project / "dvc.lock").read_text()
    assert "prepare:" in lock and "train:" not in lock
