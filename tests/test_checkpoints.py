"""Checkpoints: the signal protocol, the engine's watcher, and one commit per checkpoint.

Real training-like scripts (:mod:`checkpoint_project`): a Python one calling
``make_checkpoint()`` and a shell one using the signal file as DVC 2's R/Julia snippets
do, run by the engine in real Git repositories.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from checkpoint_project import (
    FILES,
    SHELL_TRAIN,
    cached_model,
    chain,
    epoch_of,
    metrics_at,
    model_md5_at,
    run_git,
)

from jupyter_exp import Project
from jupyter_exp.checkpoints import make_checkpoint
from jupyter_exp.core.checkpoint_signal import SignalWatcher, signal_path
from jupyter_exp.errors import MissingOutputError, StageFailedError
from jupyter_exp.events import CheckpointTaken, Event


@pytest.fixture
def project(make_project) -> Path:
    return make_project(FILES)


class Events(list):
    def __call__(self, event: Event) -> None:
        self.append(event)

    def __bool__(self) -> bool:  # an empty recorder is still a sink
        return True

    def of(self, kind: type) -> list:
        return [e for e in self if isinstance(e, kind)]


# --- make_checkpoint ----------------------------------------------------------------------


def test_make_checkpoint_is_a_no_op_outside_a_run(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".dvc").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVC_CHECKPOINT", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    assert make_checkpoint() is False
    assert not signal_path(tmp_path).exists()


def test_make_checkpoint_waits_for_the_engine_to_remove_the_signal(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DVC_CHECKPOINT", "1")
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    signal = signal_path(tmp_path)
    seen: list[str] = []

    def engine() -> None:
        while not signal.exists():
            time.sleep(0.001)
        time.sleep(0.05)
        seen.append(signal.read_text())
        signal.unlink()

    thread = threading.Thread(target=engine)
    thread.start()
    started = time.monotonic()
    assert make_checkpoint() is True
    assert time.monotonic() - started >= 0.05
    thread.join()
    assert seen == [f"{os.getpid()}\n"]  # renamed into place whole
    with pytest.raises(TimeoutError):
        make_checkpoint(timeout=0.05)  # nobody answers


# --- the watcher ---------------------------------------------------------------------------


def test_a_signal_during_a_commit_is_queued_not_lost(tmp_path: Path) -> None:
    signal = signal_path(tmp_path)
    in_commit, release = threading.Event(), threading.Event()
    commits: list[int] = []

    def take() -> None:
        commits.append(len(commits) + 1)
        if len(commits) == 1:
            in_commit.set()
            assert release.wait(5)

    watcher = SignalWatcher(signal, take)
    watcher.start()
    try:
        signal.parent.mkdir(parents=True, exist_ok=True)
        with open(signal, "a") as f:
            f.write("first\n")
        assert in_commit.wait(5)
        with open(signal, "a") as f:  # a second process signals meanwhile
            f.write("second\n")
        release.set()
        deadline = time.monotonic() + 5
        while signal.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert not signal.exists()
    finally:
        watcher.stop()
    assert commits == [1, 2] and watcher.taken == 2 and watcher.error is None


def test_a_signal_left_by_a_dead_command_is_dropped_not_recorded(tmp_path: Path) -> None:
    signal = signal_path(tmp_path)
    signal.parent.mkdir(parents=True)
    signal.write_text("stale from a crash\n")
    taken: list[int] = []
    # A long poll: the signal below lands while the watcher sleeps, then the command ends.
    watcher = SignalWatcher(signal, lambda: taken.append(1), interval=30)
    watcher.start()
    assert not signal.exists()  # the stale file of an earlier crash went at start
    time.sleep(0.1)  # the watcher now sleeps until its next poll
    signal.write_text("written just before dying\n")
    watcher.stop()
    assert taken == [] and watcher.discarded and not signal.exists()


def test_stopping_waits_for_the_checkpoint_in_progress(tmp_path: Path) -> None:
    signal = signal_path(tmp_path)
    in_commit = threading.Event()
    done: list[str] = []

    def take() -> None:
        in_commit.set()
        time.sleep(0.2)
        done.append("complete")

    watcher = SignalWatcher(signal, take)
    watcher.start()
    signal.write_text("")
    assert in_commit.wait(5)
    watcher.stop()  # the command died while its checkpoint was being committed
    assert done == ["complete"] and watcher.taken == 1 and not signal.exists()


# --- the engine ----------------------------------------------------------------------------


def test_repro_commits_each_checkpoint_and_does_not_rerun_an_unchanged_stage(
    project: Path,
) -> None:
    events = Events()
    result = Project(project).repro(on_event=events)
    assert result.ran == ["train", "evaluate"]
    checkpoints = events.of(CheckpointTaken)
    assert [(e.stage, e.count) for e in checkpoints] == [("train", 1), ("train", 2), ("train", 3)]
    assert all(e.duration < 2 for e in checkpoints)
    # Every checkpoint's model went to the cache before the command went on.
    for epoch in (1, 2, 3):
        found = list((project / ".dvc/cache/files/md5").glob("*/*"))
        assert any(p.read_text().startswith(f"{epoch} lr=0.1") for p in found)
    again = Events()
    assert Project(project).repro(on_event=again).ran == []  # not always-changed
    assert epoch_of((project / "model.bin").read_text()) == 3


def test_dvc_checkpoint_is_set_only_for_checkpoint_stages(make_project) -> None:
    files = dict(FILES)
    files["dvc.yaml"] = """\
stages:
  plain:
    cmd: sh -c 'echo "x$DVC_CHECKPOINT" > plain.txt'
    outs: [plain.txt]
  ckpt:
    cmd: sh -c 'echo "x$DVC_CHECKPOINT" > ckpt.txt'
    outs:
    - ckpt.txt:
        checkpoint: true
"""
    root = make_project(files)
    Project(root).repro()
    assert (root / "plain.txt").read_text() == "x\n"
    assert (root / "ckpt.txt").read_text() == "x1\n"


def test_a_checkpoint_without_its_output_fails_the_stage(make_project) -> None:
    files = dict(FILES)
    files["dvc.yaml"] = """\
stages:
  early:
    cmd: >-
      sh -c 'touch "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT";
      while [ -e "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT" ]; do sleep 0.01; done;
      echo late > out.txt'
    outs:
    - out.txt:
        checkpoint: true
"""
    root = make_project(files)
    with pytest.raises(MissingOutputError):
        Project(root).repro()
    assert not signal_path(root).exists()  # the command was released, not left hanging


# --- experiments: one commit per checkpoint ------------------------------------------------


def test_exp_run_appends_one_commit_per_checkpoint(project: Path) -> None:
    head = run_git(project, "rev-parse", "HEAD")
    result = Project(project).exp_run(name="ckpt")
    commits = chain(project, result.sha, head)
    # Three checkpoints; evaluate ran after train, so a wrap-up checkpoint holds eval.json.
    assert result.checkpoints == commits and len(commits) == 4
    assert run_git(project, "rev-parse", f"{commits[0]}^") == head
    assert run_git(project, "rev-parse", result.ref) == result.sha
    for step, sha in enumerate(commits[:3], start=1):
        assert metrics_at(project, sha) == {"epoch": step, "loss": round(1 / step, 4)}
        model = cached_model(project, model_md5_at(project, sha))
        assert epoch_of(model) == step  # the lock points at that moment's cached model
        assert run_git(project, "log", "-1", "--format=%P", sha).split()[0] in (head, *commits)
    assert metrics_at(project, commits[3], "eval.json") == {"evaluated": 3}
    assert result.metrics["eval.json"] == {"evaluated": 3}
    assert result.repro.ran == ["train", "evaluate"]
    assert not signal_path(project).exists()


def test_no_wrap_up_when_nothing_changed_after_the_last_checkpoint(make_project) -> None:
    files = dict(FILES)
    files["dvc.yaml"] = FILES["dvc.yaml"].split("  evaluate:")[0]
    root = make_project(files)
    head = run_git(root, "rev-parse", "HEAD")
    result = Project(root).exp_run()
    assert len(chain(root, result.sha, head)) == 3
    # ...and one when the command wrote more after it.
    extra = Project(root).exp_run(env={"AFTER_LAST": "1"}, reset=True)
    commits = chain(root, extra.sha, head)
    assert len(commits) == 4
    assert "final" not in metrics_at(root, commits[2])
    assert metrics_at(root, commits[3]) == {"epoch": 3, "loss": 0.3333, "final": True}


def test_a_shell_script_using_the_signal_file_like_the_r_snippet(make_project) -> None:
    files = dict(FILES)
    files["train.sh"] = SHELL_TRAIN
    files["dvc.yaml"] = """\
stages:
  count:
    cmd: sh train.sh
    deps: [train.sh]
    outs:
    - count.txt:
        checkpoint: true
    metrics:
    - shell_metrics.json:
        cache: false
"""
    root = make_project(files)
    head = run_git(root, "rev-parse", "HEAD")
    result = Project(root).exp_run(name="shell")
    commits = chain(root, result.sha, head)
    assert [metrics_at(root, c, "shell_metrics.json") for c in commits] == [
        {"n": 1},
        {"n": 2},
        {"n": 3},
    ]
    # Run again: it resumes (count.txt is the state) and appends to the same experiment.
    again = Project(root).exp_run()
    assert again.name == "shell" and again.ref == result.ref
    commits = chain(root, again.sha, head)
    assert [metrics_at(root, c, "shell_metrics.json")["n"] for c in commits] == [1, 2, 3, 4, 5, 6]


def test_julia_style_signal_truncating_the_file(make_project) -> None:
    files = dict(FILES)
    files["dvc.yaml"] = """\
stages:
  julia:
    cmd: >-
      sh -c 'for i in 1 2; do echo $i > state.txt;
      printf "" > "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT";
      while [ -f "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT" ]; do sleep 0.01; done; done'
    outs:
    - state.txt:
        checkpoint: true
"""
    root = make_project(files)
    head = run_git(root, "rev-parse", "HEAD")
    result = Project(root).exp_run()
    assert len(chain(root, result.sha, head)) == 2


def test_a_signal_still_being_written_is_not_recorded_twice(make_project) -> None:
    files = dict(FILES)
    # The writer creates the file, then writes to it: seen in between, it looks like a
    # second signal arriving during the commit.
    files["dvc.yaml"] = """\
stages:
  slow:
    cmd: >-
      sh -c 'for i in 1 2; do echo $i > state.txt;
      : > "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT"; sleep 0.05;
      echo more >> "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT";
      while [ -e "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT" ]; do sleep 0.01; done; done'
    outs:
    - state.txt:
        checkpoint: true
"""
    root = make_project(files)
    head = run_git(root, "rev-parse", "HEAD")
    events = Events()
    result = Project(root).exp_run(on_event=events)
    assert len(chain(root, result.sha, head)) == 2
    assert [e.count for e in events.of(CheckpointTaken)] == [1, 2]


def test_a_failed_stage_keeps_the_checkpoints_taken(project: Path) -> None:
    head = run_git(project, "rev-parse", "HEAD")
    with pytest.raises(StageFailedError):
        Project(project).exp_run(name="dies", env={"DIE_AT": "2"})
    ref = run_git(project, "for-each-ref", "--format=%(objectname)", "refs/exps/*/*/dies")
    assert ref, "the experiment exists with the checkpoints taken"
    commits = chain(project, ref, head)
    assert [metrics_at(project, c)["epoch"] for c in commits] == [1, 2]
    assert epoch_of(cached_model(project, model_md5_at(project, commits[-1]))) == 2
    assert not signal_path(project).exists()
