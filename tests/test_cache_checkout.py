"""Cache layout and checkout with each link type; DVC reads what we write and vice versa."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from jupyter_exp.core.add import add
from jupyter_exp.core.cache import Cache
from jupyter_exp.core.checkout import checkout, is_up_to_date
from jupyter_exp.core.fsutil import atomic_write_text, remove_path
from jupyter_exp.core.hashing import hash_path, tree_bytes
from jupyter_exp.core.objects import HashInfo
from jupyter_exp.core.repo import Repo
from jupyter_exp.errors import CacheMissingError

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


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def cache_listing(root: Path) -> dict[str, tuple[int, bytes]]:
    base = root / ".dvc" / "cache"
    return {
        p.relative_to(base).as_posix(): (stat.S_IMODE(p.stat().st_mode), p.read_bytes())
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(make_project):
    root = make_project(
        {
            "data": {"a.txt": "hello\n", "sub": {"b.txt": "bee\n"}, "dup.txt": "hello\n"},
            "file.bin": b"\x00\x01binary",
        },
        commit=False,
    )
    return root


def test_save_file_layout_and_mode(project: Path) -> None:
    repo = Repo(project)
    cache = Cache(repo)
    info, tree = hash_path(repo, "file.bin")
    assert tree is None
    cache.save(project / "file.bin", info)
    obj = project / ".dvc/cache/files/md5" / info.md5[:2] / info.md5[2:]
    assert cache.object_path(info.md5) == obj
    assert obj.read_bytes() == b"\x00\x01binary"
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    assert cache.has(info)
    # The user's file is untouched and still writable.
    assert (project / "file.bin").read_bytes() == b"\x00\x01binary"
    assert os.access(project / "file.bin", os.W_OK) or os.geteuid() == 0
    assert stat.S_IMODE((project / "file.bin").stat().st_mode) & 0o200
    cache.save(project / "file.bin", info)  # present already: no-op
    assert [p.name for p in obj.parent.iterdir()] == [obj.name]  # no temp files left


def test_save_dir_and_read_tree(project: Path) -> None:
    repo = Repo(project)
    cache = Cache(repo)
    info, tree = hash_path(repo, "data")
    assert not cache.has(info)
    cache.save(project / "data", info, tree)
    assert cache.has(info)
    assert cache.object_path(info.md5).read_bytes() == tree_bytes(tree)
    assert cache.object_path(info.md5).name.endswith(".dir")
    assert [(e.relpath, e.md5) for e in cache.read_tree(info.md5)] == [
        (e.relpath, e.md5) for e in tree
    ]
    # One object per distinct content (a.txt and dup.txt share one).
    assert len(list(cache.iter_objects())) == 3
    os.chmod(cache.object_path(tree[0].md5), 0o644)
    os.unlink(cache.object_path(tree[0].md5))
    assert not cache.has(info)
    assert cache.missing(info) == ["a.txt", "dup.txt"]
    with pytest.raises(CacheMissingError):
        cache.read_tree("0" * 32 + ".dir")


def test_corrupt_dir_object_counts_as_missing(project: Path) -> None:
    cache = Cache(Repo(project))
    bad = cache.object_path("ab" + "c" * 30 + ".dir")
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    with pytest.raises(CacheMissingError):
        cache.read_tree("ab" + "c" * 30 + ".dir")


@pytest.mark.parametrize("link", ["copy", "hardlink", "symlink", "reflink"])
def test_checkout_each_link_type(project: Path, link: str) -> None:
    repo = Repo(project)
    cache = Cache(repo)
    info, tree = hash_path(repo, "data")
    cache.save(project / "data", info, tree)
    finfo, _ = hash_path(repo, "file.bin")
    cache.save(project / "file.bin", finfo)
    shutil.rmtree(project / "data")
    os.unlink(project / "file.bin")

    links = [link] if link != "reflink" else ["reflink", "copy"]  # ext4 has no reflink
    checkout(cache, info, project / "data", links)
    checkout(cache, finfo, project / "file.bin", links)
    assert (project / "data" / "sub" / "b.txt").read_text() == "bee\n"
    assert hash_path(repo, "data")[0].md5 == info.md5
    assert (project / "file.bin").read_bytes() == b"\x00\x01binary"
    target = project / "data" / "a.txt"
    obj = cache.object_path(md5(b"hello\n"))
    if link == "hardlink":
        assert os.path.samefile(target, obj) and not target.is_symlink()
    elif link == "symlink":
        assert target.is_symlink() and Path(os.readlink(target)) == obj
    else:
        assert not target.is_symlink() and not os.path.samefile(target, obj)
        assert stat.S_IMODE(target.stat().st_mode) & 0o200  # copies are writable
    assert is_up_to_date(cache, info, project / "data")
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444  # cache stays read-only


def test_checkout_dir_removes_extras_and_fixes_changes(project: Path) -> None:
    repo = Repo(project)
    cache = Cache(repo)
    info, tree = hash_path(repo, "data")
    cache.save(project / "data", info, tree)
    (project / "data" / "extra.txt").write_text("not in the tree")
    (project / "data" / "newdir").mkdir()
    (project / "data" / "newdir" / "x").write_text("x")
    (project / "data" / "a.txt").write_text("edited\n")
    shutil.rmtree(project / "data" / "sub")
    (project / "data" / "sub").write_text("a file where a dir should be")
    (project / "data" / ".git").mkdir()  # never collected, never deleted
    assert not is_up_to_date(cache, info, project / "data")
    checkout(cache, info, project / "data", ["copy"])
    assert sorted(
        p.relative_to(project / "data").as_posix() for p in (project / "data").rglob("*")
    ) == [".git", "a.txt", "dup.txt", "sub", "sub/b.txt"]
    assert (project / "data" / "a.txt").read_text() == "hello\n"
    assert is_up_to_date(cache, info, project / "data")


def test_checkout_missing_object_leaves_workspace_alone(project: Path) -> None:
    repo = Repo(project)
    cache = Cache(repo)
    info, tree = hash_path(repo, "data")
    cache.save(project / "data", info, tree)
    obj = cache.object_path(md5(b"bee\n"))
    os.chmod(obj, 0o644)
    os.unlink(obj)
    (project / "data" / "a.txt").write_text("edited\n")
    with pytest.raises(CacheMissingError) as caught:
        checkout(cache, info, project / "data", ["copy"])
    assert caught.value.path == "data/sub/b.txt"
    assert (project / "data" / "a.txt").read_text() == "edited\n"
    with pytest.raises(CacheMissingError) as caught:
        checkout(cache, HashInfo(md5="1" * 32, size=1), project / "nothing", ["copy"])
    assert caught.value.path == "nothing"
    assert not (project / "nothing").exists()


def test_checkout_exec_and_relink(project: Path) -> None:
    repo = Repo(project)
    cache = Cache(repo)
    script = project / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    info, _ = hash_path(repo, "run.sh")
    assert info.isexec
    cache.save(script, info)
    assert stat.S_IMODE(cache.object_path(info.md5).stat().st_mode) == 0o444
    os.unlink(script)
    checkout(cache, info, script, ["copy"])
    assert os.access(script, os.X_OK)
    checkout(cache, info, script, ["hardlink"], relink=True)
    assert os.path.samefile(script, cache.object_path(info.md5))


def test_remove_path_read_only_trees(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("x")
    os.chmod(tree / "sub" / "f", 0o444)
    os.chmod(tree / "sub", 0o555)
    (tmp_path / "link").symlink_to(tree)
    remove_path(tmp_path / "link")
    assert tree.exists()
    remove_path(tree)
    assert not tree.exists()
    remove_path(tmp_path / "missing")
    atomic_write_text(tmp_path / "x.txt", "héllo\n")
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "héllo\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


@pytest.mark.oracle
@needs_dvc
def test_cache_matches_dvc_and_dvc_reads_ours(make_project) -> None:
    files = {
        "data": {"a.txt": "hello\n", "sub": {"b.txt": "bee\n"}, "dup.txt": "hello\n"},
        "model.pkl": os.urandom(3000),
    }
    ours = make_project(files, commit=False, name="ours")
    theirs = make_project(files, commit=False, name="theirs")
    (theirs / "model.pkl").write_bytes((ours / "model.pkl").read_bytes())
    run_dvc(theirs, "init", "-q")
    run_dvc(theirs, "add", "data", "model.pkl")
    run_dvc(ours, "init", "-q")
    repo = Repo(ours)
    add(repo, "data")
    add(repo, "model.pkl")
    assert cache_listing(ours) == cache_listing(theirs)
    # DVC sees our project as clean, and restores our data from our cache.
    assert "up to date" in run_dvc(ours, "status")
    shutil.rmtree(ours / "data")
    os.unlink(ours / "model.pkl")
    run_dvc(ours, "checkout")
    assert (ours / "data" / "sub" / "b.txt").read_text() == "bee\n"
    assert "up to date" in run_dvc(ours, "status")
    # And we check out from a cache DVC wrote.
    shutil.rmtree(theirs / "data")
    repo_t = Repo(theirs)
    info = HashInfo(md5=hash_path(repo, "data")[0].md5)
    checkout(Cache(repo_t), info, theirs / "data", ["hardlink", "copy"])
    assert "up to date" in run_dvc(theirs, "status")
