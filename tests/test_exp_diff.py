"""``exp diff`` on real repositories: params, metrics, deps/outs, revisions, output formats."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import git, run_cli

from jupyter_exp import Project
from jupyter_exp.errors import InvalidArgumentError, RevisionNotFoundError
from jupyter_exp.experiments.diff import diff_files

TRAIN = """\
import json, os, sys, yaml
p = yaml.safe_load(open("params.yaml"))
json.dump({"acc": round(p["lr"] * 2, 4), "loss": {"val": round(1 - p["lr"], 4)}},
          open("metrics.json", "w"))
open("model.bin", "w").write(f"model lr={p['lr']}\\n")
os.makedirs("plots", exist_ok=True)
open("plots/a.txt", "w").write(str(p["lr"]))
"""

PIPELINE = f"""\
stages:
  train:
    cmd: {sys.executable} train.py
    deps: [train.py]
    params: [lr, train]
    outs: [model.bin, plots]
    metrics:
    - metrics.json:
        cache: false
"""

PARAMS = """\
lr: 0.1
train:
  epochs: 3
  layers: [8, 4]
  name: mlp
"""


SCORE = "import json, sys\njson.dump({'s': int(sys.argv[1])}, open('score.json', 'w'))\n"


def build(make_project, files: dict[str, str] | None = None) -> Path:
    """A committed project whose pipeline has run once (HEAD = the baseline)."""
    root = make_project(files or {"train.py": TRAIN, "dvc.yaml": PIPELINE, "params.yaml": PARAMS})
    project = Project(root)
    project.init()
    project.repro()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    return root


def run_exp(root: Path, name: str, lr: float) -> str:
    """Run an experiment with ``lr`` and leave its results in the workspace."""
    return Project(root).exp_run(params=[f"lr={lr}"], name=name).sha


def reset(root: Path) -> None:
    """Back to HEAD: tracked files and outputs."""
    git(root, "checkout", "--", ".")
    Project(root).repro()


@pytest.fixture
def root(make_project) -> Path:
    return build(make_project)


def test_workspace_against_head_after_a_run(root: Path) -> None:
    run_exp(root, "e1", 0.3)
    diff = Project(root).exp_diff()
    assert (diff.a, diff.b, diff.b_rev) == ("HEAD", "workspace", None)
    assert diff.metrics == {
        "metrics.json": {
            "acc": {"old": 0.2, "new": 0.6, "diff": 0.6 - 0.2},
            "loss.val": {"old": 0.9, "new": 0.7, "diff": 0.7 - 0.9},
        }
    }
    assert diff.params == {"params.yaml": {"lr": {"old": 0.1, "new": 0.3, "diff": 0.3 - 0.1}}}
    assert sorted(diff.outs) == ["metrics.json", "model.bin", "plots"]
    assert diff.outs["plots"]["old"].endswith(".dir")
    assert diff.outs["plots"]["old"] != diff.outs["plots"]["new"]
    assert diff.deps == {}  # train.py did not change


def test_experiment_against_experiment_and_head(root: Path) -> None:
    run_exp(root, "e1", 0.3)
    reset(root)
    run_exp(root, "e2", 0.5)
    reset(root)
    project = Project(root)
    assert not project.exp_diff()  # the workspace is HEAD again
    between = project.exp_diff("e1", "e2")
    assert between.params["params.yaml"]["lr"] == {"old": 0.3, "new": 0.5, "diff": 0.5 - 0.3}
    assert between.metrics["metrics.json"]["acc"]["new"] == 1.0
    from_head = project.exp_diff("HEAD", "e2")
    assert from_head.params["params.yaml"]["lr"]["old"] == 0.1
    # A commit sha and a full ref name the same experiment.
    sha = git(root, "rev-parse", "refs/exps/" + _exp_ref_tail(root, "e2")).strip()
    assert project.exp_diff("e1", sha[:10]).to_dict() == between.to_dict()


def _exp_ref_tail(root: Path, name: str) -> str:
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/exps/").split()
    (ref,) = [r for r in refs if r.endswith("/" + name)]
    return ref.removeprefix("refs/exps/")


def test_all_keeps_unchanged_values_as_dvc_formats_them(root: Path) -> None:
    run_exp(root, "e1", 0.3)
    diff = Project(root).exp_diff("e1", all=True)
    params = diff.params["params.yaml"]
    assert params["train.epochs"] == {"old": 3, "new": 3, "diff": 0}
    # Lists compare as their text and have no numeric diff; strings neither.
    assert params["train.layers"] == {"old": "[8, 4]", "new": "[8, 4]"}
    assert params["train.name"] == {"old": "mlp", "new": "mlp"}
    assert diff.metrics["metrics.json"]["acc"] == {"old": 0.6, "new": 0.6, "diff": 0.0}
    assert diff.outs["model.bin"]["old"] == diff.outs["model.bin"]["new"]
    assert not Project(root).exp_diff("e1").params  # without --all: nothing


def test_params_and_metrics_collected_like_dvc(make_project) -> None:
    """Keys of other files, whole files, top-level sections, vars, cached metrics, wdir."""
    files = {
        "params.yaml": "seed: 1\n",
        "conf.yaml": "opt:\n  lr: 0.1\n  momentum: 0.9\nother: 5\n",
        "extra.json": '{"a": 1}',
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
            "top.yaml": "t: 1\nnested: {x: true, l: [1, 2]}\n",
            "score.py": SCORE,
        },
    }
    root = build(make_project, files)
    view = Project(root).exp_diff("HEAD", all=True)
    assert set(view.params) == {"params.yaml", "conf.yaml", "extra.json", "vars.yaml"}
    assert set(view.params["conf.yaml"]) == {"opt.lr"}  # only the tracked key
    assert view.params["vars.yaml"] == {"size": {"old": 4, "new": 4, "diff": 0}}
    # score.json is a cached output: at HEAD it is read from the DVC cache.
    assert view.metrics["sub/score.json"]["s"] == {"old": 4, "new": 4, "diff": 0}
    # Lists are dropped from metrics and booleans are numbers, as in DVC.
    assert view.metrics["sub/top.yaml"] == {
        "t": {"old": 1, "new": 1, "diff": 0},
        "nested.x": {"old": True, "new": True, "diff": 0},
    }
    (root / "conf.yaml").write_text("opt:\n  lr: 0.2\n  momentum: 0.5\nother: 6\n")
    changed = Project(root).exp_diff()
    assert changed.params == {"conf.yaml": {"opt.lr": {"old": 0.1, "new": 0.2, "diff": 0.1}}}


def test_a_metrics_file_missing_on_one_side(root: Path) -> None:
    (root / "metrics.json").unlink()
    diff = Project(root).exp_diff()
    assert diff.metrics["metrics.json"]["acc"] == {"old": 0.2, "new": None}


def test_dvc_value_semantics() -> None:
    old = {"m.json": {"x": True, "s": 1, "d": {}, 3: {"k": 1}}, "scalar.json": 0.5}
    new = {"m.json": {"x": False, "s": "a"}, "scalar.json": 0.75}
    assert diff_files(old, new) == {
        "m.json": {
            "x": {"old": True, "new": False, "diff": -1},
            "s": {"old": 1, "new": "a"},
            "3.k": {"old": 1, "new": None},
        },
        "scalar.json": {"": {"old": 0.5, "new": 0.75, "diff": 0.25}},
    }


def test_unknown_and_ambiguous_revisions(root: Path) -> None:
    project = Project(root)
    with pytest.raises(RevisionNotFoundError, match="unknown revision 'nope'"):
        project.exp_diff("nope")
    # The same name for experiments of two baselines, neither of them HEAD.
    run_exp(root, "same", 0.3)
    reset(root)
    (root / "README").write_text("x")
    git(root, "add", "README")
    git(root, "commit", "-qm", "second")
    run_exp(root, "same", 0.4)
    reset(root)
    (root / "README").write_text("y")
    git(root, "commit", "-qam", "third")
    with pytest.raises(InvalidArgumentError, match="ambiguous"):
        project.exp_diff("same")


def test_dataframe_rows(root: Path) -> None:
    run_exp(root, "e1", 0.3)
    diff = Project(root).exp_diff()
    rows = diff.rows()
    assert {"kind": "param", "path": "params.yaml", "key": "lr", "old": 0.1, "new": 0.3,
            "diff": 0.3 - 0.1} in rows  # fmt: skip
    assert [r["kind"] for r in rows].count("out") == 3
    pandas = pytest.importorskip("pandas")
    frame = diff.to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["kind", "path", "key", "old", "new", "diff"]


def test_cli_tables_markdown_and_json(root: Path) -> None:
    run_exp(root, "e1", 0.3)
    done = run_cli(root, "diff")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["Path", "Metric", "HEAD", "workspace", "Change"]
    assert lines[1].split() == ["metrics.json", "acc", "0.2", "0.6", "0.4"]
    assert "params.yaml  lr       0.1     0.3          0.19999999999999998" in lines
    assert any(line.split()[:2] == ["model.bin", "out"] for line in lines)
    md = run_cli(root, "diff", "HEAD", "e1", "--md", "--no-path").stdout
    assert "| Metric   | HEAD   | e1   | Change   |" in md
    assert "| lr      | 0.1    | 0.3  | 0.19999999999999998 |" in md
    data = json.loads(run_cli(root, "diff", "--json").stdout)
    assert set(data) == {"metrics", "params", "deps", "outs"}
    assert data["params"]["params.yaml"]["lr"]["new"] == 0.3
    precise = run_cli(root, "diff", "--precision", "2").stdout
    assert "metrics.json  loss.val  0.9     0.7          -0.2" in precise
    bad = run_cli(root, "diff", "nope")
    assert bad.returncode != 0
    assert bad.stderr.strip() == "ERROR: unknown revision 'nope'"


def test_cli_prints_nothing_when_nothing_differs(root: Path) -> None:
    done = run_cli(root, "diff")
    assert (done.returncode, done.stdout) == (0, "")


def test_dvc_project_in_a_git_subfolder(make_project) -> None:
    top = make_project({"README": "monorepo\n"})
    sub = top / "ml"
    for name, text in {"train.py": TRAIN, "dvc.yaml": PIPELINE, "params.yaml": PARAMS}.items():
        sub.mkdir(exist_ok=True)
        (sub / name).write_text(text)
    (sub / ".dvc").mkdir()  # as `dvc init --subdir` makes it
    (sub / ".dvc" / "config").write_text("")
    project = Project(sub)
    assert project.root == sub
    project.repro()
    git(top, "add", "-A")
    git(top, "commit", "-qm", "ml")
    project.exp_run(params=["lr=0.3"], name="e1")
    reset(sub)
    diff = Project(sub).exp_diff("HEAD", "e1")
    assert diff.params["params.yaml"]["lr"]["new"] == 0.3
    assert diff.metrics["metrics.json"]["acc"]["new"] == 0.6
    assert set(diff.outs) == {"metrics.json", "model.bin", "plots"}
