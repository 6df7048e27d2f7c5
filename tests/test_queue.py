"""``exp run --queue``, sweeps, ``queue start`` / ``--run-all`` with real worker processes,
``queue status|logs|remove``, and what ``exp show`` gets from the queue."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import run_cli
from exp_project import FILES, exp_refs, git_out, show

from jupyter_exp import Project
from jupyter_exp.errors import (
    ExperimentExistsError,
    InvalidArgumentError,
    MissingParamError,
)
from jupyter_exp.experiments.queue.store import (
    QUEUE_REF_PREFIX,
    QueueStore,
    exp_show_entries,
    queue_rows,
)
from jupyter_exp.git import Git


@pytest.fixture
def project(make_project) -> Path:
    root = make_project(FILES)
    Project(root).repro()
    return root


def _lr(root: Path, sha: str) -> float:
    text = show(root, sha, "params.yaml")
    return float(text.split("lr: ")[1].split()[0])


def _wait(root: Path, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    project = Project(root)
    while time.monotonic() < deadline:
        entries = project.queue_status().entries
        if all(e.done for e in entries) and not project.queue_status().workers:
            return entries
        time.sleep(0.05)
    raise AssertionError("queue did not finish")


def test_queue_snapshots_the_workspace_and_later_edits_do_not_leak(project: Path) -> None:
    (project / "data.txt").write_text("queued data\n")  # an uncommitted edit: goes in
    entries = Project(project).exp_run(queue=True, params=["train.lr=0.3"], name="snap")
    assert [e.name for e in entries] == ["snap"] and entries[0].state == "Queued"
    entry = entries[0]
    # Nothing ran, the workspace is as it was; the entry's commit holds the override.
    assert "lr: 0.1" in (project / "params.yaml").read_text()
    assert exp_refs(project) == {}
    assert git_out(project, "rev-parse", QUEUE_REF_PREFIX + entry.id) == entry.id
    assert "lr: 0.3  # learning rate" in show(project, entry.id, "params.yaml")
    assert git_out(project, "rev-parse", f"{entry.id}^") == git_out(project, "rev-parse", "HEAD")
    # Edits after queueing stay out of the experiment.
    (project / "data.txt").write_text("edited later\n")
    (project / "params.yaml").write_text("train:\n  lr: 9\n  epochs: 9\n")

    assert len(Project(project).queue_start(1)) == 1
    (done,) = _wait(project)
    assert done.state == "Success" and done.exp_name == "snap" and done.attempts == 1
    ref = exp_refs(project)[done.exp_ref]
    assert _lr(project, ref) == 0.3
    assert json.loads(show(project, ref, "metrics.json"))["acc"] == pytest.approx(0.8)
    assert show(project, ref, "data.txt") == "queued data"
    # The experiment's parent is HEAD; the snapshot ref is gone, the log kept.
    assert git_out(project, "rev-parse", f"{ref}^") == git_out(project, "rev-parse", "HEAD")
    assert git_out(project, "for-each-ref", QUEUE_REF_PREFIX) == ""
    assert "Running stage 'train'" in Project(project).queue_logs("snap")
    assert not (project / ".dvc/tmp/exps").exists() or not any(
        (project / ".dvc/tmp/exps").iterdir()
    )


def test_sweeps_queue_the_cartesian_product_named_p_1_to_p_n(project: Path) -> None:
    entries = Project(project).exp_run(
        queue=True, params=["train.lr=0.1,0.2", "train.epochs=range(1,4)"], name="p"
    )
    assert [e.name for e in entries] == [f"p-{i}" for i in range(1, 7)]
    assert [e.overrides for e in entries] == [
        [f"train.lr={lr}", f"train.epochs={ep}"] for lr in (0.1, 0.2) for ep in (1, 2, 3)
    ]
    params = [show(project, e.id, "params.yaml") for e in entries]
    assert "lr: 0.2  # learning rate" in params[4] and "epochs: 2" in params[4]
    assert len({e.id for e in entries}) == 6
    # choice(), and random names when -n is not given: all distinct.
    more = Project(project).exp_run(queue=True, params=["train.lr=choice(0.5,0.6)"])
    assert len({e.name for e in more}) == 2
    assert all(e.name not in {x.name for x in entries} for e in more)


def test_bad_queue_requests_queue_nothing(project: Path) -> None:
    p = Project(project)
    with pytest.raises(InvalidArgumentError, match="Sweep overrides can't be used without"):
        p.exp_run(params=["train.lr=0.1,0.2"])
    with pytest.raises(MissingParamError):
        p.exp_run(queue=True, params=["train.lr=0.1,0.2", "train.nope=1"])
    with pytest.raises(InvalidArgumentError, match="--dry"):
        p.exp_run(queue=True, dry=True)
    assert not (project / ".dvc/tmp/jupyter-exp/queue/entries").exists() or not list(
        (project / ".dvc/tmp/jupyter-exp/queue/entries").iterdir()
    )
    p.exp_run(queue=True, name="taken")
    with pytest.raises(ExperimentExistsError):
        p.exp_run(queue=True, name="taken")
    p.exp_run(queue=True, name="taken-1")
    with pytest.raises(ExperimentExistsError):  # a sweep member named like a queued entry
        p.exp_run(queue=True, name="taken", params=["train.lr=1,2"])
    assert [r.name for r in queue_rows(p.repo)] == ["taken", "taken-1"]


def test_queue_start_returns_at_once_and_run_all_waits(project: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    p = Project(project)
    p.exp_run(queue=True, params=["train.lr=0.2"], name="slow", env={"WAIT_FOR": str(gate)})
    p.exp_run(queue=True, params=["train.lr=0.5"], name="fast")
    started = time.monotonic()
    workers = p.queue_start(2)
    assert time.monotonic() - started < 1.0 and len(workers) == 2
    deadline = time.monotonic() + 30
    while not Path(f"{gate}.started").exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    status = p.queue_status()
    assert {e.name: e.state for e in status.entries}["slow"] == "Running"
    assert status.active >= 1
    # exp show's hook sees the running entry, with DVC's executor fields.
    rows = {r.name: r.state for r in queue_rows(p.repo)}
    assert rows["slow"] == "Running"
    git = Git.find(project)
    shown = {e.name: e for e in exp_show_entries(p.repo, git, [git.head()])}
    assert shown["slow"].executor_info["state"] == "running"
    assert shown["slow"].executor_info["local"]["pid"] is not None
    gate.touch()
    entries = _wait(project)
    assert {e.name: e.state for e in entries} == {"slow": "Success", "fast": "Success"}
    refs = exp_refs(project)
    assert sorted(_lr(project, sha) for sha in refs.values()) == [0.2, 0.5]
    assert queue_rows(p.repo) == []  # landed entries are experiment refs now


def test_run_all_cli_streams_progress_and_exp_show_states(project: Path) -> None:
    queued = run_cli(project, "run", "--queue", "-S", "train.lr=0.1,0.7", "-n", "cli")
    assert queued.returncode == 0, queued.stderr
    assert "Queued experiment 'cli-1'" in queued.stdout
    assert "Queued experiment 'cli-2'" in queued.stdout
    status = run_cli(project, "queue", "status")
    assert "cli-1" in status.stdout and "Queued" in status.stdout
    assert "Worker status: 0 active, 0 idle" in status.stdout
    shown = run_cli(project, "show", "--no-pager")
    assert shown.stdout.count("Queued") == 2, shown.stdout
    table = Project(project).exp_show_data()
    states = {row["Experiment"]: row["State"] for row in table["rows"] if row.get("Experiment")}
    assert states.get("cli-1") == "Queued" and states.get("cli-2") == "Queued"
    bad = run_cli(project, "run", "-S", "train.lr=0.1,0.7")
    assert bad.returncode == 2 and "Sweep overrides can't be used without `--queue`" in bad.stderr

    ran = run_cli(project, "run", "--run-all", "-j", "2")
    assert ran.returncode == 0, ran.stderr
    assert "[cli-2] done: experiment 'cli-2'" in ran.stdout
    assert "[cli-1] " in ran.stdout and "Ran experiment(s): " in ran.stdout
    status = run_cli(project, "queue", "status")
    assert status.stdout.count("Success") == 2
    logs = run_cli(project, "queue", "logs", "cli-2")
    assert "Running stage 'train'" in logs.stdout
    assert run_cli(project, "queue", "remove", "--success").returncode == 0
    assert "No experiments in the queue." in run_cli(project, "queue", "status").stdout


def test_queue_survives_a_new_process_and_remove(project: Path) -> None:
    Project(project).exp_run(queue=True, params=["train.lr=0.2,0.3"], name="keep")
    # A new process (another kernel, after a reboot) sees the same queue.
    listed = run_cli(project, "queue", "status", "--json")
    names = [e["name"] for e in json.loads(listed.stdout)]
    assert names == ["keep-1", "keep-2"]
    removed = Project(project).queue_remove(["keep-1"])
    assert [e.name for e in removed] == ["keep-1"]
    store = QueueStore(project)
    assert [e.name for e in store.entries()] == ["keep-2"]
    assert len(git_out(project, "for-each-ref", QUEUE_REF_PREFIX).splitlines()) == 1
    Project(project).queue_remove(all=True)
    assert store.entries() == [] and git_out(project, "for-each-ref", QUEUE_REF_PREFIX) == ""
    with pytest.raises(InvalidArgumentError):
        Project(project).queue_remove()


def test_copy_paths_are_saved_when_queued_and_stay_out_of_the_experiment(project: Path) -> None:
    (project / "secret.txt").write_text("s3cret\n")
    p = Project(project)
    secret = project / "secret.txt"  # -C paths are relative to the cwd, as in DVC
    (entry,) = p.exp_run(queue=True, params=["train.lr=0.2"], copy_paths=[secret])
    assert entry.copy_paths == ["secret.txt"]
    (project / "secret.txt").write_text("changed later\n")
    finished = p.exp_run(run_all=True, jobs=1)
    assert [e.state for e in finished] == ["Success"], finished[0].error
    sha = exp_refs(project)[finished[0].exp_ref]
    assert json.loads(show(project, sha, "metrics.json"))["secret"] == "s3cret"
    assert "secret.txt" not in git_out(project, "ls-tree", "-r", "--name-only", sha)
    Project(project).queue_remove(all=True)
    assert not any((project / ".dvc/tmp/jupyter-exp/queue/copies").iterdir())
