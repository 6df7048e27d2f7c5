"""Shared work done once: processes sharing a cache run a stage signature once, even at
the same time; the others wait and take its outputs from the run-cache."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from conftest import git, write_tree
from exp_project import exp_refs, show

from jupyter_exp import Project
from jupyter_exp.core.repo import Repo
from jupyter_exp.core.runlock import lock_path
from jupyter_exp.experiments.queue.procs import kill_processes_in

# `prep` takes a while and counts its runs in $COUNT_FILE (outside the project);
# `train` depends on prep's output and on the swept param.
PREP_PY = """\
import os, time
with open(os.environ["COUNT_FILE"], "a") as f:
    f.write("ran\\n")
time.sleep(float(os.environ.get("PREP_SECONDS", "1")))
open("prepared.txt", "w").write("shared data\\n")
"""

TRAIN_PY = """\
import yaml
lr = yaml.safe_load(open("params.yaml"))["lr"]
open("model.txt", "w").write(f"{open('prepared.txt').read().strip()} lr={lr}\\n")
"""

DVC_YAML = """\
stages:
  prep:
    cmd: python prep.py
    deps: [prep.py]
    outs: [prepared.txt]
  train:
    cmd: python train.py
    deps: [train.py, prepared.txt]
    params: [lr]
    outs: [model.txt]
"""

FILES = {
    "prep.py": PREP_PY,
    "train.py": TRAIN_PY,
    "dvc.yaml": DVC_YAML,
    "params.yaml": "lr: 0.1\n",
}


def test_a_sweep_runs_its_shared_upstream_stage_once(make_project, tmp_path: Path) -> None:
    root = make_project(FILES)
    count = tmp_path / "count"
    p = Project(root)
    entries = p.exp_run(
        queue=True, params=["lr=0.1,0.2,0.3"], name="s", env={"COUNT_FILE": str(count)}
    )
    finished = p.exp_run(run_all=True, jobs=3)
    assert [e.state for e in finished] == ["Success"] * 3, [e.error for e in finished]
    # Three experiments were running at once; `prep` ran in one of them only.
    assert count.read_text() == "ran\n"
    logs = [p.queue_logs(e.name) for e in entries]
    assert sum("Running stage 'prep'" in log for log in logs) == 1
    assert sum("Stage 'prep' restored from the run-cache" in log for log in logs) == 2
    locks = {
        show(root, sha, "dvc.lock").split("path: prepared.txt")[1][:60]
        for sha in exp_refs(root).values()
    }
    assert len(exp_refs(root)) == 3 and len(locks) == 1  # the same prep output in all


def _clone_sharing_cache(root: Path, dest: Path, cache: Path) -> None:
    git(dest.parent, "clone", "-q", str(root), dest.name)
    write_tree(dest, {".dvc": {"config.local": f"[cache]\n    dir = {cache}\n"}})


def test_two_processes_sharing_a_cache_run_a_signature_once(make_project, tmp_path: Path) -> None:
    root = make_project({**FILES, ".dvc": {"config": ""}})
    cache = tmp_path / "shared-cache"
    a, b = tmp_path / "a", tmp_path / "b"
    _clone_sharing_cache(root, a, cache)
    _clone_sharing_cache(root, b, cache)
    count = tmp_path / "count"
    env = {**os.environ, "COUNT_FILE": str(count), "PREP_SECONDS": "1.5"}
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            ["jupyter-exp", "repro"], cwd=d, env=env, stdout=subprocess.PIPE, text=True
        )
        for d in (a, b)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert count.read_text() == "ran\n"
    assert sum("Running stage 'prep'" in out for out in outputs) == 1
    assert all((d / "prepared.txt").read_text() == "shared data\n" for d in (a, b))
    assert time.monotonic() - started < 2 * 1.5 + 10
    # Lock files sit next to the shared cache, never in `runs/` (DVC pushes that),
    # and are gone once the runs are done.
    assert lock_path(Repo(a), "k").parent == cache / ".jupyter-exp" / "runlocks"
    assert list((cache / ".jupyter-exp" / "runlocks").iterdir()) == []
    assert not any(p.suffix == ".lock" for p in (cache / "runs").rglob("*"))
    assert lock_path(Repo(root), "k") == root / ".dvc/tmp/runlocks/k.lock"


def test_a_killed_holder_releases_the_signature(make_project, tmp_path: Path) -> None:
    root = make_project({**FILES, ".dvc": {"config": ""}})
    cache = tmp_path / "shared-cache"
    a, b = tmp_path / "a", tmp_path / "b"
    _clone_sharing_cache(root, a, cache)
    _clone_sharing_cache(root, b, cache)
    count = tmp_path / "count"
    env = {**os.environ, "COUNT_FILE": str(count), "PREP_SECONDS": "30"}
    first = subprocess.Popen(["jupyter-exp", "repro"], cwd=a, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while not count.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = subprocess.Popen(
        ["jupyter-exp", "repro"], cwd=b, env={**env, "PREP_SECONDS": "0"}, stdout=subprocess.PIPE
    )
    time.sleep(0.5)
    assert second.poll() is None  # waiting for the signature `first` runs
    os.killpg(first.pid, 9)  # the holder dies: its lock is released
    first.wait()
    kill_processes_in(a)  # its stage command (own process group) too
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0 and "Running stage 'prep'" in out.decode()
    assert count.read_text() == "ran\nran\n"  # nothing to restore: it ran it itself
    assert (b / "prepared.txt").read_text() == "shared data\n"
