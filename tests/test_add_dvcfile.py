"""``add`` and ``*.dvc`` files: byte-identical to ``dvc add``; loading with located errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jupyter_exp.core.add import add
from jupyter_exp.core.cache import Cache
from jupyter_exp.core.dvcfile import find_dvcfiles, load_data_source, write_dvcfile
from jupyter_exp.core.objects import HashInfo
from jupyter_exp.core.repo import Repo
from jupyter_exp.errors import (
    InvalidArgumentError,
    OverlappingOutputError,
    PathOutsideRepoError,
    PipelineSchemaError,
    PipelineSyntaxError,
)

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


def twins(make_project, files: dict) -> tuple[Path, Path]:
    """The same files in two fresh git repos (ours, DVC's), both `dvc init`-ed."""
    ours = make_project(files, commit=False, name="ours")
    theirs = make_project(files, commit=False, name="theirs")
    run_dvc(ours, "init", "-q")
    run_dvc(theirs, "init", "-q")
    return ours, theirs


def same_bytes(ours: Path, theirs: Path, *names: str) -> None:
    for name in names:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


EXISTING = """\
# tracked by hand
desc: raw data   # keep me
meta:
  owner: me
frozen: false
outs:
- md5: 0123456789abcdef0123456789abcdef
  size: 3
  hash: md5
  path: f.txt
  desc: out desc
  cache: true
  persist: false
  labels: [a, b]
"""


@pytest.mark.oracle
@needs_dvc
def test_add_writes_what_dvc_writes(make_project) -> None:
    files = {
        "data": {"a.txt": "hello\n", "sub": {"b.txt": "bee\n"}},
        "run.sh": "#!/bin/sh\n",
        "sub": {"we[ir]d *.csv": "a,b\n", "x.csv": "1\n"},
        "f.txt": "v2\n",
        "f.txt.dvc": EXISTING,
        "other.bin": b"\x00\x01",
        "track.dvc": "outs:\n- path: other.bin\n  md5: 1111111111111111111111111111111a\n",
        ".gitignore": "*.log\n/already",
        "already": "ignored by git already\n",
    }
    ours, theirs = twins(make_project, files)
    for root in (ours, theirs):
        (root / "run.sh").chmod(0o755)
    targets = ["data", "run.sh", "sub/we[ir]d *.csv", "sub/x.csv", "f.txt", "other.bin", "already"]
    run_dvc(theirs, "add", *targets)
    repo = Repo(ours)
    written = [add(repo, t) for t in targets]
    assert written == [
        "data.dvc",
        "run.sh.dvc",
        "sub/we[ir]d *.csv.dvc",
        "sub/x.csv.dvc",
        "f.txt.dvc",
        "track.dvc",
        "already.dvc",
    ]
    same_bytes(ours, theirs, *written, ".gitignore", "sub/.gitignore")
    assert "isexec: true" in (ours / "run.sh.dvc").read_text()
    assert "# keep me" in (ours / "f.txt.dvc").read_text()
    assert "up to date" in run_dvc(ours, "status")


@pytest.mark.oracle
@needs_dvc
def test_readd_after_change_matches_dvc(make_project) -> None:
    ours, theirs = twins(make_project, {"data": {"a": "1"}, "f.txt": "1\n"})
    run_dvc(theirs, "add", "data", "f.txt")
    repo = Repo(ours)
    add(repo, "data")
    add(repo, "f.txt")
    for root in (ours, theirs):
        (root / "data" / "b").write_text("new file")
        (root / "f.txt").write_text("changed\n")
        (root / "f.txt").chmod(0o755)
    run_dvc(theirs, "add", "data", "f.txt")
    add(repo, "data")
    add(repo, "f.txt")
    same_bytes(ours, theirs, "data.dvc", "f.txt.dvc", ".gitignore")
    assert "up to date" in run_dvc(ours, "status")


def test_add_file_and_dir(make_project) -> None:
    root = make_project({"data": {"a.txt": "hello\n"}, "m.bin": b"12"}, commit=False)
    repo = Repo(root)
    assert add(repo, "data") == "data.dvc"
    assert add(repo, str(root / "m.bin")) == "m.bin.dvc"
    assert (root / ".gitignore").read_text() == "/data\n/m.bin\n"
    assert (root / "m.bin.dvc").read_text() == (
        "outs:\n- md5: c20ad4d76fe97759aa27a0c99bff6710\n  size: 2\n  hash: md5\n  path: m.bin\n"
    )
    _, hashes = load_data_source(repo, "data.dvc")
    assert Cache(repo).has(hashes["data"])
    assert hashes["data"].nfiles == 1
    # Unchanged: the .dvc file keeps its bytes (and mtime).
    before = (root / "data.dvc").stat().st_mtime_ns
    add(repo, "data")
    assert (root / "data.dvc").stat().st_mtime_ns == before
    assert (root / "data" / "a.txt").read_text() == "hello\n"


def test_add_relinks_with_hardlink_cache_type(make_project) -> None:
    root = make_project(
        {"f.txt": "x\n", ".dvc": {"config": "[cache]\n    type = hardlink,copy\n"}}, commit=False
    )
    repo = Repo(root)
    add(repo, "f.txt")
    _, hashes = load_data_source(repo, "f.txt.dvc")
    assert os.path.samefile(root / "f.txt", Cache(repo).object_path(hashes["f.txt"].md5))


def test_add_bad_targets(make_project) -> None:
    root = make_project(
        {
            "data": {"a": "1", "inner": {"b": "2"}},
            "x": "x",
            ".dvcignore": "*.tmp\n",
            "t.tmp": "t",
        },
        commit=False,
    )
    repo = Repo(root)
    repo.ensure_dvc_dir()
    with pytest.raises(PathOutsideRepoError):
        add(repo, "../elsewhere")
    with pytest.raises(PathOutsideRepoError):
        add(repo, str(root.parent))
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        add(repo, "nope")
    with pytest.raises(InvalidArgumentError, match=r"inside '\.git'"):
        add(repo, ".git/config")
    with pytest.raises(InvalidArgumentError, match=r"inside '\.dvc'"):
        add(repo, ".dvc/config")
    with pytest.raises(InvalidArgumentError, match=r"\.dvcignore"):
        add(repo, "t.tmp")
    with pytest.raises(InvalidArgumentError, match="root"):
        add(repo, ".")
    add(repo, "data")
    with pytest.raises(InvalidArgumentError, match="metadata"):
        add(repo, "data.dvc")
    with pytest.raises(OverlappingOutputError) as caught:
        add(repo, "data/inner")
    assert caught.value.parent == "data" and caught.value.parent_stage == "data.dvc"
    os.unlink(root / "data.dvc")
    (root / ".gitignore").write_text("")  # else data/inner.dvc is git-ignored
    add(repo, "data/inner")
    with pytest.raises(OverlappingOutputError):
        add(repo, "data")


def test_load_data_source(make_project) -> None:
    root = make_project(
        {
            "sub": {
                "d.dvc": """\
                    wdir: ..
                    desc: hi
                    frozen: true
                    outs:
                    - md5: 0123456789ABCDEF0123456789ABCDEF
                      size: 3
                      path: raw/x.csv
                      cache: false
                      desc: the x
                    - path: nohash
                    """,
            }
        }
    )
    repo = Repo(root)
    stage, hashes = load_data_source(repo, "sub/d.dvc")
    assert stage.is_data_source and stage.address == "sub/d.dvc"
    assert (stage.wdir, stage.frozen, stage.desc) == (".", True, "hi")
    assert [(o.def_path, o.repo_path, o.cache) for o in stage.outs] == [
        ("raw/x.csv", "raw/x.csv", False),
        ("nohash", "nohash", True),
    ]
    assert stage.outs[0].annotations == {"desc": "the x"}
    # DVC 2 entry (no `hash: md5`): legacy, lower-cased like DVC's schema does.
    assert hashes == {
        "raw/x.csv": HashInfo(md5="0123456789abcdef0123456789abcdef", size=3, legacy=True)
    }


@pytest.mark.parametrize(
    ("text", "error", "line", "words"),
    [
        ("outs:\n- path: a\nbogus: 1\n", PipelineSchemaError, 3, "bogus"),
        ("outs:\n- path: a\n  size: big\n", PipelineSchemaError, 3, "size"),
        ("outs:\n- md5: abcabcabc\n", PipelineSchemaError, 2, "path"),
        ("outs:\n- path: a\n  color: red\n", PipelineSchemaError, 3, "color"),
        ("outs: [\n", PipelineSyntaxError, None, "YAML"),
        ("- a\n", PipelineSchemaError, 1, "mapping"),
        ("outs:\n- path: ../../x\n", PathOutsideRepoError, 2, "outside"),
    ],
)
def test_load_errors_are_located(make_project, text, error, line, words) -> None:
    root = make_project({"bad.dvc": text})
    with pytest.raises(error) as caught:
        load_data_source(Repo(root), "bad.dvc")
    assert caught.value.path == "bad.dvc"
    if line is not None:
        assert caught.value.line == line
    assert words in str(caught.value)


def test_find_dvcfiles(make_project) -> None:
    root = make_project(
        {
            "a.dvc": "outs: []\n",
            "deep": {"er": {"b.dvc": "outs: []\n"}},
            ".hidden": {"c.dvc": "outs: []\n"},
            "sub": {".dvc": {"config": ""}, "d.dvc": "outs: []\n"},
            "notadvc.dvc.txt": "",
            ".dvc": {"e.dvc": ""},
            ".dvcignore": "venv/\nskip.dvc\n",
            "venv": {"f.dvc": "outs: []\n"},
            "skip.dvc": "outs: []\n",
        }
    )
    assert find_dvcfiles(Repo(root)) == ["a.dvc", "deep/er/b.dvc"]


def test_write_dvcfile_keeps_other_outs(make_project) -> None:
    root = make_project(
        {"two.dvc": "outs:\n- path: a  # first\n  md5: aaa\n- path: b\n  md5: bbb\n"}
    )
    repo = Repo(root)
    changed = write_dvcfile(repo, "two.dvc", [("b", HashInfo(md5="c" * 32, size=4))])
    assert changed
    assert (root / "two.dvc").read_text() == (
        "outs:\n- path: a  # first\n  md5: aaa\n"
        f"- path: b\n  md5: {'c' * 32}\n  size: 4\n  hash: md5\n"
    )
    assert not write_dvcfile(repo, "two.dvc", [("b", HashInfo(md5="c" * 32, size=4))])
