"""``exp save``: the workspace recorded as it is, after DVC's ``commit --force``."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from conftest import git, run_cli
from exp_project import FILES, exp_refs, git_out, git_state, show, tree_files

from jupyter_exp import Project
from jupyter_exp.core.index import Index
from jupyter_exp.core.lockfile import read_lockfile
from jupyter_exp.errors import (
    DataError,
    ExperimentExistsError,
    InvalidArgumentError,
    InvalidExperimentNameError,
)
from jupyter_exp.experiments.executors.base import exp_hash


@pytest.fixture
def project(make_project) -> Path:
    root = make_project(FILES)
    Project(root).repro()
    return root


def test_save_commits_stages_then_records_the_workspace(project: Path) -> None:
    before = git_state(project)
    # Hand-made changes: a new model and a params edit no stage ran with.
    (project / "model.bin").write_text("hand-tuned model\n")
    (project / "params.yaml").write_text(FILES["params.yaml"].replace("0.1", "0.9"))
    result = Project(project).exp_save(name="by-hand", message="tuned by hand")

    assert result.recorded and result.name == "by-hand"
    assert git_state(project) == before
    assert git_out(project, "log", "-1", "--format=%s%n%P", result.sha).split("\n") == [
        "tuned by hand",
        before[0],
    ]
    lock = (project / "dvc.lock").read_text()
    assert "lr: 0.9" in lock  # dvc commit -f: the lock now says what the workspace holds
    assert show(project, result.sha, "dvc.lock") == lock.rstrip("\n")
    # The new model is in the cache, under the md5 dvc.lock records.
    model = read_lockfile(Project(project).repo, "dvc.lock")["train"].outs["model.bin"].md5
    assert (project / ".dvc/cache/files/md5" / model[:2] / model[2:]).read_text() == (
        "hand-tuned model\n"
    )
    assert {"dvc.lock", ".gitignore", "metrics.json"} <= tree_files(project, result.sha)
    assert "model.bin" not in tree_files(project, result.sha)


def test_default_message_is_dvcs_hash_of_every_stage(project: Path) -> None:
    result = Project(project).exp_save()
    repo = Project(project).repo
    expected = exp_hash(repo, Index.load(repo), ["prepare", "train"])
    assert result.exp_hash == expected
    assert git_out(project, "log", "-1", "--format=%s", result.sha) == (
        f"dvc: commit experiment {expected}"
    )


def test_include_untracked_adds_untracked_and_ignored_paths(project: Path) -> None:
    (project / "notes.txt").write_text("untracked\n")
    (project / "scratch.txt").write_text("left out\n")
    result = Project(project).exp_save(
        include_untracked=[project / "notes.txt", project / "model.bin"]
    )
    files = tree_files(project, result.sha)
    assert "notes.txt" in files
    assert "model.bin" in files  # ignored, but the user named it (as DVC: git add -f)
    assert "scratch.txt" not in files
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        Project(project).exp_save(include_untracked=[project / "missing.txt"])


def test_names_are_checked_before_anything_is_written(project: Path) -> None:
    api = Project(project)
    first = api.exp_save(name="keep")
    (project / "model.bin").write_text("changed\n")
    lock = (project / "dvc.lock").read_bytes()
    with pytest.raises(ExperimentExistsError):
        api.exp_save(name="keep")
    with pytest.raises(InvalidExperimentNameError):
        api.exp_save(name="has space")
    assert (project / "dvc.lock").read_bytes() == lock
    replaced = api.exp_save(name="keep", force=True)
    assert replaced.ref == first.ref and exp_refs(project) == {first.ref: replaced.sha}


def test_identical_workspace_saves_nothing(project: Path) -> None:
    api = Project(project)
    first = api.exp_save()
    again = api.exp_save()
    assert not again.recorded and again.identical_to == first.name
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "all")
    clean = api.exp_save()
    assert clean.identical_to == "HEAD" and not clean.recorded


def test_missing_output_is_an_error_and_records_nothing(make_project) -> None:
    root = make_project(FILES)  # never ran: no outputs
    with pytest.raises(DataError, match=r"output 'prepared\.txt' does not exist"):
        Project(root).exp_save()
    assert exp_refs(root) == {}


def test_changed_data_source_is_re_added(project: Path) -> None:
    (project / "raw.csv").write_text("a,b\n1,2\n")
    Project(project).add(["raw.csv"])
    (project / "raw.csv").write_text("a,b\n3,4\n")
    result = Project(project).exp_save()
    recorded = show(project, result.sha, "raw.csv.dvc")
    assert recorded == (project / "raw.csv.dvc").read_text().rstrip("\n")
    assert Project(project).status() == {}


def _save(root: str, name: str, queue) -> None:  # type: ignore[no-untyped-def]
    from jupyter_exp import Project

    try:
        queue.put(Project(root).exp_save(name=name, include_untracked=[f"{root}/{name}"]).ref)
    except Exception as exc:  # reported to the parent
        queue.put(repr(exc))


def test_two_concurrent_saves_both_land(project: Path) -> None:
    for name in ("one", "two"):
        (project / name).write_text(f"{name}\n")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_save, args=(str(project), n, queue)) for n in ("one", "two")]
    for proc in procs:
        proc.start()
    results = sorted(queue.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
    assert [r.rsplit("/", 1)[-1] for r in results] == ["one", "two"], results
    assert sorted(ref.rsplit("/", 1)[-1] for ref in exp_refs(project)) == ["one", "two"]


def test_cli_save(project: Path) -> None:
    done = run_cli(project, "save", "-n", "cli-save")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Experiment has been saved as: cli-save\n"
    (project / "model.bin").write_text("other\n")
    as_json = run_cli(project, "save", "--json")
    data = json.loads(as_json.stdout)
    assert data["ref"] in exp_refs(project).values()
    dup = run_cli(project, "save", "-n", "cli-save")
    assert dup.returncode == 1 and dup.stderr.startswith("ERROR: experiment 'cli-save'")
