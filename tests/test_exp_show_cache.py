"""``exp show``'s caches (experiments/showcache.py): what they answer, and when they step aside.

Commit rows are cached by sha, the workspace row against the stat signatures of what
it was read from. Each test proves the cache was used (the reading functions are made
to fail) and that a change of what it rests on is seen.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import run_cli, write_tree
from test_exp_show import FILES, T0, metrics, params_with, record, states

from jupyter_exp.api import Project
from jupyter_exp.experiments import collect_read, showcache
from jupyter_exp.experiments.collect import states_to_json


@pytest.fixture
def project(make_project) -> Path:
    root = make_project(FILES)
    record(root, "exp-a", {"params.yaml": params_with(0.2), "metrics.json": metrics(0.7)})
    return root


def age(root: Path, seconds: float = 60.0) -> None:
    """Backdate the workspace's files and folders: a stamp may be written.

    Of .git, only info/exclude (written by ``git init``) is watched.
    """
    when = time.time() - seconds
    exclude = root / ".git" / "info" / "exclude"
    if exclude.exists():
        os.utime(exclude, (when, when))
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*files, *dirs]:
            os.utime(os.path.join(folder, name), (when, when), follow_symlinks=False)
    os.utime(root, (when, when))


def edit(root: Path, path: str, text: str) -> None:
    """Rewrite ``path`` in place, dated in the past (older than the racy window)."""
    (root / path).write_text(text)
    when = time.time() - 30
    os.utime(root / path, (when, when))


def workspace_row(root: Path, **options: object) -> dict:
    return states_to_json(states(root, **options))[0]


def forbid_reading(monkeypatch: pytest.MonkeyPatch, *, workspace: bool, commits: bool) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("read instead of answered from the cache")

    if workspace:
        monkeypatch.setattr(collect_read, "read_workspace", refuse)
    if commits:
        monkeypatch.setattr(collect_read, "read_commit_rows", refuse)


# --- the workspace row --------------------------------------------------------------------


def test_workspace_row_is_answered_from_its_stamp_until_a_file_moves(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    age(project)
    first = states_to_json(states(project))
    assert Path(project, showcache.WORKSPACE_FILE).is_file()
    with monkeypatch.context() as patch:
        forbid_reading(patch, workspace=True, commits=True)
        assert states_to_json(states(project)) == first

    edit(project, "params.yaml", params_with(0.7))
    assert workspace_row(project)["data"]["params"]["params.yaml"]["data"]["train"]["lr"] == 0.7
    edit(project, "metrics.json", metrics(0.25))
    assert workspace_row(project)["data"]["metrics"]["metrics.json"]["data"]["acc"] == 0.25
    edit(project, "other.json", '{"lr": 9, "opt": {"kind": "sgd"}}\n')
    assert workspace_row(project)["data"]["params"]["other.json"]["data"] == {
        "lr": 9,
        "opt": {"kind": "sgd"},
    }
    (project / "metrics.json").unlink()
    assert "error" in workspace_row(project)["data"]["metrics"]["metrics.json"]


def test_workspace_stamp_sees_pipeline_and_lock_changes(project: Path) -> None:
    age(project)
    assert list(workspace_row(project)["data"]["deps"]) == ["data.txt", "train.py"]
    # A new dvc.yaml in a new folder: the discovery walk's folder changed.
    write_tree(project, {"sub": {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n    deps: [x.txt]\n"}})
    assert "sub/x.txt" in workspace_row(project)["data"]["deps"]
    age(project)
    workspace_row(project)  # stamped again
    edit(project, "dvc.lock", (project / "dvc.lock").read_text().replace("size: 6", "size: 7"))
    assert workspace_row(project)["data"]["deps"]["data.txt"]["size"] == 7
    edit(project, "dvc.yaml", "stages: {}\n")
    assert workspace_row(project)["data"]["deps"] == {
        "sub/x.txt": {"hash": None, "size": None, "nfiles": None}
    }


def test_a_broken_pipeline_is_not_stamped(project: Path) -> None:
    edit(project, "dvc.yaml", "stages: [\n")
    age(project)
    assert workspace_row(project)["error"]["type"] == "PipelineSyntaxError"
    assert not Path(project, showcache.WORKSPACE_FILE).exists()
    edit(project, "dvc.yaml", FILES["dvc.yaml"])
    assert workspace_row(project)["error"] is None


def test_fresh_files_are_not_stamped(project: Path) -> None:
    age(project)
    (project / "params.yaml").write_text(params_with(0.4))  # modified just now
    assert workspace_row(project)["data"]["params"]["params.yaml"]["data"]["train"]["lr"] == 0.4
    assert not Path(project, showcache.WORKSPACE_FILE).exists()


def test_param_deps_has_its_own_workspace_stamp(project: Path) -> None:
    age(project)
    whole = workspace_row(project)
    only = workspace_row(project, param_deps=True)
    assert "seed" in whole["data"]["params"]["params.yaml"]["data"]
    assert "seed" not in only["data"]["params"]["params.yaml"]["data"]


def test_a_bad_or_foreign_workspace_stamp_is_ignored(project: Path) -> None:
    age(project)
    first = workspace_row(project)
    path = Path(project, showcache.WORKSPACE_FILE)
    stamp = json.loads(path.read_text())
    stamp["row"]["data"]["params"] = {"forged.yaml": {"data": {}}}
    path.write_text(json.dumps({**stamp, "version": "0.0.0-other"}))
    assert workspace_row(project) == first
    path.write_text("[1, 2")
    assert workspace_row(project) == first


# --- commit rows ----------------------------------------------------------------------------


def test_commit_rows_are_cached_and_experiments_come_and_go(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = states_to_json(states(project))
    with monkeypatch.context() as patch:
        forbid_reading(patch, workspace=False, commits=True)
        assert states_to_json(states(project)) == first
    # A new experiment is read (only it), a removed one disappears.
    record(project, "exp-b", {"params.yaml": params_with(0.9)}, when=T0 + 5)
    names = [e["name"] for e in states_to_json(states(project))[1]["experiments"]]
    assert names == ["exp-b", "exp-a"]
    Project(project).exp_remove(["exp-a"])
    with monkeypatch.context() as patch:
        forbid_reading(patch, workspace=False, commits=True)
        names = [e["name"] for e in states_to_json(states(project))[1]["experiments"]]
    assert names == ["exp-b"]


def test_param_deps_rows_are_cached_apart(project: Path) -> None:
    whole = states_to_json(states(project))
    deps_only = states_to_json(states(project, param_deps=True))
    exp = deps_only[1]["experiments"][0]["revs"][0]["data"]["params"]["params.yaml"]["data"]
    assert "seed" not in exp
    assert states_to_json(states(project)) == whole  # and the whole rows are not replaced
    assert states_to_json(states(project, param_deps=True)) == deps_only
    cached = showcache.load(project)
    assert any(key.endswith(":param-deps") for key in cached)


def test_malformed_cache_entries_are_ignored(project: Path) -> None:
    first = states_to_json(states(project))
    path = Path(showcache.cache_path(project))
    raw = json.loads(path.read_text())
    for entry in raw["entries"].values():
        entry["time"] = "yesterday"  # wrong type: the entry must be read again
        entry["data"]["params"] = {"forged.yaml": {"data": {"x": 1}}}
    path.write_text(json.dumps(raw))
    assert states_to_json(states(project)) == first


def test_created_follows_the_time_zone_of_the_reader(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not hasattr(time, "tzset"):
        pytest.skip("no time.tzset here")
    states(project)  # cached under one zone...
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        exp = states_to_json(states(project))[1]["experiments"][0]["revs"][0]
        assert exp["data"]["timestamp"] == datetime.fromtimestamp(T0).isoformat()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# --- queued experiments ---------------------------------------------------------------------


def test_queued_entries_show_with_a_warm_cache_and_leave_when_removed(project: Path) -> None:
    age(project)
    run_cli(project, "show", "--json", check=True)  # everything cached
    queued = run_cli(project, "run", "--queue", "-S", "train.lr=0.4", "-n", "later")
    assert queued.returncode == 0, queued.stderr
    shown = json.loads(run_cli(project, "show", "--json", check=True).stdout)
    (entry,) = [e for e in shown[1]["experiments"] if e["name"] == "later"]
    assert entry["executor"]["state"] == "queued"
    data = entry["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["train"]["lr"] == 0.4 and data["metrics"] == {}
    assert run_cli(project, "queue", "remove", "later").returncode == 0
    shown = json.loads(run_cli(project, "show", "--json", check=True).stdout)
    assert [e["name"] for e in shown[1]["experiments"]] == ["exp-a"]


# --- the same rows for exp diff ---------------------------------------------------------------


def test_diff_takes_params_and_metrics_from_the_cached_rows(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states(project)  # HEAD's and exp-a's rows cached
    with monkeypatch.context() as patch:
        forbid_reading(patch, workspace=False, commits=True)
        diff = Project(project).exp_diff("HEAD", "exp-a")
    lr = diff.params["params.yaml"]["train.lr"]
    assert (lr["old"], lr["new"]) == (0.1, 0.2)
    assert diff.metrics["metrics.json"]["acc"]["new"] == 0.7


def test_an_edit_through_a_symlinked_params_file_is_seen(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared-other.json"
    shared.write_text('{"lr": 1, "opt": {"kind": "adam"}}\n')
    (project / "other.json").unlink()
    (project / "other.json").symlink_to(shared)
    age(project)
    old = time.time() - 60
    os.utime(shared, (old, old))
    assert workspace_row(project)["data"]["params"]["other.json"]["data"]["lr"] == 1
    assert Path(project, showcache.WORKSPACE_FILE).is_file()
    shared.write_text('{"lr": 22, "opt": {"kind": "adam"}}\n')
    os.utime(shared, (old + 5, old + 5))
    assert workspace_row(project)["data"]["params"]["other.json"]["data"]["lr"] == 22


def test_force_reads_every_row_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    age(project)
    first = states_to_json(states(project))
    calls = []
    read_rows, read_ws = collect_read.read_commit_rows, collect_read.read_workspace
    monkeypatch.setattr(
        collect_read, "read_commit_rows", lambda *a, **k: calls.append("c") or read_rows(*a, **k)
    )
    monkeypatch.setattr(
        collect_read, "read_workspace", lambda *a, **k: calls.append("w") or read_ws(*a, **k)
    )
    assert states_to_json(states(project, force=True)) == first
    assert sorted(set(calls)) == ["c", "w"]
    calls.clear()
    assert states_to_json(states(project)) == first and calls == []
    shown = run_cli(project, "show", "--json", "--force", check=True).stdout
    assert json.loads(shown) == json.loads(json.dumps(first))
