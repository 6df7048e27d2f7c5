"""``exp list``: experiment names per baseline, local and on a Git remote (``dvc exp list``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, run_cli

from jupyter_exp.api import Project
from jupyter_exp.errors import RevisionNotFoundError
from jupyter_exp.experiments.refs import ExpRef
from jupyter_exp.git import Git


def _record(root: Path, name: str, content: str) -> str:
    g = Git(root)
    head = g.head()
    assert head is not None
    saved = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(content)
    sha = g.snapshot(message=f"exp {name}", parent=head)
    (root / "params.yaml").write_text(saved)
    g.update_ref(ExpRef(head, name).ref, sha)
    return sha


@pytest.fixture
def repo(make_project) -> dict:
    root = make_project({"params.yaml": "lr: 1\n"})
    first = git(root, "rev-parse", "HEAD").strip()
    old = _record(root, "old-one", "lr: 2\n")
    (root / "params.yaml").write_text("lr: 3\n")
    git(root, "commit", "-qam", "second")
    second = git(root, "rev-parse", "HEAD").strip()
    b = _record(root, "b-exp", "lr: 4\n")
    a = _record(root, "a-exp", "lr: 5\n")
    return {"root": root, "first": first, "second": second, "old": old, "a": a, "b": b}


def test_lists_head_experiments_by_name(repo: dict) -> None:
    (group,) = Project(repo["root"]).exp_list()
    assert group.baseline == repo["second"] and group.name == "main"
    assert [(e.name, e.rev) for e in group.experiments] == [
        ("a-exp", repo["a"]),
        ("b-exp", repo["b"]),
    ]


def test_all_commits_rev_and_num(repo: dict) -> None:
    project = Project(repo["root"])
    everything = project.exp_list(all_commits=True)
    assert {g.baseline: [e.name for e in g.experiments] for g in everything} == {
        repo["first"]: ["old-one"],
        repo["second"]: ["a-exp", "b-exp"],
    }
    (old,) = project.exp_list(repo["first"])
    assert old.name is None and [e.rev for e in old.experiments] == [repo["old"]]
    assert len(project.exp_list(num=2)) == 2
    with pytest.raises(RevisionNotFoundError):
        project.exp_list("no-such-rev")


def test_cli_output_as_dvc_prints_it(repo: dict) -> None:
    root = repo["root"]
    done = run_cli(root, "list")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"main:\n\t{repo['a'][:7]} [a-exp]\n\t{repo['b'][:7]} [b-exp]\n"
    assert run_cli(root, "list", "--names-only").stdout == "a-exp\nb-exp\n"
    assert run_cli(root, "list", "--name-only").stdout == "a-exp\nb-exp\n"
    assert run_cli(root, "list", "--sha-only").stdout == f"{repo['a']}\n{repo['b']}\n"
    out = run_cli(root, "list", "-A").stdout
    assert f"{repo['first'][:7]}:\n\t{repo['old'][:7]} [old-one]\n" in out and "main:\n" in out
    listed = json.loads(run_cli(root, "list", "--json").stdout)
    assert listed[0]["experiments"][0] == {"name": "a-exp", "rev": repo["a"]}


def test_empty_and_no_commits(make_project) -> None:
    root = make_project({"a.txt": "a\n"})
    assert Project(root).exp_list() == []
    assert run_cli(root, "list").stdout == ""
    empty = make_project({"a.txt": "a\n"}, commit=False)
    assert Project(empty).exp_list() == []


def test_remote_lists_names_only(repo: dict, tmp_path: Path) -> None:
    root = repo["root"]
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main", "refs/exps/*:refs/exps/*")
    (group,) = Project(root).exp_list(git_remote="origin")
    assert group.name == "main" and [(e.name, e.rev) for e in group.experiments] == [
        ("a-exp", None),
        ("b-exp", None),
    ]
    assert run_cli(root, "list", "origin").stdout == "main:\n\ta-exp\n\tb-exp\n"
    assert run_cli(root, "list", str(bare), "--names-only").stdout == "a-exp\nb-exp\n"
    done = run_cli(root, "list", "origin", "--sha-only")
    assert done.returncode == 2 and "not supported" in done.stderr
    done = run_cli(root, "list", "nowhere")
    assert done.returncode != 0 and "nowhere" in done.stderr
