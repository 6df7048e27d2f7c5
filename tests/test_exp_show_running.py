"""An experiment running in the workspace, seen by both tools while it runs.

Our workspace runs write DVC's run files (``.dvc/tmp/exps/run/workspace/``), so the real
``dvc exp show --json`` lists them as Running, byte for byte as ours does; and ``jupyter
exp show`` lists a running ``dvc exp run`` the same way. The stage waits for a file the
test creates once it has looked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git, run_cli, write_tree
from dvc_oracle import dvc_env, ensure_dvc

from jupyter_exp.experiments import dvcexec

pytest_plugins = ["dvc_oracle"]
pytestmark = [pytest.mark.oracle, pytest.mark.slow]

SLOW_SH = """\
touch started
while [ ! -f go ]; do sleep 0.05; done
if [ -f fail ]; then exit 3; fi
echo "{\\"acc\\": 0.5}" > metrics.json
"""

FILES = {
    "slow.sh": SLOW_SH,
    "params.yaml": "lr: 1\n",
    "dvc.yaml": (
        "stages:\n"
        "  train:\n"
        "    cmd: sh slow.sh\n"
        "    deps: [slow.sh]\n"
        "    params: [lr]\n"
        "    metrics:\n"
        "      - metrics.json:\n"
        "          cache: false\n"
    ),
    ".gitignore": "/started\n/go\n/fail\n",
}
RUN_FILES = os.path.join(".dvc", "tmp", *dvcexec.RUN_DIR)


@pytest.fixture
def project(make_project, dvc) -> Path:
    root = make_project({}, commit=False)
    dvc(root, "init", "-q")
    write_tree(root, FILES)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    return root


def start(root: Path, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 120
    while not (root / "started").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the stage never started: {proc.communicate()[0]}")
        time.sleep(0.05)
    return proc


def finish(root: Path, proc: subprocess.Popen) -> int:
    (root / "go").touch()
    proc.communicate(timeout=120)
    (root / "started").unlink(missing_ok=True)
    (root / "go").unlink(missing_ok=True)
    return proc.returncode


def running(shown: list[dict]) -> list[dict]:
    exps = shown[1]["experiments"] or []
    return [e for e in exps if (e["executor"] or {}).get("state") == "running"]


def test_dvc_lists_our_workspace_run_as_running(project: Path, dvc) -> None:
    proc = start(project, ["jupyter-exp", "run", "-S", "lr=2", "-n", "slow"])
    try:
        theirs = dvc(project, "exp", "show", "--json").stdout
        (entry,) = running(json.loads(theirs))
        assert entry["name"] == "slow" and entry["executor"]["name"] == "workspace"
        assert entry["executor"]["local"]["pid"] == proc.pid
        assert entry["revs"][0]["data"]["params"]["params.yaml"] == {"data": {"lr": 2}}
        ours = run_cli(project, "show", "--json", check=True).stdout
        assert ours == theirs
    finally:
        assert finish(project, proc) == 0
    assert not (project / RUN_FILES).exists()
    shown = json.loads(dvc(project, "exp", "show", "--json").stdout)
    assert running(shown) == [] and [e["name"] for e in shown[1]["experiments"]] == ["slow"]


def test_we_list_dvcs_workspace_run_as_running(project: Path, dvc) -> None:
    argv = [str(ensure_dvc()), "exp", "run", "-S", "lr=3", "-n", "theirs"]
    proc = start(project, argv, dvc_env())
    try:
        theirs = dvc(project, "exp", "show", "--json").stdout
        ours = run_cli(project, "show", "--json", check=True).stdout
        assert json.loads(ours) == json.loads(theirs)
        (entry,) = running(json.loads(ours))
        assert entry["name"] == "theirs"
    finally:
        assert finish(project, proc) == 0


@pytest.mark.parametrize("how", ["failure", "interrupt"])
def test_run_files_go_when_the_run_fails_or_is_interrupted(project: Path, dvc, how: str) -> None:
    proc = start(project, ["jupyter-exp", "run", "-S", "lr=4", "-n", "doomed"])
    assert (project / RUN_FILES / dvcexec.INFO_FILE).is_file()
    if how == "failure":
        (project / "fail").touch()
        assert finish(project, proc) != 0
    else:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        assert proc.returncode != 0
    assert not (project / RUN_FILES).exists()
    assert running(json.loads(dvc(project, "exp", "show", "--json").stdout)) == []


def test_stale_run_files_of_a_dead_process_are_ignored(project: Path, dvc) -> None:
    folder = project / RUN_FILES
    with dvcexec.workspace_run(
        project / ".dvc" / "tmp",
        git_root=project,
        dvc_root=project,
        baseline=git(project, "rev-parse", "HEAD").strip(),
        name="ghost",
    ):
        (entry,) = running(json.loads(run_cli(project, "show", "--json", check=True).stdout))
        assert entry["name"] == "ghost"
        proc_file = folder / dvcexec.PROC_FILE
        info = json.loads(proc_file.read_text())
        child = subprocess.Popen(["true"])  # a pid that no longer runs
        child.wait()
        proc_file.write_text(json.dumps({**info, "pid": child.pid}))
        assert running(json.loads(run_cli(project, "show", "--json", check=True).stdout)) == []
        assert running(json.loads(dvc(project, "exp", "show", "--json").stdout)) == []
    assert folder.exists()  # not ours any more (another pid): left alone


# --- runs in temporary worktrees ------------------------------------------------------------


def start_temp(root: Path, argv: list[str]) -> tuple[subprocess.Popen, Path]:
    """Start a run in a worktree; return it and its worktree once its stage started."""
    proc = subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    top = root / ".dvc" / "tmp" / Path(*dvcexec.STANDALONE_DIR)
    deadline = time.monotonic() + 120
    while True:
        infos = list(top.glob(f"*/*{dvcexec.INFO_SUFFIX}")) if top.is_dir() else []
        if infos:
            worktree = Path(json.loads(infos[0].read_text())["root_dir"])
            if (worktree / "started").exists():
                return proc, worktree
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the stage never started: {proc.communicate()[0]!r}")
        time.sleep(0.05)


def test_dvc_lists_our_temp_run_as_running_as_we_do(project: Path, dvc) -> None:
    proc, worktree = start_temp(project, ["jupyter-exp", "run", "--temp", "-S", "lr=5"])
    try:
        theirs = dvc(project, "exp", "show", "--json").stdout
        (entry,) = running(json.loads(theirs))
        assert entry["executor"]["name"] == "tempdir"
        assert entry["executor"]["local"]["pid"] == proc.pid
        assert entry["revs"][0]["data"]["params"]["params.yaml"] == {"data": {"lr": 5}}
        assert run_cli(project, "show", "--json", check=True).stdout == theirs
    finally:
        (worktree / "go").touch()
        proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert not (project / ".dvc" / "tmp" / "exps" / "standalone").exists()
    shown = json.loads(dvc(project, "exp", "show", "--json").stdout)
    assert running(shown) == [] and len(shown[1]["experiments"]) == 1


def test_dvc_lists_our_queue_worker_as_running(project: Path, dvc) -> None:
    queued = run_cli(project, "run", "--queue", "-S", "lr=6", "-n", "queued-slow")
    assert queued.returncode == 0, queued.stderr
    proc, worktree = start_temp(project, ["jupyter-exp", "queue", "start"])
    try:
        (entry,) = running(json.loads(dvc(project, "exp", "show", "--json").stdout))
        assert entry["name"] == "queued-slow" and entry["executor"]["name"] == "tempdir"
        (ours,) = running(json.loads(run_cli(project, "show", "--json", check=True).stdout))
        assert ours["name"] == "queued-slow"  # once, as the queue's own entry
        assert ours["executor"]["name"] == "dvc-task"
    finally:
        (worktree / "go").touch()
        proc.communicate(timeout=120)
    assert run_cli(project, "run", "--run-all").returncode == 0  # waits for the worker's end
    deadline = time.monotonic() + 120
    while (project / ".dvc" / "tmp" / "exps" / "standalone").exists():
        assert time.monotonic() < deadline, "the worker's run files stayed"
        time.sleep(0.1)
