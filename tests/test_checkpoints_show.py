"""``exp show`` of checkpoint experiments: the chain as a tree under its experiment, a
``Step`` per checkpoint for plotting, and DVC reading our chains as its legacy ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checkpoint_project import FILES, chain, run_git
from conftest import run_cli

from jupyter_exp import Project

pytest_plugins = ["dvc_oracle"]


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A project with a checkpoint experiment (3 checkpoints + wrap-up) and a plain one."""
    from conftest import write_tree

    root = tmp_path_factory.mktemp("show") / "project"
    root.mkdir()
    run_git(root, "init", "-q")
    write_tree(root, FILES)
    run_git(root, "add", "-A")
    run_git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "initial")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        ckpt = Project(root).exp_run(name="ckpt")
        script = (root / "evaluate.py").read_text()
        (root / "evaluate.py").write_text(script + "# edited\n")
        plain = Project(root).exp_save(name="plain")  # a plain experiment: one commit
        (root / "evaluate.py").write_text(script)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return root, ckpt.sha, plain.sha


def test_dataframe_rows_per_checkpoint_with_a_step(shown) -> None:
    root, tip, plain_sha = shown
    df = Project(root).exp_show()
    assert "Step" in df.columns and str(df["Step"].dtype) == "Int64"
    assert list(df.columns).index("Step") == list(df.columns).index("Executor") + 1
    ckpt = df[df.Experiment == "ckpt"]
    head = run_git(root, "rev-parse", "HEAD")
    commits = chain(root, tip, head)
    assert list(ckpt.rev) == [c[:7] for c in reversed(commits)]
    assert list(ckpt.typ) == [
        "checkpoint_tip",
        "checkpoint_commit",
        "checkpoint_commit",
        "checkpoint_base",
    ]
    assert list(ckpt.Step) == [3, 2, 1, 0]
    assert list(ckpt.epoch) == [3, 3, 2, 1]
    assert list(ckpt.parent) == [c[:7] for c in reversed([head, *commits[:-1]])]
    plain = df[df.Experiment == "plain"]
    assert list(plain.typ) in (["branch_commit"], ["branch_base"])
    assert list(plain.Step) == [0] and plain.rev.iloc[0] == plain_sha[:7]


def test_table_without_chains_has_no_step_column(make_project) -> None:
    files = dict(FILES)
    files["dvc.yaml"] = FILES["dvc.yaml"].replace("checkpoint: true", "cache: true")
    root = make_project(files)
    Project(root).exp_run()
    assert "Step" not in Project(root).exp_show().columns


def test_json_lists_the_chain_tip_first_as_dvc(shown) -> None:
    root, tip, _ = shown
    data = Project(root).exp_show_json()
    (ckpt,) = [e for e in data[1]["experiments"] if e["name"] == "ckpt"]
    head = run_git(root, "rev-parse", "HEAD")
    assert [r["rev"] for r in ckpt["revs"]] == chain(root, tip, head)[::-1]
    assert [r["data"]["metrics"]["metrics.json"]["data"]["epoch"] for r in ckpt["revs"]] == [
        3,
        3,
        2,
        1,
    ]
    rows = Project(root).exp_show_data()["rows"]
    assert [r["Step"] for r in rows if r["Experiment"] == "ckpt"] == [3, 2, 1, 0]


def test_cli_shows_every_checkpoint(shown) -> None:
    root, tip, _ = shown
    done = run_cli(root, "show", "--csv")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if ",checkpoint_" in line]
    assert len(lines) == 4 and lines[0].startswith(f"ckpt,{tip[:7]},checkpoint_tip")


@pytest.mark.oracle
def test_dvc_exp_show_reads_our_chains(dvc, shown) -> None:
    root, tip, _ = shown
    theirs = json.loads(dvc(root, "exp", "show", "--json").stdout)
    (ckpt,) = [e for e in theirs[1]["experiments"] if e["name"] == "ckpt"]
    assert ckpt["revs"][0]["rev"] == tip
    ours = json.loads(run_cli(root, "show", "--json").stdout)
    assert ours == theirs
    # The lock our checkpoints left is DVC's: train is up to date (evaluate.py was
    # edited for the plain experiment and put back).
    assert "train:" not in dvc(root, "status").stdout
