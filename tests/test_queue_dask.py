"""The queue on Dask: ``--cluster local``, a real ``LocalCluster`` on 127.0.0.1 reached with
``--scheduler``, a run killed on a Dask worker, and the errors without Dask."""

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


def _settled(root: Path, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    p = Project(root)
    while time.monotonic() < deadline:
        status = p.queue_status()
        if not status.workers and not any(e.state == "Running" for e in status.entries):
            return {e.name: e for e in status.entries}
        time.sleep(0.1)
    raise AssertionError("queue did not settle")


def _lrs(root: Path) -> list[float]:
    return sorted(
        float(show(root, sha, "params.yaml").split("lr: ")[1].split()[0])
        for sha in exp_refs(root).values()
    )


def test_without_dask_the_error_says_how_to_install_it(project: Path, tmp_path: Path) -> None:
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['distributed'] = None\n")
    env = {"PYTHONPATH": str(hide)}
    done = run_cli(project, "queue", "start", "--cluster", "local", env=env)
    assert done.returncode == 2
    assert "dask.distributed" in done.stderr and "pip install 'jupyter-exp[dask]'" in done.stderr
    assert not list(project.glob(".dvc/tmp/jupyter-exp/queue/workers/*.json"))


@pytest.mark.slow
def test_cluster_local_runs_the_queue_on_dask_workers(project: Path) -> None:
    pytest.importorskip("distributed")
    p = Project(project)
    p.exp_run(queue=True, params=["train.lr=0.2,0.3,0.4"], name="d")
    started = time.monotonic()
    (driver,) = p.queue_start(2, cluster="local")
    assert time.monotonic() - started < 2.0 and driver.kind == "dask"
    entries = _settled(project)
    assert {n: e.state for n, e in entries.items()} == {f"d-{i}": "Success" for i in (1, 2, 3)}
    assert _lrs(project) == [0.2, 0.3, 0.4]
    # Each ran in a process of its own under a Dask worker, not in the driver.
    assert driver.pid not in {e.owner["ppid"] for e in entries.values()}
    assert all(e.owner["worker"] == driver.id for e in entries.values())


@pytest.mark.slow
def test_scheduler_address_of_a_real_local_cluster(project: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        p = Project(project)
        p.exp_run(queue=True, params=["train.lr=0.5,0.6"], name="s")
        done = run_cli(project, "queue", "start", "--scheduler", cluster.scheduler_address)
        assert done.returncode == 0, done.stderr
        assert "Started Dask driver" in done.stdout
        entries = _settled(project)
        assert all(e.state == "Success" for e in entries.values())
        assert _lrs(project) == [0.5, 0.6]
        # Each ran in a process of its own, started by one of the cluster's workers.
        with distributed.Client(cluster) as client:
            worker_pids = set(client.run(os.getpid).values())
        assert {e.owner["ppid"] for e in entries.values()} <= worker_pids
    unreachable = run_cli(project, "queue", "start", "--scheduler", "tcp://127.0.0.1:9")
    assert unreachable.returncode == 2 and "no Dask scheduler answers" in unreachable.stderr


@pytest.mark.slow
def test_a_run_killed_on_a_dask_worker_fails_and_the_rest_goes_on(
    project: Path, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    gate = tmp_path / "gate"
    p = Project(project)
    p.exp_run(queue=True, params=["train.lr=0.2"], name="victim", env={"WAIT_FOR": str(gate)})
    p.exp_run(queue=True, params=["train.lr=0.3,0.4"], name="rest")
    p.queue_start(2, cluster="local")
    deadline = time.monotonic() + 60
    while not Path(f"{gate}.started").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim = QueueStore(project).find("victim")
    os.kill(victim.owner["pid"], signal.SIGKILL)
    entries = _settled(project)
    assert entries["victim"].state == "Failed" and "died" in entries["victim"].error
    assert entries["rest-1"].state == entries["rest-2"].state == "Success"
    assert not Path(victim.worktree).exists()
    # Requeued and run again on Dask, it lands; nothing ran twice.
    gate.touch()
    p.queue_start(1, cluster="local", retry_failed=True)
    entries = _settled(project)
    assert all(e.state == "Success" for e in entries.values())
    assert _lrs(project) == [0.2, 0.3, 0.4]
