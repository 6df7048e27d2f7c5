"""``.gitignore`` entries for tracked data, written exactly as ``dvc add`` writes them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jupyter_exp.core.add import add
from jupyter_exp.core.gitignore import (
    ensure_ignored,
    escape_entry,
    git_root,
    is_git_repo,
    is_ignored,
)
from jupyter_exp.core.repo import Repo
from jupyter_exp.errors import InvalidArgumentError

DVC_VENV = Path(
    os.environ.get("JUPYTER_EXP_DVC_VENV", os.path.expanduser("~/.cache/jupyter-exp/dvc-venv"))
)
DVC = DVC_VENV / "bin" / "dvc"
needs_dvc = pytest.mark.skipif(not DVC.exists(), reason="DVC oracle venv is not installed")


def run_dvc(root: Path, *args: str) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(root / ".site")}
    done = subprocess.run(
        [str(DVC), *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_creates_appends_and_never_duplicates(make_project) -> None:
    root = make_project({"a.csv": "1", "sub": {"b.csv": "2"}})
    repo = Repo(root)
    assert ensure_ignored(repo, "a.csv") == ".gitignore"
    assert (root / ".gitignore").read_text() == "/a.csv\n"
    assert ensure_ignored(repo, "a.csv") is None
    assert ensure_ignored(repo, "sub/b.csv") == "sub/.gitignore"
    assert (root / "sub" / ".gitignore").read_text() == "/b.csv\n"
    assert (root / ".gitignore").read_text() == "/a.csv\n"


def test_missing_final_newline_and_escaping(make_project) -> None:
    root = make_project({".gitignore": "*.log", "we[ir]d*?.txt": "x", "#hash": "h"})
    repo = Repo(root)
    ensure_ignored(repo, "we[ir]d*?.txt")
    ensure_ignored(repo, "#hash")
    assert (root / ".gitignore").read_text() == "*.log\n/we\\[ir\\]d\\*\\?.txt\n/\\#hash\n"
    assert escape_entry("/a!b") == "/a\\!b"


def test_already_ignored_paths_are_left_alone(make_project) -> None:
    root = make_project(
        {
            ".gitignore": "*.csv\n!keep.csv\n/build/\n",
            "x.csv": "1",
            "keep.csv": "2",
            "build": {"out.bin": "3"},
            "sub": {".gitignore": "/local\n", "local": "4"},
            "excl.dat": "5",
        }
    )
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("excl.dat\n")
    repo = Repo(root)
    assert ensure_ignored(repo, "x.csv") is None
    assert ensure_ignored(repo, "build/out.bin") is None  # parent folder ignored
    assert ensure_ignored(repo, "sub/local") is None
    assert ensure_ignored(repo, "excl.dat") is None
    assert ensure_ignored(repo, "keep.csv") == ".gitignore"  # re-included by "!keep.csv"
    assert is_ignored(root, "build", is_dir=True)
    assert not is_ignored(root, "build")  # a dir-only pattern does not match a file


def test_git_ignored_dvcfile_is_refused(make_project) -> None:
    root = make_project({".gitignore": "/ignored_dir/\n", "ignored_dir": {"f": "x"}})
    with pytest.raises(InvalidArgumentError, match="git-ignored"):
        add(Repo(root), "ignored_dir/f")
    assert not (root / "ignored_dir" / "f.dvc").exists()


def test_outside_git_nothing_happens(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "f").write_text("x")
    assert not is_git_repo(tmp_path / "proj")
    assert ensure_ignored(Repo(tmp_path / "proj"), "f") is None
    assert not (tmp_path / "proj" / ".gitignore").exists()


def test_git_root_of_nested_project(make_project) -> None:
    root = make_project({"proj": {"data.csv": "1"}})
    assert git_root(root / "proj") == root
    repo = Repo(root / "proj")
    assert ensure_ignored(repo, "data.csv") == ".gitignore"
    assert (root / "proj" / ".gitignore").read_text() == "/data.csv\n"


@pytest.mark.oracle
@needs_dvc
def test_same_gitignore_as_dvc(make_project) -> None:
    files = {
        ".gitignore": "*.log\n*.csv\n!keep.csv\n/ignored_dir/\ndata/",
        "x.csv": "1",
        "keep.csv": "2",
        "ignored_dir": {"f": "3"},
        "data": {"a": "4"},
        "sub": {".gitignore": "/dup\n", "dup": "5", "new[1]": "6"},
        "sp ace": "7",
    }
    ours = make_project(files, commit=False, name="ours")
    theirs = make_project(files, commit=False, name="theirs")
    targets = ["x.csv", "keep.csv", "data", "sub/dup", "sub/new[1]", "sp ace"]
    run_dvc(theirs, "init", "-q")
    run_dvc(theirs, "add", *targets)
    run_dvc(ours, "init", "-q")
    repo = Repo(ours)
    for target in targets:
        add(repo, target)
    for name in (".gitignore", "sub/.gitignore", "ignored_dir/.gitignore"):
        mine, dvc = ours / name, theirs / name
        assert mine.exists() == dvc.exists(), name
        if dvc.exists():
            assert mine.read_bytes() == dvc.read_bytes(), name
