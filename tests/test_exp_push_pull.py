"""``exp push`` / ``exp pull`` with a bare local Git remote and a local DVC data remote."""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

import pytest
from conftest import git, run_cli
from test_exp_diff import PARAMS, PIPELINE, TRAIN, reset, run_exp

from jupyter_exp import Project
from jupyter_exp.core.cache import Cache
from jupyter_exp.errors import (
    DataError,
    ExperimentNotFoundError,
    GitError,
    InvalidArgumentError,
    RevisionNotFoundError,
)
from jupyter_exp.experiments.remote_data import DataRemote, get_data_remote

CONFIG = "[core]\n    remote = store\n['remote \"store\"']\n    url = ../../store\n"


@pytest.fixture
def setup(make_project, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(project with experiment e1, bare Git remote 'origin', data remote folder)."""
    root = make_project(
        {
            "train.py": TRAIN,
            "dvc.yaml": PIPELINE,
            "params.yaml": PARAMS,
            ".dvc": {"config": CONFIG, ".gitignore": "/config.local\n/tmp\n/cache\n"},
        },
        name="project",
    )
    Project(root).repro()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    run_exp(root, "e1", 0.3)
    reset(root)
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main")
    return root, bare, tmp_path / "store"


def outputs_of(root: Path, rev: str) -> dict[str, str]:
    """out path -> md5 recorded by ``rev``'s dvc.lock (cached outputs only)."""
    return {
        path: change["new"]
        for path, change in Project(root).exp_diff("HEAD", rev, all=True).outs.items()
        if path != "metrics.json"
    }


def sibling(root: Path) -> str:
    """A commit on HEAD that is not an ancestor of any experiment."""
    return git(root, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "other").strip()


def stored(store: Path) -> set[str]:
    objects = store / "files" / "md5"
    return {f"{p.parent.name}{p.name}" for p in objects.rglob("*") if p.is_file()}


def test_push_refs_and_cached_outputs(setup) -> None:
    root, _bare, store = setup
    result = Project(root).exp_push("origin", ["e1"])
    assert (result.pushed, result.up_to_date, result.diverged) == (["e1"], [], [])
    remote = git(root, "ls-remote", "origin", "refs/exps/*").split()
    local = git(root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/exps/").split()
    assert remote == local
    # DVC 3's layout: files/md5/ab/cdef..., read-only; a directory as its files + .dir.
    outs = outputs_of(root, "e1")
    cache = Cache(Project(root).repo)
    tree = [e.md5 for e in cache.read_tree(outs["plots"])]
    assert stored(store) == {outs["model.bin"], outs["plots"], *tree}
    assert (result.data_remote, result.uploaded, result.missing) == ("store", 3, [])
    obj = store / "files" / "md5" / outs["model.bin"][:2] / outs["model.bin"][2:]
    assert obj.read_text() == "model lr=0.3\n"
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    again = Project(root).exp_push("origin", ["e1"])
    assert (again.pushed, again.up_to_date, again.uploaded) == ([], ["e1"], 0)


def test_push_selection_defaults_to_head(setup) -> None:
    root, _bare, store = setup
    old = git(root, "rev-parse", "HEAD").strip()
    (root / "README").write_text("2\n")
    git(root, "add", "README")
    git(root, "commit", "-qm", "second")
    run_exp(root, "e2", 0.5)
    reset(root)
    project = Project(root)
    assert project.exp_push("origin", push_cache=False).pushed == ["e2"]
    assert project.exp_push("origin", rev=[old], push_cache=False).pushed == ["e1"]
    assert project.exp_push("origin", all_commits=True).up_to_date == ["e1", "e2"]
    assert stored(store)  # -A pushed the data of both


def test_diverged_experiment_needs_force(setup) -> None:
    root, _bare, _store = setup
    ref = git(root, "for-each-ref", "--format=%(refname)", "refs/exps/").strip()
    other = sibling(root)
    git(root, "push", "-q", "origin", f"{other}:{ref}")  # someone else's commit there
    project = Project(root)
    result = project.exp_push("origin", ["e1"], push_cache=False)
    assert (result.pushed, result.diverged) == ([], ["e1"])
    assert git(root, "ls-remote", "origin", ref).split()[0] == other
    done = run_cli(root, "push", "--no-cache", "origin", "e1")
    assert "has diverged" in done.stderr and "No experiments to push." in done.stdout
    forced = project.exp_push("origin", ["e1"], force=True, push_cache=False)
    assert forced.pushed == ["e1"]


def test_bad_remotes_change_nothing(setup, tmp_path: Path) -> None:
    root, _bare, store = setup
    project = Project(root)
    with pytest.raises(RevisionNotFoundError, match="unknown git remote 'nowhere'"):
        project.exp_push("nowhere", ["e1"])
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    with pytest.raises(GitError):
        project.exp_push(str(not_a_repo), ["e1"])
    with pytest.raises(InvalidArgumentError, match="no DVC remote named 'other'"):
        project.exp_push("origin", ["e1"], dvc_remote="other")
    with pytest.raises(ExperimentNotFoundError):
        project.exp_push("origin", ["e1", "nope"])
    assert git(root, "ls-remote", "origin", "refs/exps/*") == ""
    assert not store.exists()
    for args in (("push", "nowhere", "e1"), ("pull", "nowhere", "e1")):
        done = run_cli(root, *args)
        assert (done.returncode, done.stderr) == (1, "ERROR: unknown git remote 'nowhere'\n")


def test_no_cache_and_no_data_remote(setup) -> None:
    root, _bare, store = setup
    result = Project(root).exp_push("origin", ["e1"], push_cache=False)
    assert (result.pushed, result.data_remote, result.uploaded) == (["e1"], None, 0)
    assert not store.exists()
    (root / ".dvc" / "config").write_text("")
    Project(root).exp_remove(["e1"], git_remote="origin")
    plain = Project(root).exp_push("origin", ["e1"])
    assert (plain.pushed, plain.data_remote) == (["e1"], None)
    assert not store.exists()


def test_pull_into_a_clone_then_apply(setup, tmp_path: Path) -> None:
    root, bare, store = setup
    Project(root).exp_push("origin", ["e1"], run_cache=True)
    assert (store / "runs").is_dir()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    project = Project(clone)
    assert get_data_remote(project.repo) == DataRemote("store", str(store))
    result = project.exp_pull("origin", ["e1"], run_cache=True)
    assert (result.pulled, result.downloaded, result.missing) == (["e1"], 3, [])
    assert result.run_cache == len([p for p in (store / "runs").rglob("*") if p.is_file()])
    assert (clone / ".dvc" / "cache" / "runs").is_dir()
    cache = Cache(project.repo)
    for md5 in outputs_of(clone, "e1").values():
        assert cache.exists(md5)
        assert stat.S_IMODE(cache.object_path(md5).stat().st_mode) == 0o444
    applied = project.exp_apply("e1")
    assert applied.missing == []
    assert (clone / "model.bin").read_text() == "model lr=0.3\n"
    assert project.exp_pull("origin").up_to_date == ["e1"]  # default: HEAD's experiments


def test_pull_errors_and_divergence(setup, tmp_path: Path) -> None:
    root, bare, _store = setup
    Project(root).exp_push("origin", ["e1"])
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    project = Project(clone)
    with pytest.raises(ExperimentNotFoundError):
        project.exp_pull("origin", ["nope"])
    assert git(clone, "for-each-ref", "refs/exps/") == ""
    ref = git(root, "for-each-ref", "--format=%(refname)", "refs/exps/").strip()
    other = sibling(clone)
    git(clone, "update-ref", ref, other)  # a local experiment of that name, elsewhere
    result = project.exp_pull("origin", ["e1"], pull_cache=False)
    assert (result.pulled, result.diverged) == ([], ["e1"])
    assert git(clone, "rev-parse", ref).strip() == other
    forced = project.exp_pull("origin", ["e1"], force=True, pull_cache=False)
    assert forced.pulled == ["e1"]
    assert git(clone, "rev-parse", ref) == git(root, "rev-parse", ref)
    done = run_cli(clone, "pull", "origin", "e1")
    assert done.returncode == 0, done.stderr
    assert "Experiment 'e1' is up to date." in done.stdout
    assert "Downloaded 3 object(s) from DVC remote 'store'." in done.stdout


def test_corrupt_objects_never_enter_the_cache(setup, tmp_path: Path) -> None:
    root, bare, store = setup
    Project(root).exp_push("origin", ["e1"])
    md5 = outputs_of(root, "e1")["model.bin"]
    obj = store / "files" / "md5" / md5[:2] / md5[2:]
    obj.chmod(0o644)
    obj.write_text("tampered\n")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    with pytest.raises(DataError, match="corrupt"):
        Project(clone).exp_pull("origin", ["e1"])
    cached = Cache(Project(clone).repo).object_path(md5)
    assert not cached.exists()
    assert not list(cached.parent.glob("*.tmp"))  # no half-written leftovers either


def test_cli_push_messages(setup) -> None:
    root, _bare, _store = setup
    done = run_cli(root, "push", "origin", "e1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Pushed experiment 'e1' to Git remote 'origin'.",
        "Uploaded 3 object(s) to DVC remote 'store'.",
    ]
    assert run_cli(root, "push", "origin").stdout.splitlines()[0] == (
        "Experiment 'e1' is up to date on 'origin'."
    )


@pytest.mark.skipif(importlib.util.find_spec("fsspec") is not None, reason="fsspec installed")
def test_url_remote_without_fsspec_is_a_clear_error(setup) -> None:
    root, _bare, _store = setup
    (root / ".dvc" / "config").write_text(CONFIG.replace("../../store", "s3://bucket/path"))
    with pytest.raises(InvalidArgumentError, match="needs fsspec"):
        Project(root).exp_push("origin", ["e1"])


def test_fsspec_memory_remote(setup, tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    root, _bare, _store = setup
    url = f"memory://jupyter-exp-test-{os.getpid()}/store"
    (root / ".dvc" / "config").write_text(CONFIG.replace("../../store", url))
    assert Project(root).exp_push("origin", ["e1"]).uploaded == 3
    cache = Project(root).repo.cache_dir
    for path in list(Path(cache, "files").rglob("*")):
        if path.is_file():
            path.chmod(0o644)
            path.unlink()
    assert Project(root).exp_pull("origin", ["e1"]).downloaded == 3
