"""``exp apply`` on real repositories: files and outputs, conflicts, the saved workspace."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git, run_cli
from test_exp_diff import build, reset, run_exp

from jupyter_exp import Project
from jupyter_exp.core.cache import Cache
from jupyter_exp.errors import ExperimentNotFoundError, WorkspaceConflictError
from jupyter_exp.experiments.apply import APPLY_HEAD, APPLY_STASH
from jupyter_exp.experiments.refs import EXEC_APPLY, ExpRef
from jupyter_exp.git import Git


@pytest.fixture
def root(make_project) -> Path:
    """A baseline plus experiment e1 (lr=0.3), the workspace back at HEAD."""
    root = build(make_project)
    run_exp(root, "e1", 0.3)
    reset(root)
    return root


def state(root: Path) -> dict[str, object]:
    """What must not change when apply refuses: files, refs, index."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".dvc" not in p.parts
    }
    return {
        "files": files,
        "refs": git(root, "for-each-ref"),
        "head": git(root, "symbolic-ref", "HEAD"),
        "index": git(root, "ls-files", "-s"),
    }


def test_apply_on_a_clean_workspace(root: Path) -> None:
    head = git(root, "rev-parse", "HEAD")
    result = Project(root).exp_apply("e1")
    assert "lr: 0.3" in (root / "params.yaml").read_text()
    assert (root / "model.bin").read_text() == "model lr=0.3\n"
    assert (root / "plots" / "a.txt").read_text() == "0.3"
    assert '"acc": 0.6' in (root / "metrics.json").read_text()
    assert sorted(result.checked_out) == ["model.bin", "plots"]
    assert (result.snapshot, result.missing, result.restore_hint) == (None, [], None)
    # HEAD, the branch and the index stay; the changes are unstaged.
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(root, "diff", "--cached", "--name-only") == ""
    assert set(git(root, "diff", "--name-only").split()) == {
        "params.yaml",
        "dvc.lock",
        "metrics.json",
    }
    assert git(root, "rev-parse", EXEC_APPLY).strip() == result.sha
    # The workspace is exactly the experiment: nothing to reproduce.
    assert Project(root).status() == {}
    assert not Project(root).exp_diff(b=None, a="e1")


def test_uncommitted_edits_are_refused_and_nothing_changes(root: Path) -> None:
    (root / "params.yaml").write_text("lr: 0.7\n")
    (root / "train.py").write_text((root / "train.py").read_text() + "# note\n")
    (root / "mine.txt").write_text("untracked, not in the experiment\n")
    before = state(root)
    with pytest.raises(WorkspaceConflictError) as info:
        Project(root).exp_apply("e1")
    assert info.value.paths == ["params.yaml", "train.py"]
    assert str(info.value) == (
        "applying experiment 'e1' would overwrite uncommitted changes in 'params.yaml', "
        "'train.py'; commit or stash them, or use force"
    )
    assert state(root) == before
    done = run_cli(root, "apply", "e1")
    assert done.returncode == 1
    assert done.stderr.startswith("ERROR: applying experiment 'e1' would overwrite")
    assert len(done.stderr.splitlines()) == 1
    assert state(root) == before


def test_edits_equal_to_the_experiment_and_untouched_files_are_no_conflict(root: Path) -> None:
    exp_params = git(root, "show", f"{_sha(root, 'e1')}:params.yaml")
    (root / "params.yaml").write_text(exp_params)
    (root / "mine.txt").write_text("keep me\n")
    result = Project(root).exp_apply("e1")
    assert (root / "mine.txt").read_text() == "keep me\n"
    # The edit is saved all the same (the workspace differed from HEAD).
    assert result.snapshot is not None


def test_force_saves_the_workspace_and_the_hint_brings_it_back(root: Path) -> None:
    (root / "params.yaml").write_text("lr: 0.7\n")
    (root / "README").write_text("staged new file\n")
    git(root, "add", "README")
    (root / "mine.txt").write_text("untracked\n")
    head = git(root, "rev-parse", "HEAD").strip()
    result = Project(root).exp_apply("e1", force=True)
    assert "lr: 0.3" in (root / "params.yaml").read_text()
    assert (root / "mine.txt").read_text() == "untracked\n"
    assert git(root, "rev-parse", APPLY_STASH).strip() == result.snapshot
    assert git(root, "rev-parse", APPLY_HEAD).strip() == head
    parents = git(root, "log", "-1", "--format=%P", result.snapshot).split()
    assert parents[0] == head and len(parents) == 2  # HEAD + index: no untracked saved
    subject = git(root, "log", "-1", "--format=%s", result.snapshot).strip()
    assert subject == f"On main: dvc-exp-apply:{head}:{result.sha}:e1"
    assert result.restore_hint == (
        f"git reset --hard && rm -f -- README && git stash apply {APPLY_STASH} && dvc checkout"
    )
    # The hint's git part restores every edit.
    script = result.restore_hint.removesuffix(" && dvc checkout")
    subprocess.run(script, shell=True, cwd=root, check=True, capture_output=True)
    assert (root / "params.yaml").read_text() == "lr: 0.7\n"
    assert (root / "README").read_text() == "staged new file\n"
    assert (root / "mine.txt").read_text() == "untracked\n"


def test_files_in_the_way_of_the_experiment(root: Path) -> None:
    """The experiment tracks a path where the user has an untracked file."""
    git_ = Git(root)
    head = git_.head()
    (root / "notes.txt").write_text("experiment notes\n")
    sha = git_.snapshot(message="with notes", parent=head, add_paths=["notes.txt"])
    git_.update_ref(ExpRef(head, "notes").ref, sha)
    (root / "notes.txt").write_text("my own notes\n")
    with pytest.raises(WorkspaceConflictError) as info:
        Project(root).exp_apply("notes")
    assert info.value.paths == ["notes.txt"]
    result = Project(root).exp_apply("notes", force=True)
    assert (root / "notes.txt").read_text() == "experiment notes\n"
    assert result.in_the_way == ["notes.txt"]
    # The untracked file is in the saved workspace; the hint moves the new one aside.
    assert result.restore_hint is not None and "rm -f -- notes.txt" in result.restore_hint
    script = result.restore_hint.removesuffix(" && dvc checkout")
    subprocess.run(script, shell=True, cwd=root, check=True, capture_output=True)
    assert (root / "notes.txt").read_text() == "my own notes\n"


def test_output_edits_not_in_the_cache_are_saved_there(root: Path) -> None:
    (root / "model.bin").unlink()
    (root / "model.bin").write_text("hand-tuned model\n")
    with pytest.raises(WorkspaceConflictError) as info:
        Project(root).exp_apply("e1")
    assert info.value.paths == ["model.bin"]
    result = Project(root).exp_apply("e1", force=True)
    assert (root / "model.bin").read_text() == "model lr=0.3\n"
    (md5,) = result.saved_outputs.values()
    cached = Cache(Project(root).repo).object_path(md5)
    assert cached.read_text() == "hand-tuned model\n"
    body = git(root, "log", "-1", "--format=%B", result.snapshot)
    assert f"model.bin {md5}" in body
    assert result.snapshot == git(root, "rev-parse", APPLY_STASH).strip()


def test_outputs_whose_content_is_cached_are_no_conflict(root: Path) -> None:
    Project(root).exp_apply("e1")
    reset(root)  # back to HEAD's outputs, which are in the cache
    run_exp(root, "e2", 0.5)  # the workspace now holds e2's outputs (cached)
    git(root, "checkout", "--", ".")  # tracked files back to HEAD, outputs still e2's
    result = Project(root).exp_apply("e1")
    assert (root / "model.bin").read_text() == "model lr=0.3\n"
    assert result.saved_outputs == {}


def test_missing_cache_objects_are_reported(root: Path) -> None:
    project = Project(root)
    md5 = project.exp_diff("HEAD", "e1").outs["model.bin"]["new"]
    obj = Cache(project.repo).object_path(md5)
    obj.chmod(0o644)
    obj.unlink()
    result = project.exp_apply("e1")
    assert result.missing == ["model.bin"]
    assert result.checked_out == ["plots"]
    assert "lr: 0.3" in (root / "params.yaml").read_text()
    git(root, "checkout", "--", ".")
    done = run_cli(root, "apply", "e1")
    assert done.returncode == 0
    assert "WARNING: not in the cache, left as they were: 'model.bin'" in done.stderr


def test_unknown_experiment(root: Path) -> None:
    before = state(root)
    with pytest.raises(ExperimentNotFoundError):
        Project(root).exp_apply("nope")
    done = run_cli(root, "apply", "nope")
    assert (done.returncode, done.stderr) == (1, "ERROR: no experiment named 'nope'\n")
    assert state(root) == before


def test_cli_apply_with_force(root: Path) -> None:
    (root / "params.yaml").write_text("lr: 0.9\n")
    done = run_cli(root, "apply", "e1", "--force")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Changes for experiment 'e1' have been applied to your current workspace."
    )
    assert f"git stash apply {APPLY_STASH}" in done.stdout


def _sha(root: Path, name: str) -> str:
    refs = git(root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/exps/")
    (sha,) = [line.split()[0] for line in refs.splitlines() if line.endswith("/" + name)]
    return sha
