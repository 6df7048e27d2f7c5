"""DVC 3 as the oracle for exp diff / apply / push / pull.

- ``dvc exp diff --json`` and ours agree on params and metrics (several revision pairs,
  with and without ``--all``, on a pipeline with keyed params of other files, vars,
  top-level sections and a cached metric);
- ``dvc exp apply`` of an experiment we recorded works;
- DVC pulls (refs and cached outputs) what we pushed, and we pull and apply what DVC
  pushed, through a bare Git remote and a local DVC remote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import git
from test_exp_diff import PARAMS, PIPELINE, SCORE, TRAIN, build, reset, run_exp
from test_exp_push_pull import CONFIG

from jupyter_exp import Project

pytest_plugins = ["dvc_oracle"]
pytestmark = pytest.mark.oracle

KEYS = ("metrics", "params")


def dvc_diff(dvc, root: Path, *args: str) -> dict:
    return json.loads(dvc(root, "exp", "diff", "--json", *args).stdout)


def ours(root: Path, a: str | None = None, b: str | None = None, **kw) -> dict:
    data = Project(root).exp_diff(a, b, **kw).to_dict()
    return {key: data[key] for key in KEYS}


def test_exp_diff_agrees_with_dvc(dvc, make_project) -> None:
    root = build(make_project)
    run_exp(root, "e1", 0.3)
    assert ours(root) == dvc_diff(dvc, root)
    assert ours(root, "e1", all=True) == dvc_diff(dvc, root, "e1", "--all")
    reset(root)
    run_exp(root, "e2", 0.5)
    reset(root)
    assert ours(root, "e1", "e2") == dvc_diff(dvc, root, "e1", "e2")
    assert ours(root, "HEAD", "e2", all=True) == dvc_diff(dvc, root, "HEAD", "e2", "--all")
    assert ours(root, "e2", param_deps=True) == dvc_diff(dvc, root, "e2", "--param-deps")


def test_exp_diff_collection_agrees_with_dvc(dvc, make_project) -> None:
    files = {
        "params.yaml": "seed: 1\nlist: [1, 2]\n",
        "conf.yaml": "opt:\n  lr: 0.1\n  momentum: 0.9\nother: 5\n",
        "extra.json": '{"a": 1, "b": {"c": "x"}}',
        "vars.yaml": "size: 4\n",
        "sub": {
            "dvc.yaml": f"""\
            vars: [../vars.yaml]
            stages:
              eval:
                cmd: {sys.executable} score.py ${{size}}
                params: [{{../conf.yaml: [opt.lr]}}]
                metrics: [score.json]
            metrics: [top.yaml]
            params: [../extra.json]
            """,
            "top.yaml": "t: 1\nnested: {x: true, l: [1, 2], s: text}\n",
            "score.py": SCORE,
        },
    }
    root = build(make_project, files)
    assert ours(root, "HEAD", all=True) == dvc_diff(dvc, root, "HEAD", "--all")
    (root / "conf.yaml").write_text("opt:\n  lr: 0.2\n  momentum: 0.5\nother: 6\n")
    (root / "vars.yaml").write_text("size: 6\n")
    (root / "extra.json").write_text('{"a": 2, "b": {"c": "y"}, "new": 1}')
    (root / "sub" / "top.yaml").write_text("t: 2\nnested: {x: false}\n")
    (root / "params.yaml").write_text("seed: 1\nlist: [1, 3]\n")
    Project(root).repro()
    assert ours(root) == dvc_diff(dvc, root)
    assert ours(root, all=True) == dvc_diff(dvc, root, "--all")


def test_dvc_applies_our_experiment(dvc, make_project) -> None:
    root = build(make_project)
    run_exp(root, "e1", 0.3)
    reset(root)
    dvc(root, "exp", "apply", "e1")
    assert "lr: 0.3" in (root / "params.yaml").read_text()
    assert (root / "model.bin").read_text() == "model lr=0.3\n"
    assert (root / "plots" / "a.txt").read_text() == "0.3"
    assert json.loads(dvc(root, "status", "--json").stdout) == {}
    # And the previous workspace is reachable the same way after our own apply.
    reset(root)
    (root / "params.yaml").write_text(PARAMS.replace("0.1", "0.25"))
    result = Project(root).exp_apply("e1", force=True)
    git(root, "reset", "-q", "--hard")
    git(root, "stash", "apply", "-q", result.snapshot_ref)
    dvc(root, "checkout")
    assert "lr: 0.25" in (root / "params.yaml").read_text()
    assert (root / "model.bin").read_text() == "model lr=0.1\n"


def _with_remotes(make_project, tmp_path: Path) -> tuple[Path, Path]:
    root = make_project(
        {
            "train.py": TRAIN,
            "dvc.yaml": PIPELINE,
            "params.yaml": PARAMS,
            # Absolute: DVC resolves a relative remote path of another revision's
            # config against "/" (exp push/pull read the experiment's config).
            ".dvc": {
                "config": CONFIG.replace("../../store", str(tmp_path / "store")),
                ".gitignore": "/config.local\n/tmp\n/cache\n",
            },
        },
        name="project",
    )
    Project(root).repro()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main")
    return root, bare


def test_dvc_pulls_what_we_pushed(dvc, make_project, tmp_path: Path) -> None:
    root, bare = _with_remotes(make_project, tmp_path)
    run_exp(root, "e1", 0.3)
    Project(root).exp_push("origin", ["e1"])
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    dvc(clone, "exp", "pull", "origin", "e1")
    assert "e1" in dvc(clone, "exp", "list", "--name-only").stdout.split()
    dvc(clone, "exp", "apply", "e1")
    assert (clone / "model.bin").read_text() == "model lr=0.3\n"
    assert (clone / "plots" / "a.txt").read_text() == "0.3"


def test_we_pull_what_dvc_pushed(dvc, make_project, tmp_path: Path) -> None:
    root, bare = _with_remotes(make_project, tmp_path)
    dvc(root, "exp", "run", "-n", "d1", "-S", "lr=0.4")
    dvc(root, "exp", "push", "origin", "d1")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    project = Project(clone)
    pulled = project.exp_pull("origin", ["d1"])
    assert pulled.pulled == ["d1"] and pulled.missing == []
    assert pulled.downloaded == 3
    assert project.exp_diff("HEAD", "d1").params["params.yaml"]["lr"]["new"] == 0.4
    project.exp_apply("d1")
    assert (clone / "model.bin").read_text() == "model lr=0.4\n"
    assert json.loads(dvc(clone, "status", "--json").stdout) == {}
