"""Queue faults with real worker processes: a failing experiment, a worker killed with
SIGKILL in the middle of a stage, ``queue kill`` and ``queue stop``; and 40 entries on
two workers (all land, none twice)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from conftest import run_cli
from exp_project import FILES, exp_refs, show

from jupyter_exp import Project
from jupyter_exp.experiments.queue.store import QueueStore


@pytest.fixture
def project(make_project) -> Path:
    root = make_project(FILES)
    Project(root).repro()
    return root


def _until(check, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _settled(root: Path, timeout: float = 60) -> dict[str, object]:
    """Wait until no entry runs and no worker lives; entries by name."""
    project = Project(root)

    def check():
        status = project.queue_status()
        busy = status.workers or any(e.state == "Running" for e in status.entries)
        return None if busy else {e.name: e for e in status.entries}

    return _until(check, timeout, "the queue to settle")


def _procs_in(folder: Path) -> list[int]:
    found = []
    for item in Path("/proc").iterdir():
        if item.name.isdigit():
            try:
                cwd = os.readlink(item / "cwd").removesuffix(" (deleted)")
            except OSError:
                continue
            if cwd.startswith(str(folder)):
                found.append(int(item.name))
    return found


def test_a_failing_experiment_is_failed_with_its_log_and_the_rest_goes_on(project: Path) -> None:
    p = Project(project)
    p.exp_run(queue=True, params=["train.lr=0.2"], name="ok-1")
    p.exp_run(queue=True, params=["+train.fail=true"], name="broken")
    p.exp_run(queue=True, params=["train.lr=0.3"], name="ok-2")
    p.queue_start(1)
    entries = _settled(project)
    assert {n: e.state for n, e in entries.items()} == {
        "ok-1": "Success",
        "broken": "Failed",
        "ok-2": "Success",
    }
    assert "stage 'train' failed" in entries["broken"].error
    log = p.queue_logs("broken")
    assert "training failed on purpose" in log and "ERROR: stage 'train' failed" in log
    cli = run_cli(project, "queue", "logs", "broken")
    assert "training failed on purpose" in cli.stdout
    assert len(exp_refs(project)) == 2
    # Retried, it fails the same way: a second attempt, still one entry.
    p.queue_start(1, retry_failed=True)
    entries = _settled(project)
    assert entries["broken"].state == "Failed" and entries["broken"].attempts == 2
    assert len(exp_refs(project)) == 2


def test_a_worker_killed_mid_stage_fails_its_entry_and_the_others_go_on(
    project: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    p = Project(project)
    p.exp_run(queue=True, params=["train.lr=0.2"], name="victim", env={"WAIT_FOR": str(gate)})
    p.exp_run(queue=True, params=["train.lr=0.3"], name="other-1")
    p.exp_run(queue=True, params=["train.lr=0.4"], name="other-2")
    p.queue_start(2)
    _until(lambda: Path(f"{gate}.started").exists(), what="the stage to start")
    store = QueueStore(project)
    victim = store.find("victim")
    assert victim.state == "Running"
    worktree = Path(victim.worktree)
    assert _procs_in(worktree)  # the stage command runs there
    os.kill(victim.owner["pid"], signal.SIGKILL)

    entries = _settled(project)
    assert entries["other-1"].state == entries["other-2"].state == "Success"
    assert entries["victim"].state == "Failed"
    assert "worker process died" in entries["victim"].error
    # Nothing of it keeps running, its worktree is gone, its log is kept.
    _until(lambda: not _procs_in(worktree), 10, "the orphaned stage to be killed")
    assert not worktree.exists()
    assert "Running stage 'train'" in p.queue_logs("victim")
    # --retry-failed runs it again, and every experiment has landed exactly once.
    gate.touch()
    p.queue_start(1, retry_failed=True)
    entries = _settled(project)
    assert all(e.state == "Success" for e in entries.values())
    assert entries["victim"].attempts == 2
    lrs = sorted(
        float(show(project, s, "params.yaml").split("lr: ")[1].split()[0])
        for s in exp_refs(project).values()
    )
    assert lrs == [0.2, 0.3, 0.4]


def test_queue_kill_stops_one_experiment_and_the_worker_goes_on(
    project: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    p = Project(project)
    p.exp_run(queue=True, params=["train.lr=0.2"], name="doomed", env={"WAIT_FOR": str(gate)})
    p.exp_run(queue=True, params=["train.lr=0.3"], name="next")
    (worker,) = p.queue_start(1)
    _until(lambda: Path(f"{gate}.started").exists(), what="the stage to start")
    killed = run_cli(project, "queue", "kill", "doomed")
    assert killed.returncode == 0, killed.stderr
    entries = _settled(project)
    assert entries["doomed"].state == "Failed" and "killed" in entries["doomed"].error
    assert entries["next"].state == "Success"
    assert entries["next"].owner["pid"] == worker.pid  # the same worker went on
    assert "ERROR: killed" in p.queue_logs("doomed")
    bad = run_cli(project, "queue", "kill", "next")
    assert bad.returncode == 2 and "is not running" in bad.stderr


def test_queue_stop_lets_the_running_one_finish_and_takes_no_more(
    project: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    p = Project(project)
    p.exp_run(queue=True, params=["train.lr=0.2"], name="first", env={"WAIT_FOR": str(gate)})
    p.exp_run(queue=True, params=["train.lr=0.3"], name="waits")
    p.queue_start(1)
    _until(lambda: Path(f"{gate}.started").exists(), what="the stage to start")
    assert run_cli(project, "queue", "stop").returncode == 0
    gate.touch()
    entries = _settled(project)
    assert entries["first"].state == "Success" and entries["waits"].state == "Queued"
    # The next start takes it; stop --kill stops a running one at once.
    gate.unlink()
    Path(f"{gate}.started").unlink()
    p.exp_run(queue=True, params=["train.lr=0.6"], name="held", env={"WAIT_FOR": str(gate)})
    p.queue_start(1)
    _until(lambda: Path(f"{gate}.started").exists(), what="the held stage to start")
    stopped = p.queue_stop(kill=True)
    assert [e.name for e in stopped] == ["held"]
    entries = _settled(project)
    assert entries["waits"].state == "Success" and entries["held"].state == "Failed"


@pytest.mark.slow
def test_forty_entries_on_two_workers_all_land_none_twice(make_project) -> None:
    root = make_project(
        {
            "dvc.yaml": "stages:\n  copy:\n    cmd: cp params.yaml out.txt\n"
            "    params: [n]\n    outs: [out.txt]\n",
            "params.yaml": "n: 0\n",
        }
    )
    p = Project(root)
    entries = p.exp_run(queue=True, params=["n=range(1,41)"], name="e")
    assert len(entries) == 40
    started = time.monotonic()
    finished = p.exp_run(run_all=True, jobs=2)
    elapsed = time.monotonic() - started
    assert len(finished) == 40 and all(e.state == "Success" for e in finished), [
        (e.name, e.error) for e in finished if e.state != "Success"
    ]
    assert all(e.attempts == 1 for e in finished)
    refs = exp_refs(root)
    assert len(refs) == 40 and len(set(refs.values())) == 40
    values = sorted(int(show(root, sha, "params.yaml").split()[-1]) for sha in refs.values())
    assert values == list(range(1, 41))
    owners = {e.owner["pid"] for e in finished}
    assert len(owners) == 2  # both workers took a share
    print(f"40 entries, -j 2: {elapsed:.1f}s")


def test_reaping_spares_the_worktree_of_an_entry_claimed_meanwhile(project: Path) -> None:
    """The reaper lists entries, then worktrees: an entry claimed in between (still
    Queued in its list) holds its run lock, so its worktree and stage are left alone."""
    import subprocess

    from jupyter_exp.experiments.queue.entry import reap

    (entry,) = Project(project).exp_run(queue=True, params=["train.lr=0.3"], name="claimed")
    store = QueueStore(project)
    folder = store.worktree_path(entry.id)
    folder.mkdir(parents=True)
    lock = store.entry_lock(entry.id)
    assert lock.try_acquire()  # what a worker holds from its claim to the run's end
    stage = subprocess.Popen(["sleep", "60"], cwd=folder)
    try:
        reap(str(project))
        assert folder.is_dir()
        assert stage.poll() is None, "the running entry's stage was killed"
    finally:
        lock.release()
    # Once nobody holds it, a leftover worktree is cleaned up, stage included.
    reap(str(project))
    assert not folder.exists()
    assert _until(lambda: stage.poll() is not None, 10, "the leftover stage to be stopped")
