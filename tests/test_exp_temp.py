"""``exp run --temp``: a Git worktree under ``.dvc/tmp/exps`` made from the workspace,
sharing the cache and refs; the workspace is only read, at the start."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from conftest import git, run_cli
from exp_project import FILES, exp_refs, git_out, git_state, show, tree_files

from jupyter_exp import Project
from jupyter_exp.errors import InvalidArgumentError, MissingParamError, StageFailedError


@pytest.fixture
def project(make_project) -> Path:
    root = make_project(FILES)
    Project(root).repro()
    return root


def _status(root: Path) -> str:
    return git_out(root, "status", "--porcelain", "--untracked-files=all")


def _leftovers(root: Path) -> list[str]:
    folder = root / ".dvc/tmp/exps"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_temp_run_records_the_experiment_and_leaves_the_workspace_alone(project: Path) -> None:
    params = (project / "params.yaml").read_bytes()
    model = (project / "model.bin").read_bytes()
    status, state = _status(project), git_state(project)
    result = Project(project).exp_run(params=["train.lr=0.4"], temp=True, name="in-temp")

    assert result.recorded and result.temp and result.name == "in-temp"
    assert git_out(project, "rev-parse", f"{result.sha}^@") == state[0]
    assert "lr: 0.4  # learning rate" in show(project, result.sha, "params.yaml")
    assert json.loads(show(project, result.sha, "metrics.json"))["acc"] == 0.9
    # The workspace did not change at all.
    assert (project / "params.yaml").read_bytes() == params
    assert (project / "model.bin").read_bytes() == model
    assert _status(project) == status and git_state(project) == state
    # Only `train` ran: `prepare`'s output came from the shared cache, not a re-run.
    assert result.repro.ran == ["train"] and result.repro.restored == []
    # The new model went to the project's cache, where dvc.lock of the commit points.
    lock = show(project, result.sha, "dvc.lock")
    md5 = lock.split("path: model.bin")[1].split("md5: ")[1].split()[0]
    cached = project / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    assert cached.read_text() == "model lr=0.4 data=HELLO\n"
    # Worktree gone, log of a successful run not kept, Git's worktree list clean.
    assert _leftovers(project) == []
    assert len(git_out(project, "worktree", "list").splitlines()) == 1


def test_temp_run_starts_from_uncommitted_and_staged_edits(project: Path) -> None:
    (project / "data.txt").write_text("edited\n")  # tracked, not staged
    (project / "extra.txt").write_text("staged\n")
    git(project, "add", "extra.txt")
    result = Project(project).exp_run(temp=True)
    assert show(project, result.sha, "data.txt") == "edited"
    assert show(project, result.sha, "extra.txt") == "staged"
    assert (
        "data=EDITED"
        in (project / ".dvc/cache")
        .joinpath(*_cache_path(project, result.sha, "model.bin"))
        .read_text()
    )
    assert (project / "prepared.txt").read_text() == "HELLO\n"  # workspace untouched


def _cache_path(root: Path, sha: str, out: str) -> tuple[str, ...]:
    lock = show(root, sha, "dvc.lock")
    md5 = lock.split(f"path: {out}")[1].split("md5: ")[1].split()[0]
    return ("files", "md5", md5[:2], md5[2:])


def test_stage_env_points_at_the_project_not_the_worktree(project: Path) -> None:
    out = project.parent / "env.json"
    result = Project(project).exp_run(
        temp=True, name="env-temp", params=["train.lr=0.2"], env={"ENV_OUT": str(out)}
    )
    seen = json.loads(out.read_text())
    assert seen["DVC_EXP_NAME"] == "env-temp" == result.name
    assert seen["DVC_EXP_BASELINE_REV"] == result.baseline
    assert Path(seen["DVC_ROOT"]) == project.resolve()  # the project, as DVC sets it
    assert Path(seen["cwd"]).is_relative_to(project.resolve() / ".dvc/tmp/exps")


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_workspace_edits_during_a_temp_run_do_not_leak_in(project: Path) -> None:
    signal = project.parent / "go"
    results = []
    errors = []

    def run() -> None:
        try:
            results.append(
                Project(project).exp_run(
                    temp=True, params=["train.lr=0.3"], env={"WAIT_FOR": str(signal)}
                )
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for(Path(str(signal) + ".started"))
    # The user keeps working while the experiment runs.
    (project / "params.yaml").write_text(FILES["params.yaml"].replace("0.1", "5.0"))
    (project / "data.txt").write_text("changed meanwhile\n")
    (project / "new.txt").write_text("new meanwhile\n")
    git(project, "add", "new.txt")
    signal.touch()
    thread.join(timeout=60)
    assert not errors, errors
    result = results[0]
    assert "lr: 0.3" in show(project, result.sha, "params.yaml")
    assert show(project, result.sha, "data.txt") == "hello"
    assert "new.txt" not in tree_files(project, result.sha)
    # ...and the user's edits are all still there.
    assert "lr: 5.0" in (project / "params.yaml").read_text()
    assert (project / "data.txt").read_text() == "changed meanwhile\n"
    assert "A  new.txt" in _status(project)


def test_copy_paths_reach_the_worktree_but_not_the_experiment(project: Path) -> None:
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "secret.txt\n")
    (project / "secret.txt").write_text("s3cr3t\n")
    result = Project(project).exp_run(
        temp=True, params=["train.lr=0.35"], copy_paths=[project / "secret.txt"]
    )
    assert json.loads(show(project, result.sha, "metrics.json"))["secret"] == "s3cr3t"
    assert "secret.txt" not in tree_files(project, result.sha)
    with pytest.raises(InvalidArgumentError, match="unable to copy"):
        Project(project).exp_run(temp=True, copy_paths=[project / "nope.txt"])
    assert _leftovers(project) == []


def test_untracked_paths_not_named_stay_out(project: Path) -> None:
    (project / "secret.txt").write_text("not copied\n")  # untracked, not ignored
    result = Project(project).exp_run(temp=True, params=["train.lr=0.6"])
    assert json.loads(show(project, result.sha, "metrics.json"))["secret"] is None


def test_failed_temp_run_records_nothing_removes_the_worktree_keeps_the_log(
    project: Path,
) -> None:
    status = _status(project)
    with pytest.raises(StageFailedError):
        Project(project).exp_run(temp=True, params=["+train.fail=true"])
    assert exp_refs(project) == {}
    assert _status(project) == status  # the workspace never saw the override
    leftovers = _leftovers(project)
    assert len(leftovers) == 1 and leftovers[0].endswith(".log")
    log = (project / ".dvc/tmp/exps" / leftovers[0]).read_text()
    assert "training failed on purpose" in log and "stage 'train' failed" in log
    assert len(git_out(project, "worktree", "list").splitlines()) == 1


def test_bad_override_in_temp_changes_nothing(project: Path) -> None:
    status = _status(project)
    with pytest.raises(MissingParamError):
        Project(project).exp_run(temp=True, params=["train.nope=1"])
    assert _status(project) == status and exp_refs(project) == {}
    assert _leftovers(project) == []


def test_temp_result_identical_to_an_experiment_is_not_recorded(project: Path) -> None:
    api = Project(project)
    first = api.exp_run(params=["train.lr=0.5"], temp=True)
    # The stage runs again (no run-cache) and writes the same outputs.
    again = api.exp_run(params=["train.lr=0.5"], temp=True, run_cache=False)
    assert again.repro.ran == ["train"]
    assert again.identical_to == first.name and not again.recorded
    assert len(exp_refs(project)) == 1


def test_run_cache_restore_keeps_uncached_outputs_in_the_experiment(project: Path) -> None:
    api = Project(project)
    first = api.exp_run(params=["train.lr=0.5"], temp=True)
    again = api.exp_run(params=["train.lr=0.5"], temp=True)
    assert again.repro.restored == ["train"]
    assert again.identical_to == first.name


def test_dry_run_goes_to_a_worktree_and_records_nothing(project: Path) -> None:
    status = _status(project)
    result = Project(project).exp_run(params=["train.lr=0.5"], dry=True)
    assert result.repro.dry == ["train"] and not result.recorded
    assert _status(project) == status and exp_refs(project) == {}


def test_worktree_uses_the_projects_cache(project: Path) -> None:
    """The worktree's config.local points at our cache, the user's local config kept."""
    (project / ".dvc/config.local").write_text("[core]\n    autostage = false\n")
    signal = project.parent / "go-cache"
    results = []
    thread = threading.Thread(
        target=lambda: results.append(
            Project(project).exp_run(
                temp=True, params=["train.lr=0.2"], env={"WAIT_FOR": str(signal)}
            )
        )
    )
    thread.start()
    _wait_for(Path(str(signal) + ".started"))
    # standalone/: DVC's record of the run (experiments/dvcexec.py), not a worktree.
    exps = (project / ".dvc/tmp/exps").iterdir()
    (worktree,) = [p for p in exps if p.is_dir() and p.name != "standalone"]
    local = (worktree / ".dvc/config.local").read_text()
    signal.touch()
    thread.join(timeout=60)
    assert local == (
        f"[core]\n    autostage = false\n[cache]\n    dir = {(project / '.dvc/cache').resolve()}\n"
    )
    cached = _cache_path(project, results[0].sha, "model.bin")
    assert (project / ".dvc/cache").joinpath(*cached).exists()
    assert not (worktree / ".dvc/cache").exists()


def test_two_concurrent_temp_runs_both_land(project: Path) -> None:
    import subprocess

    procs = [
        subprocess.Popen(
            ["jupyter-exp", "run", "--temp", "-S", f"train.lr={lr}", "-q"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for lr in (0.2, 0.3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    refs = exp_refs(project)
    assert len(refs) == 2
    lrs = sorted(
        show(project, sha, "params.yaml").split("lr: ")[1].split()[0] for sha in refs.values()
    )
    assert lrs == ["0.2", "0.3"]
    assert _leftovers(project) == []


def test_cli_temp_run_says_how_to_apply(project: Path) -> None:
    done = run_cli(project, "run", "--temp", "-S", "train.lr=0.3", "-n", "cli-temp")
    assert done.returncode == 0, done.stderr
    assert "Ran experiment(s): cli-temp\n" in done.stdout
    assert done.stdout.endswith(
        "To apply the results of an experiment to your workspace run:\n\n"
        "\tjupyter exp apply <exp>\n"
    )


def test_ctrl_c_in_a_temp_run_removes_the_worktree(project: Path) -> None:
    import os
    import signal
    import subprocess

    go = project.parent / "never-temp"
    status = _status(project)
    proc = subprocess.Popen(
        ["jupyter-exp", "run", "--temp", "-S", "train.lr=0.3"],
        cwd=project,
        env={**os.environ, "WAIT_FOR": str(go)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(Path(str(go) + ".started"))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert exp_refs(project) == {} and _status(project) == status
    assert [name.endswith(".log") for name in _leftovers(project)] == [True]
    assert len(git_out(project, "worktree", "list").splitlines()) == 1
