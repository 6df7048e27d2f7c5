"""Checkpoint experiments interrupted (error, Ctrl+C, SIGTERM) at chosen checkpoints, then
resumed: from the workspace, with ``--reset``, with ``--temp --rev``, after ``exp apply``."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from checkpoint_project import (
    FILES,
    cached_model,
    chain,
    epoch_of,
    metrics_at,
    model_md5_at,
    run_git,
)
from conftest import run_cli

from jupyter_exp import Project
from jupyter_exp.core.checkpoint_signal import signal_path
from jupyter_exp.errors import InvalidArgumentError, StageFailedError
from jupyter_exp.experiments.checkpoints import EXEC_CHECKPOINT, checkpoint_chain
from jupyter_exp.experiments.lookup import find_experiment
from jupyter_exp.git import Git


@pytest.fixture
def project(make_project) -> Path:
    return make_project(FILES)


def _head(root: Path) -> str:
    return run_git(root, "rev-parse", "HEAD")


def _ref(root: Path, name: str) -> str:
    return run_git(root, "for-each-ref", "--format=%(objectname)", f"refs/exps/*/*/{name}")


def _epochs(root: Path, tip: str) -> list[int]:
    return [metrics_at(root, c)["epoch"] for c in chain(root, tip, _head(root))]


def _consistent(root: Path, tip: str) -> None:
    """Every checkpoint's metrics and cached model agree: nothing half-written recorded."""
    for sha in chain(root, tip, _head(root)):
        model = cached_model(root, model_md5_at(root, sha))
        assert epoch_of(model) == metrics_at(root, sha)["epoch"]


def _interrupt(root: Path, at: int, sig: int, *args: str) -> subprocess.CompletedProcess:
    """``jupyter-exp run ARGS``, sent ``sig`` once checkpoint ``at`` is recorded."""
    signals = root.parent / f"signals-{root.name}"
    signals.mkdir()
    proc = subprocess.Popen(
        ["jupyter-exp", "run", *args],
        cwd=root,
        env={**os.environ, "HOLD_AT": str(at), "SIGNALS_DIR": str(signals)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while not (signals / f"hold-{at}").exists():
        assert time.time() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# --- interruptions ----------------------------------------------------------------------------


def test_an_error_keeps_the_checkpoints_and_the_next_run_resumes(project: Path) -> None:
    with pytest.raises(StageFailedError):
        Project(project).exp_run(name="flaky", env={"DIE_AT": "2"})
    assert (project / "model.bin").read_text() == "half-written"
    tip = _ref(project, "flaky")
    assert _epochs(project, tip) == [1, 2]
    assert run_git(project, "rev-parse", EXEC_CHECKPOINT) == tip

    result = Project(project).exp_run()
    # Resumed from checkpoint 2 (the half-written model restored from the cache first),
    # appended to the same experiment; evaluate ran, so a wrap-up closes the chain.
    assert result.name == "flaky" and result.ref.endswith("/flaky")
    assert _epochs(project, result.sha) == [1, 2, 3, 4, 5, 5]
    assert chain(project, result.sha, _head(project))[:2] == chain(project, tip, _head(project))
    assert result.checkpoints == chain(project, result.sha, _head(project))[2:]
    assert metrics_at(project, result.sha, "eval.json") == {"evaluated": 5}
    _consistent(project, result.sha)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_run_keeps_every_checkpoint_taken(project: Path, sig: int) -> None:
    done = _interrupt(project, 2, sig, "-n", "stopped")
    assert done.returncode != 0, done.stderr
    tip = _ref(project, "stopped")
    assert _epochs(project, tip) == [1, 2]
    _consistent(project, tip)
    assert not signal_path(project).exists()
    # The stage's process group is gone and the lock stands at the last checkpoint.
    lock_md5 = model_md5_at(project, tip)
    assert lock_md5 in (project / "dvc.lock").read_text()

    resumed = Project(project).exp_run()
    assert resumed.name == "stopped"
    assert _epochs(project, resumed.sha) == [1, 2, 3, 4, 5, 5]


def test_the_command_dying_right_after_signalling_leaves_a_clean_end(make_project) -> None:
    files = dict(FILES)
    # Signal, then die at once without waiting: the watcher may or may not have seen it.
    files["dvc.yaml"] = """\
stages:
  crash:
    cmd: >-
      sh -c 'n=$(cat n.txt 2>/dev/null || echo 0);
      for i in 1 2; do n=$((n+1)); echo $n > n.txt; echo "{\\"epoch\\": $n}" > metrics.json;
      touch "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT";
      while [ -e "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT" ]; do sleep 0.01; done; done;
      echo 99 > n.txt; touch "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT"; kill -9 $$'
    outs:
    - n.txt:
        checkpoint: true
    metrics:
    - metrics.json:
        cache: false
"""
    root = make_project(files)
    head = _head(root)
    with pytest.raises(StageFailedError):
        Project(root).exp_run(name="crashy")
    commits = chain(root, _ref(root, "crashy"), head)
    assert len(commits) in (2, 3)
    for sha in commits[:2]:
        recorded = run_git(root, "show", f"{sha}:dvc.lock")
        assert metrics_at(root, sha)["epoch"] in (1, 2) and "n.txt" in recorded
    assert not signal_path(root).exists()
    Project(root).status()  # the workspace is a readable project


# --- resuming ----------------------------------------------------------------------------------


def test_reset_starts_a_new_chain_from_scratch(project: Path) -> None:
    first = Project(project).exp_run(name="first")
    assert epoch_of((project / "model.bin").read_text()) == 3
    fresh = Project(project).exp_run(reset=True)
    assert fresh.name != "first"
    # The same model as before: evaluate is up to date, so no wrap-up this time.
    assert fresh.repro.ran == ["train"]
    assert _epochs(project, fresh.sha) == [1, 2, 3]
    assert _epochs(project, first.sha) == [1, 2, 3, 3]  # the old chain is untouched
    # A name of its own that exists already is refused unless forced.
    named = Project(project).exp_run(reset=True, name="first", force=True)
    assert named.ref == first.ref and _epochs(project, named.sha) == [1, 2, 3]


def test_plain_repro_does_not_rerun_a_finished_checkpoint_stage(project: Path) -> None:
    Project(project).exp_run()
    assert Project(project).repro().ran == []
    assert epoch_of((project / "model.bin").read_text()) == 3


def test_temp_runs_start_over_and_rev_continues_a_given_checkpoint(project: Path) -> None:
    base = Project(project).exp_run(name="base")
    workspace_model = (project / "model.bin").read_text()
    commits = chain(project, base.sha, _head(project))

    fresh = Project(project).exp_run(temp=True)  # like a queued run: implies --reset
    assert _epochs(project, fresh.sha) == [1, 2, 3]

    # From checkpoint 2 (not a tip): a new experiment branching there.
    branch = Project(project).exp_run(temp=True, rev=commits[1][:10], params=["train.lr=0.5"])
    assert branch.name != "base"
    tip_chain = chain(project, branch.sha, _head(project))
    assert tip_chain[:2] == commits[:2]
    assert _epochs(project, branch.sha) == [1, 2, 3, 4, 5, 5]
    assert "lr=0.5" in cached_model(project, model_md5_at(project, branch.sha))

    # From the tip (by name): appended to that experiment.
    more = Project(project).exp_run(temp=True, rev="base")
    assert more.name == "base" and _ref(project, "base") == more.sha
    assert chain(project, more.sha, _head(project))[:4] == commits
    assert (project / "model.bin").read_text() == workspace_model  # workspace untouched


def test_a_queued_checkpoint_experiment_starts_over(project: Path) -> None:
    Project(project).exp_run(name="base")
    assert epoch_of((project / "model.bin").read_text()) == 3
    (_entry,) = Project(project).exp_run(queue=True, name="queued")
    Project(project).exp_run(run_all=True)
    assert _epochs(project, _ref(project, "queued")) == [1, 2, 3]
    _consistent(project, _ref(project, "queued"))


def test_apply_a_checkpoint_then_run_resumes_from_it(project: Path) -> None:
    base = Project(project).exp_run(name="base")
    commits = chain(project, base.sha, _head(project))
    git = Git(project)
    found = find_experiment(git, commits[0][:8])
    assert found.sha == commits[0] and found.name == "base"

    Project(project).exp_apply(commits[0][:8], force=True)
    assert epoch_of((project / "model.bin").read_text()) == 1
    resumed = Project(project).exp_run()
    assert resumed.name != "base"  # checkpoint 1 is not the tip: a new branch of it
    assert chain(project, resumed.sha, _head(project))[0] == commits[0]
    assert _epochs(project, resumed.sha) == [1, 2, 3, 4, 4]
    assert _ref(project, "base") == base.sha


def test_checkpoint_chain_lists_steps_oldest_first(project: Path) -> None:
    result = Project(project).exp_run(name="steps")
    git = Git(project)
    exp = find_experiment(git, "steps")
    found = checkpoint_chain(git, exp)
    assert [c.step for c in found] == [0, 1, 2, 3]
    assert [c.sha for c in found] == chain(project, result.sha, _head(project))
    assert found[0].parent == _head(project)


def test_rev_is_refused_in_the_workspace_and_with_reset(project: Path) -> None:
    Project(project).exp_run(name="one")
    with pytest.raises(InvalidArgumentError, match="--temp"):
        Project(project).exp_run(rev="one")
    with pytest.raises(InvalidArgumentError, match="--reset"):
        Project(project).exp_run(rev="one", reset=True, temp=True)


def test_cli_reset_and_rev(project: Path) -> None:
    done = run_cli(project, "run", "-n", "cli")
    assert done.returncode == 0, done.stderr
    again = run_cli(project, "run", "--reset", "-n", "cli2")
    assert again.returncode == 0, again.stderr
    assert _epochs(project, _ref(project, "cli2")) == [1, 2, 3]
    temp = run_cli(project, "run", "--temp", "--rev", "cli", "-S", "train.epochs=1")
    assert temp.returncode == 0, temp.stderr
    assert _epochs(project, _ref(project, "cli")) == [1, 2, 3, 3, 4, 4]
    bad = run_cli(project, "run", "--rev", "cli")
    assert bad.returncode != 0 and "--temp" in bad.stderr
