"""``exp branch`` and ``exp remove`` on real repositories (and a bare Git remote)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git, run_cli
from test_exp_diff import build, reset, run_exp

from jupyter_exp import Project
from jupyter_exp.errors import ExperimentNotFoundError, GitError, InvalidArgumentError
from jupyter_exp.experiments.refs import EXEC_APPLY
from jupyter_exp.git import Git


@pytest.fixture
def root(make_project) -> Path:
    """Baseline with experiments e1, e2 (workspace back at HEAD)."""
    root = build(make_project)
    for name, lr in (("e1", 0.3), ("e2", 0.5)):
        run_exp(root, name, lr)
        reset(root)
    return root


def exp_refs(root: Path) -> dict[str, str]:
    """name -> sha of every experiment ref."""
    out = git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps/")
    found = {}
    for line in out.splitlines():
        ref, sha = line.split()
        if ref.count("/") == 4 and "/exec/" not in ref and "/apply/" not in ref:
            found[ref.rsplit("/", 1)[1]] = sha
    return found


def new_baseline(root: Path, text: str) -> None:
    (root / "README").write_text(text)
    git(root, "add", "README")
    git(root, "commit", "-qm", f"baseline {text}")


# --- branch ------------------------------------------------------------------------------


def test_branch_points_at_the_experiment_and_moves_nothing(root: Path) -> None:
    head = git(root, "rev-parse", "HEAD")
    status = git(root, "status", "--porcelain")
    result = Project(root).exp_branch("e1", "promoted")
    assert (result.branch, result.experiment) == ("promoted", "e1")
    assert git(root, "rev-parse", "promoted").strip() == exp_refs(root)["e1"] == result.sha
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(root, "status", "--porcelain") == status
    # DVC's default name.
    assert Project(root).exp_branch("e2").branch == "e2-branch"
    assert "lr: 0.5" in git(root, "show", "e2-branch:params.yaml")


@pytest.mark.parametrize("bad", ["has space", "a..b", "-dash", "x.lock", "HEAD", "a:b"])
def test_branch_refuses_invalid_names(root: Path, bad: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"invalid branch name '{bad}'"):
        Project(root).exp_branch("e1", bad)
    assert git(root, "for-each-ref", "refs/heads/").count("\n") == 1


def test_branch_errors(root: Path) -> None:
    project = Project(root)
    with pytest.raises(InvalidArgumentError, match="Git branch 'main' already exists"):
        project.exp_branch("e1", "main")
    assert git(root, "rev-parse", "main").strip() != exp_refs(root)["e1"]
    with pytest.raises(ExperimentNotFoundError):
        project.exp_branch("nope", "x")
    done = run_cli(root, "branch", "e1", "two words")
    assert (done.returncode, done.stderr) == (2, "ERROR: invalid branch name 'two words'\n")
    done = run_cli(root, "branch", "e1", "ok")
    assert done.returncode == 0
    assert done.stdout == (
        "Git branch 'ok' has been created from experiment 'e1'.\n"
        "To switch to the new branch run:\n\n\tgit checkout ok\n"
    )


# --- remove ------------------------------------------------------------------------------


def test_remove_by_name(root: Path) -> None:
    assert Project(root).exp_remove(["e1"]) == ["e1"]
    assert set(exp_refs(root)) == {"e2"}
    # Objects stay (as with DVC): only the ref goes.
    assert Project(root).exp_remove(["e2"]) == ["e2"]
    assert exp_refs(root) == {}


def test_remove_unknown_name_removes_nothing(root: Path) -> None:
    before = exp_refs(root)
    with pytest.raises(ExperimentNotFoundError, match="no experiment named 'nope'"):
        Project(root).exp_remove(["e1", "nope"])
    assert exp_refs(root) == before
    done = run_cli(root, "remove", "e2", "nope")
    assert (done.returncode, done.stderr) == (1, "ERROR: no experiment named 'nope'\n")
    assert exp_refs(root) == before


def test_remove_by_baseline_all_and_keep(root: Path) -> None:
    old_head = git(root, "rev-parse", "HEAD").strip()
    new_baseline(root, "2")
    run_exp(root, "e3", 0.7)
    reset(root)
    project = Project(root)
    assert project.exp_remove(rev=["HEAD"]) == ["e3"]
    assert set(exp_refs(root)) == {"e1", "e2"}
    run_exp(root, "e3", 0.7)
    reset(root)
    # -n 2: HEAD and its first parent.
    assert sorted(project.exp_remove(rev=["HEAD"], num=2, keep=True)) == []
    assert sorted(project.exp_remove(rev=[old_head], keep=True)) == ["e3"]
    assert set(exp_refs(root)) == {"e1", "e2"}
    assert sorted(project.exp_remove(["e1"], keep=True)) == ["e2"]
    assert sorted(project.exp_remove(all_commits=True)) == ["e1"]
    assert project.exp_remove(all_commits=True) == []


def test_remove_needs_names_or_a_selection(root: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        Project(root).exp_remove()
    with pytest.raises(InvalidArgumentError):
        Project(root).exp_remove(["e1"], all_commits=True)
    done = run_cli(root, "remove")
    assert done.returncode == 2
    assert done.stderr.startswith("ERROR: either name experiments")
    done = run_cli(root, "remove", "-A")
    assert done.stdout == "Removed experiments: 'e1' and 'e2'\n"
    assert run_cli(root, "remove", "-A").stdout == "No experiments to remove.\n"


def test_remove_clears_the_applied_marker(root: Path) -> None:
    Project(root).exp_apply("e1")
    assert git(root, "rev-parse", EXEC_APPLY).strip() == exp_refs(root)["e1"]
    Project(root).exp_remove(["e1"])
    assert Git(root).ref_sha(EXEC_APPLY) is None


def test_remove_ambiguous_name(root: Path) -> None:
    new_baseline(root, "2")
    run_exp(root, "e1", 0.9)
    reset(root)
    new_baseline(root, "3")
    with pytest.raises(InvalidArgumentError, match="ambiguous"):
        Project(root).exp_remove(["e1"])
    assert len(git(root, "for-each-ref", "refs/exps/").splitlines()) == 3
    # From the baseline of one of them, its own wins.
    git(root, "checkout", "-q", "HEAD~1")
    assert Project(root).exp_remove(["e1"]) == ["e1"]
    assert set(exp_refs(root)) == {"e1", "e2"}


def test_ref_deletion_is_atomic(root: Path) -> None:
    refs = git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps/")
    pairs = dict(line.split() for line in refs.splitlines())
    first, second = sorted(pairs)
    stale = {first: pairs[first], second: pairs[first]}  # second's expected sha is wrong
    with pytest.raises(GitError):
        Git(root).delete_refs(stale)
    assert set(exp_refs(root)) == {"e1", "e2"}  # neither went


def test_remove_from_a_git_remote(root: Path, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "refs/exps/*:refs/exps/*")
    project = Project(root)
    assert project.exp_remove(["e1"], git_remote="origin") == ["e1"]
    remote = git(root, "ls-remote", "origin", "refs/exps/*")
    assert "/e1" not in remote and "/e2" in remote
    assert set(exp_refs(root)) == {"e1", "e2"}  # local refs untouched
    with pytest.raises(ExperimentNotFoundError):
        project.exp_remove(["e1"], git_remote="origin")
    assert project.exp_remove(all_commits=True, git_remote=str(bare)) == ["e2"]
    assert git(root, "ls-remote", "origin", "refs/exps/*") == ""
    done = run_cli(root, "remove", "-g", "nowhere", "e1")
    assert (done.returncode, done.stderr) == (1, "ERROR: unknown git remote 'nowhere'\n")
