"""Hashing and the state db: DVC 3's md5s and .dir bytes, state hits, concurrency."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_exp.core.hashing import hash_file, hash_path, md5_file, tree_bytes, tree_md5
from jupyter_exp.core.objects import TreeEntry
from jupyter_exp.core.repo import Repo
from jupyter_exp.core.state import StateDB, is_racy, state_path
from jupyter_exp.errors import DataError
from jupyter_exp.events import HashingProgress

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


def age(path: Path, seconds: float = 10.0) -> None:
    """Backdate mtimes so the state db trusts them (fresh files are 'racy')."""
    stamp = time.time() - seconds
    targets = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for p in targets:
        os.utime(p, (stamp, stamp))


def test_file_md5_is_raw_bytes_no_dos2unix(tmp_path: Path) -> None:
    data = b"a\r\nb\r\n"
    (tmp_path / "crlf.txt").write_bytes(data)
    info = hash_file(tmp_path / "crlf.txt")
    assert info.md5 == hashlib.md5(data).hexdigest()
    assert info.md5 != hashlib.md5(b"a\nb\n").hexdigest()
    assert (info.size, info.nfiles, info.isexec) == (6, None, False)


def test_large_file_chunks(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    (tmp_path / "big").write_bytes(data)
    assert md5_file(tmp_path / "big") == hashlib.md5(data).hexdigest()


def test_exec_bit_recorded_for_files(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert hash_file(script).isexec


def test_tree_bytes_exactly_as_dvc() -> None:
    entries = [
        TreeEntry("sub/b.txt", "e20942bc0763636e19c18b95bb194501", 6, False),
        TreeEntry("a.txt", "b1946ac92492d2347c6235b4d2611184", 6, True),
    ]
    assert tree_bytes(entries) == (
        b'[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "a.txt"}, '
        b'{"md5": "e20942bc0763636e19c18b95bb194501", "relpath": "sub/b.txt"}]'
    )
    assert tree_md5(entries) == hashlib.md5(tree_bytes(entries)).hexdigest() + ".dir"
    # The empty directory DVC records.
    assert tree_md5([]) == "d751713988987e9331980363e24189ce.dir"
    # Non-ASCII names are \u-escaped by json.dumps' defaults, as in DVC.
    assert b"\\u00e9" in tree_bytes([TreeEntry("\u00e9.txt", "x" * 32)])


def test_hash_path_dir(make_project) -> None:
    root = make_project(
        {"data": {"a.txt": "hello\n", "sub": {"b.txt": b"x\r\ny\r\n"}, "run.sh": "#!/bin/sh\n"}}
    )
    (root / "data" / "run.sh").chmod(0o755)
    (root / "data" / "empty").mkdir()
    info, tree = hash_path(Repo(root), "data")
    assert info.md5 == "ef0a30796a1d462717fe58c442bf451c.dir"
    assert (info.size, info.nfiles, info.isexec) == (22, 3, False)
    assert [e.relpath for e in tree] == ["a.txt", "run.sh", "sub/b.txt"]
    assert [e.isexec for e in tree] == [False, True, False]
    assert hash_path(Repo(root), "missing") is None
    assert hash_path(Repo(root), "data/a.txt/nope") is None


def test_dir_walk_rules(make_project) -> None:
    root = make_project({"data": {"a": "1", ".git": {"HEAD": "x"}, ".dvc": {"c": "y"}}})
    (root / "data" / ".hg").mkdir()
    (root / "data" / ".hg" / "x").write_text("z")
    (root / "target.txt").write_text("linked")
    (root / "data" / "link").symlink_to(root / "target.txt")
    (root / "data" / "dirlink").symlink_to(root / "data" / ".dvc")
    _, tree = hash_path(Repo(root), "data")
    # Symlinked files count as their target; symlinked dirs and VCS folders do not.
    assert {e.relpath: e.md5 for e in tree} == {
        "a": hashlib.md5(b"1").hexdigest(),
        "link": hashlib.md5(b"linked").hexdigest(),
    }


def test_fifo_is_refused_not_read(make_project) -> None:
    root = make_project({})
    os.mkfifo(root / "pipe")
    with pytest.raises(DataError, match="not a regular file"):
        hash_path(Repo(root), "pipe")


def test_broken_symlink_in_dir_is_an_error(make_project) -> None:
    root = make_project({"data": {"a": "1"}})
    (root / "data" / "dead").symlink_to(root / "nowhere")
    with pytest.raises(DataError, match="broken symlink"):
        hash_path(Repo(root), "data")


def test_dvcignore(make_project) -> None:
    root = make_project(
        {
            ".dvcignore": "*.tmp\n!keep.tmp\n# comment\nlogs/\n",
            "data": {"a": "1", "b.tmp": "2", "keep.tmp": "3", "logs": {"x": "4"}},
            "ignored.tmp": "5",
        }
    )
    _, tree = hash_path(Repo(root), "data")
    assert [e.relpath for e in tree] == ["a", "keep.tmp"]
    assert hash_path(Repo(root), "ignored.tmp") is None
    (root / "data" / ".dvcignore").write_text("a\n")
    with pytest.raises(DataError, match=r"\.dvcignore file should not be in collected dir"):
        hash_path(Repo(root), "data")


def test_state_db_is_used_for_unchanged_files(make_project) -> None:
    root = make_project({"data": {f"f{i}": f"content {i}" for i in range(20)}, "one": "1"})
    age(root / "data")
    age(root / "one")
    repo = Repo(root)
    with StateDB(state_path(repo.tmp_dir)) as state:
        first, _ = hash_path(repo, "data", state)
        hash_path(repo, "one", state)
        # Plant a wrong md5 for an unchanged stat: only a state hit can return it.
        fake = "f" * 32
        state.set_files([(os.stat(root / "one"), fake)])
        assert hash_path(repo, "one", state)[0].md5 == fake
        assert hash_path(repo, "data", state)[0].md5 == first.md5
        # A real change (new mtime) is never served from the state.
        (root / "one").write_text("2")
        assert hash_path(repo, "one", state)[0].md5 == hashlib.md5(b"2").hexdigest()
        (root / "data" / "f3").write_text("changed!!")
        second, tree = hash_path(repo, "data", state)
        assert second.md5 != first.md5
        assert second.md5 == hash_path(repo, "data", None)[0].md5
        assert {e.relpath: e.md5 for e in tree}["f3"] == hashlib.md5(b"changed!!").hexdigest()


def test_racy_files_are_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("a")
    st = os.stat(path)
    assert is_racy(st, st.st_mtime_ns + 1_000_000)
    assert not is_racy(st, st.st_mtime_ns + 5_000_000_000)
    with StateDB(tmp_path / "state.db") as state:
        hash_file(path, state)  # just written: too fresh to trust
        assert state.get_file(st) is None
        age(path)
        hash_file(path, state)
        assert state.get_file(os.stat(path)) == hashlib.md5(b"a").hexdigest()


def test_corrupt_state_db_is_recreated(tmp_path: Path) -> None:
    db = tmp_path / "jupyter-exp" / "state.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not sqlite" * 100)
    path = tmp_path / "f"
    path.write_text("x")
    age(path)
    with StateDB(db) as state:
        assert hash_file(path, state).md5 == hashlib.md5(b"x").hexdigest()
        assert state.get_file(os.stat(path)) == hashlib.md5(b"x").hexdigest()
    assert db.read_bytes().startswith(b"SQLite format 3")


_WRITER = """
import os, sys
from pathlib import Path
from jupyter_exp.core.state import StateDB
db, offset = Path(sys.argv[1]), int(sys.argv[2])
st = os.stat(sys.argv[3])
with StateDB(db) as state:
    for batch in range(20):
        rows = []
        for i in range(50):
            ino = offset + batch * 50 + i
            fake = os.stat_result((st.st_mode, ino, 0, 1, 0, 0, 7, 0, 0, 0), {"st_mtime_ns": 123})
            rows.append((fake, f"{offset + batch * 50 + i:032x}"))
        state.set_files(rows)
        assert state.get_files([r[0] for r in rows]) == [r[1] for r in rows]
print("ok")
"""


def test_state_db_two_processes(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    probe = tmp_path / "probe"
    probe.write_text("p")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(db), str(offset), str(probe)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for offset in (1_000, 100_000)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 2_000


def test_progress_events_and_noop_speed(make_project) -> None:
    root = make_project({"data": {f"f{i:03d}": os.urandom(2048) for i in range(200)}})
    age(root / "data")
    repo = Repo(root)
    events: list[HashingProgress] = []
    with StateDB(state_path(repo.tmp_dir)) as state:
        first = hash_path(repo, "data", state, events.append)
        assert events and events[-1] == HashingProgress(path="data", done=200, total=200)
        start = time.perf_counter()
        again = hash_path(repo, "data", state)
        elapsed = time.perf_counter() - start
    assert again == first
    # 200 stats + one batched query; generous bound for slow CI machines.
    assert elapsed < 0.25, elapsed


def test_threaded_hash_matches_sequential(make_project) -> None:
    files = {f"f{i}": os.urandom(700_000) for i in range(12)}
    root = make_project({"data": files})
    info, tree = hash_path(Repo(root), "data")
    expected = sorted((name, hashlib.md5(data).hexdigest()) for name, data in files.items())
    assert [(e.relpath, e.md5) for e in tree] == expected
    assert info.size == 12 * 700_000


@pytest.mark.oracle
@needs_dvc
def test_same_hashes_as_dvc(make_project) -> None:
    root = make_project(
        {
            "data": {
                "a.txt": "hello\n",
                "b.csv": b"1,2\r\n3,4\r\n",
                "deep": {"x": {"y.bin": os.urandom(5000)}},
                "\u00e9t\u00e9.txt": "unicode",
                "sp ace.txt": "s",
            },
            "single.txt": b"no newline",
        },
        commit=False,
    )
    (root / "data" / "deep" / "x" / "y.bin").chmod(0o755)
    run_dvc(root, "init", "-q")
    run_dvc(root, "add", "data", "single.txt")
    repo = Repo(root)
    for name in ("data", "single.txt"):
        recorded = json.loads(json.dumps(_read_out(root / f"{name}.dvc")))
        info, _ = hash_path(repo, name)
        assert info.md5 == recorded["md5"]
        assert info.size == recorded["size"]
        assert info.nfiles == recorded.get("nfiles")
    dir_md5 = _read_out(root / "data.dvc")["md5"]
    obj = root / ".dvc" / "cache" / "files" / "md5" / dir_md5[:2] / dir_md5[2:]
    _, tree = hash_path(repo, "data")
    assert obj.read_bytes() == tree_bytes(tree)


def _read_out(path: Path) -> dict:
    from jupyter_exp.core.yamlio import load_yaml

    return load_yaml(path.read_text())["outs"][0]


@pytest.mark.oracle
@needs_dvc
def test_dvcignore_like_dvc(make_project) -> None:
    names = ["a", "b.tmp", "keep.tmp", "sub/x", "sub/y", "logs/l", "c.bak", "sub/keep.tmp"]
    root = make_project(
        {
            ".dvcignore": "*.tmp\n!keep.tmp\n/top/data/sub/x\n",
            "top": {".dvcignore": "logs/\n*.bak\n"},
        },
        commit=False,
    )
    for name in names:
        path = root / "top" / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    run_dvc(root, "init", "-q")
    run_dvc(root, "add", "top/data")
    info, tree = hash_path(Repo(root), "top/data")
    assert info.md5 == _read_out(root / "top" / "data.dvc")["md5"]
    assert [e.relpath for e in tree] == ["a", "keep.tmp", "sub/keep.tmp", "sub/y"]
