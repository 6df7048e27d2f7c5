"""Cancelling a run from another thread: the stage's process group stops, the run
raises RunCancelledError, nothing is recorded (as Ctrl+C in the CLI)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from exp_project import FILES, exp_refs, git_out

from jupyter_exp import Project
from jupyter_exp.core.cancel import CancelToken
from jupyter_exp.core.stages.shell import run_command
from jupyter_exp.errors import RunCancelledError

# Writes its pid and its child's pid, then waits; both must be gone after a cancel.
SLOW = "sleep 60 & echo $! > child.pid; echo $$ > shell.pid; echo started; wait"


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of an exited child counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def cancel_when(path: Path, token: CancelToken) -> threading.Thread:
    def later() -> None:
        wait_for(path)
        token.cancel()

    thread = threading.Thread(target=later, daemon=True)
    thread.start()
    return thread


def test_a_cancelled_command_stops_its_whole_group(tmp_path: Path) -> None:
    token = CancelToken()
    thread = cancel_when(tmp_path / "shell.pid", token)
    with pytest.raises(RunCancelledError, match="while stage 's' was running") as caught:
        run_command(
            SLOW, cwd=tmp_path, env=os.environ, stage="s", on_event=lambda e: None, cancel=token
        )
    thread.join()
    assert caught.value.stage == "s"
    for name in ("shell.pid", "child.pid"):
        assert not alive(int((tmp_path / name).read_text()))


def test_a_token_cancelled_before_starts_nothing(tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(RunCancelledError):
        run_command(
            "touch ran", cwd=tmp_path, env=os.environ, stage="s", on_event=print, cancel=token
        )
    assert not (tmp_path / "ran").exists()
    assert token.cancelled and "cancelled=True" in repr(token)


def test_an_uncancelled_token_changes_nothing(tmp_path: Path) -> None:
    code = run_command(
        "exit 4",
        cwd=tmp_path,
        env=os.environ,
        stage="s",
        on_event=lambda e: None,
        cancel=CancelToken(),
    )
    assert code == 4


def test_a_cancelled_experiment_records_nothing_and_keeps_the_workspace(
    make_project: Any,
) -> None:
    files = {
        **FILES,
        "dvc.yaml": FILES["dvc.yaml"].replace("cmd: python train.py", f"cmd: {SLOW}"),
    }
    root = make_project(files)
    token = CancelToken()
    thread = cancel_when(root / "shell.pid", token)
    project = Project(root)
    with pytest.raises(RunCancelledError, match="stage 'train'"):
        project.exp_run(params=["train.lr=0.5"], name="stopped", cancel=token)
    thread.join()
    assert exp_refs(root) == {}
    assert not alive(int((root / "child.pid").read_text()))
    # What ran stays: the override, prepare's output and lock entry; train never recorded.
    assert "lr: 0.5" in (root / "params.yaml").read_text()
    assert (root / "prepared.txt").read_text() == "HELLO\n"
    lock = (root / "dvc.lock").read_text()
    assert "prepare:" in lock and "train:" not in lock
    # The repository lock was released: the next run can go.
    with pytest.raises(RunCancelledError):
        project.exp_run(cancel=token)  # still cancelled: stops before the first stage


def test_a_cancelled_temp_run_leaves_no_worktree(make_project: Any) -> None:
    files = {
        **FILES,
        "dvc.yaml": FILES["dvc.yaml"].replace(
            "cmd: python train.py", "cmd: echo $$ > $PIDS/shell.pid; sleep 60"
        ),
    }
    root = make_project(files)
    pids = root.parent / "pids"
    pids.mkdir()
    token = CancelToken()
    thread = cancel_when(pids / "shell.pid", token)
    with pytest.raises(RunCancelledError, match="stage 'train'"):
        Project(root).exp_run(temp=True, cancel=token, env={"PIDS": str(pids)})
    thread.join()
    assert exp_refs(root) == {}
    assert not alive(int((pids / "shell.pid").read_text()))
    worktrees = git_out(root, "worktree", "list").splitlines()
    assert len(worktrees) == 1  # the temporary worktree is gone
    assert not (root / "prepared.txt").exists()  # the workspace was never touched


# A notebook stage run in-process by the engine: its kernel is the process to stop.
NOTEBOOK_PIPELINE = """\
stages:
  train:
    cmd: jupyter exp notebook train.ipynb -p train
    deps: [train.ipynb]
    params: [train]
    outs: [train.out.ipynb]
"""


def slow_notebook(ignore_interrupts: bool) -> str:
    import nbformat

    params = nbformat.v4.new_code_cell("lr = 0.1")
    params.metadata["tags"] = ["parameters"]
    body = "import os, pathlib, signal, time\n"
    if ignore_interrupts:  # a cell that swallows Ctrl+C: the kernel must be killed
        body += "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    body += "pathlib.Path('kernel.pid').write_text(str(os.getpid()))\ntime.sleep(120)\n"
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nbformat.writes(nb)


@pytest.mark.slow
@pytest.mark.parametrize("ignore_interrupts", [False, True], ids=["interrupted", "killed"])
def test_a_cancelled_notebook_stage_stops_its_kernel(
    make_project: Any, ignore_interrupts: bool
) -> None:
    root = make_project(
        {
            "dvc.yaml": NOTEBOOK_PIPELINE,
            "params.yaml": "train:\n  lr: 0.1\n",
            "train.ipynb": slow_notebook(ignore_interrupts),
        }
    )
    token = CancelToken()
    thread = cancel_when(root / "kernel.pid", token)
    started = time.monotonic()
    with pytest.raises(RunCancelledError, match="stage 'train'"):
        Project(root).exp_run(params=["train.lr=0.2"], name="stopped", cancel=token)
    thread.join()
    # Well before the cell's 120 s sleep: interrupted at once, or killed after the grace.
    assert time.monotonic() - started < 60
    assert exp_refs(root) == {}
    assert not alive(int((root / "kernel.pid").read_text()))
