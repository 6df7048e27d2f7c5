"""The up-to-date stamp: a plain no-op repro answered from stats, never a wrong answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_cli

from jupyter_exp import Project
from jupyter_exp.core import uptodate
from jupyter_exp.core.index import Index

FILES = {
    "params.yaml": "train:\n  lr: 0.1\nother: 1\n",
    "data": {"raw.txt": "1\n2\n"},
    "dvc.yaml": """
        stages:
          prep:
            cmd: mkdir -p out && cp data/raw.txt out/a.txt
            deps: [data/raw.txt]
            outs: [out]
          train:
            cmd: cp out/a.txt model.txt
            deps: [out]
            params: [train.lr]
            outs: [model.txt]
    """,
}


@pytest.fixture
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files in these tests are seconds old at most; ns mtimes on the test fs suffice.
    monkeypatch.setattr(uptodate, "RACY_SECONDS", 0.0)


@pytest.fixture
def stamped(make_project, no_racy_window) -> Path:
    root = make_project(FILES)
    Project(root).repro()  # runs everything
    Project(root).repro()  # the no-op that writes the stamp
    assert (root / uptodate.STAMP).exists()
    return root


def answered_by_stamp(root: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run a plain repro; True if it never loaded the pipeline."""
    loads: list[int] = []
    original = Index.load.__func__  # type: ignore[attr-defined]

    def counting(cls, repo):
        loads.append(1)
        return original(cls, repo)

    with monkeypatch.context() as patch:
        patch.setattr(Index, "load", classmethod(counting))
        Project(root).repro()
    return not loads


def test_no_op_is_answered_from_the_stamp_with_the_same_events(stamped: Path, monkeypatch):
    full: list = []
    Project(stamped).repro(force=False, dry=False, on_event=full.append, run_cache=False)
    fast: list = []
    Project(stamped).repro(on_event=fast.append)
    assert [e.to_dict() for e in fast] == [e.to_dict() for e in full]
    assert answered_by_stamp(stamped, monkeypatch)


@pytest.mark.parametrize(
    "change",
    [
        "edit dependency",
        "edit tracked param",
        "edit untracked param",
        "delete output file",
        "edit output inside dir",
        "add file to output dir",
        "delete cache object",
        "edit dvc.yaml",
        "edit dvc.lock",
        "new nested dvc.yaml",
        "new .dvc file",
        "new .dvcignore",
        "edit config",
    ],
)
def test_any_change_falls_back_to_the_full_check(stamped: Path, monkeypatch, change: str):
    root = stamped
    if change == "edit dependency":
        (root / "data/raw.txt").write_text("3\n")
    elif change == "edit tracked param":
        (root / "params.yaml").write_text("train:\n  lr: 0.2\nother: 1\n")
    elif change == "edit untracked param":
        (root / "params.yaml").write_text("train:\n  lr: 0.1\nother: 2\n")
    elif change == "delete output file":
        (root / "model.txt").unlink()
    elif change == "edit output inside dir":
        (root / "out/a.txt").write_text("changed")
    elif change == "add file to output dir":
        (root / "out/new.txt").write_text("x")
    elif change == "delete cache object":
        objects = root / ".dvc/cache/files/md5"
        victim = next(p for p in objects.rglob("*") if p.is_file() and p.suffix != ".dir")
        os.chmod(victim, 0o644)
        victim.unlink()
    elif change == "edit dvc.yaml":
        text = (root / "dvc.yaml").read_text()
        (root / "dvc.yaml").write_text(text.replace("cp out/a.txt", "cat out/a.txt >"))
    elif change == "edit dvc.lock":
        text = (root / "dvc.lock").read_text()
        (root / "dvc.lock").write_text(text.replace("cmd: cp", "cmd: cpx"))
    elif change == "new nested dvc.yaml":
        (root / "data/sub").mkdir()
        (root / "data/sub/dvc.yaml").write_text(
            "stages:\n  s:\n    cmd: touch s.out\n    outs: [s.out]\n"
        )
    elif change == "new .dvc file":
        (root / "extra.txt").write_text("e")
        Project(root).add(["extra.txt"])
    elif change == "new .dvcignore":
        (root / ".dvcignore").write_text("*.tmp\n")
    elif change == "edit config":
        (root / ".dvc/config").write_text("[cache]\n    type = copy\n")
    assert not answered_by_stamp(root, monkeypatch)


def test_fresh_files_are_not_trusted(make_project):
    root = make_project(FILES)
    Project(root).repro()
    Project(root).repro()  # outputs are milliseconds old: inside the racy window
    assert not (root / uptodate.STAMP).exists()


def test_flags_and_targets_never_use_the_stamp(stamped: Path, monkeypatch):
    events: list = []
    Project(stamped).repro(["train"], on_event=events.append)
    assert (stamped / uptodate.STAMP).exists()
    ran = Project(stamped).repro(force=True)
    assert ran.ran == ["prep", "train"]
    assert not (stamped / uptodate.STAMP).exists()  # a run drops it


def test_cli_output_is_the_same_with_and_without_the_stamp(stamped: Path):
    with_stamp = run_cli(stamped, "repro")
    (stamped / uptodate.STAMP).unlink()
    without = run_cli(stamped, "repro")
    assert with_stamp.returncode == without.returncode == 0
    assert with_stamp.stdout == without.stdout
    assert "Data and pipelines are up to date." in with_stamp.stdout


def test_a_corrupt_stamp_is_ignored(stamped: Path, monkeypatch):
    (stamped / uptodate.STAMP).write_text("{not json")
    assert not answered_by_stamp(stamped, monkeypatch)
    assert Project(stamped).repro().ran == []
