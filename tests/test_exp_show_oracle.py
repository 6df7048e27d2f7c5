"""``exp show`` against DVC 3 itself: experiments made by ``dvc exp run`` listed by us with
the same data, byte for byte in ``--json``, ``--csv`` and ``--md``, and our DataFrame
columns named exactly as ``dvc.api.exp_show`` names them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, run_cli, write_tree
from dvc_oracle import run_dvc_python

from jupyter_exp.api import Project
from jupyter_exp.experiments.refs import ExpRef
from jupyter_exp.git import Git

pytest_plugins = ["dvc_oracle"]
pytestmark = pytest.mark.oracle

TRAIN_PY = """\
import json, sys
import yaml

p = yaml.safe_load(open("params.yaml"))
o = yaml.safe_load(open("other.yaml"))
depth = int(sys.argv[1])
acc = round(p["train"]["lr"] * 10 + depth / 100, 6)
json.dump({"acc": acc, "loss": round(1 - acc, 6), "nested": {"a": 1, "b": [1, 2]},
           "flag": True, "lr2": o["lr"]}, open("metrics.json", "w"))
open("model.bin", "w").write(str(p))
json.dump({"c": depth, "acc": 0.5}, open("cached.json", "w"))
"""

DVC_YAML = """\
vars:
  - config.yaml
stages:
  train:
    cmd: python train.py ${model.depth}
    deps: [data.txt, train.py]
    params:
      - train
      - seed
      - other.yaml:
        - lr
    outs: [model.bin]
    metrics:
      - metrics.json:
          cache: false
      - cached.json
metrics:
  - extra.json
"""

FILES = {
    "train.py": TRAIN_PY,
    "dvc.yaml": DVC_YAML,
    "params.yaml": "train:\n  lr: 0.01\n  epochs: 3\n  layers: [1, 2]\nseed: 42\nname: base\n",
    "other.yaml": "lr: 5\nopt:\n  kind: adam\n",
    "config.yaml": "model:\n  depth: 3\n",
    "data.txt": "hello\n",
    "extra.json": '{"x": 1}\n',
}


@pytest.fixture(scope="module")
def dvc_project(tmp_path_factory: pytest.TempPathFactory, dvc) -> Path:
    """A project whose experiments DVC ran: two on the first commit, one on the second.

    Built once for the module (DVC runs take seconds) with its own HOME and identity;
    the tests only read it.
    """
    with pytest.MonkeyPatch.context() as env:
        home = tmp_path_factory.mktemp("oracle-home")
        (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
        env.setenv("HOME", str(home))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for role in ("AUTHOR", "COMMITTER"):
            env.setenv(f"GIT_{role}_NAME", "Oracle")
            env.setenv(f"GIT_{role}_EMAIL", "oracle@example.com")
        root = tmp_path_factory.mktemp("dvc-exps")
        git(root, "init", "-q")
        dvc(root, "init", "-q")
        write_tree(root, FILES)
        dvc(root, "repro", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "baseline")
        dvc(root, "exp", "run", "-q", "-S", "train.lr=0.02", "-n", "first-exp")
        dvc(
            root, "exp", "run", "-q", "-S", "train.lr=0.03", "-S", "other.yaml:lr=6", "-n", "second"
        )
        git(root, "tag", "v1")
        git(root, "checkout", "-q", "--", ".")
        dvc(root, "checkout", "-q", check=False)
        (root / "config.yaml").write_text("model:\n  depth: 4\n")
        dvc(root, "repro", "-q")
        git(root, "commit", "-qam", "deeper")
        dvc(root, "exp", "run", "-q", "-S", "seed=7", "-n", "third")
    return root


def _ours(root: Path, *args: str) -> str:
    done = run_cli(root, "show", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_json_is_dvcs_byte_for_byte(dvc, dvc_project: Path) -> None:
    for args in ((), ("-n", "2"), ("--rev", "v1"), ("--sha",), ("--param-deps",)):
        theirs = dvc(dvc_project, "exp", "show", "--json", *args).stdout
        assert _ours(dvc_project, "--json", *args) == theirs, args
    data = json.loads(_ours(dvc_project, "--json", "--rev", "v1"))
    (baseline,) = data[1:]
    names = {e["name"]: e["revs"][0]["data"] for e in baseline["experiments"]}
    assert names["second"]["params"]["other.yaml"] == {"data": {"lr": 6}}
    assert names["second"]["metrics"]["cached.json"] == {"data": {"c": 3, "acc": 0.5}}
    assert names["first-exp"]["params"]["config.yaml"] == {"data": {"model.depth": 3}}


def test_all_commits_lists_the_same_baselines_and_data(dvc, dvc_project: Path) -> None:
    theirs = json.loads(dvc(dvc_project, "exp", "show", "--json", "-A").stdout)
    ours = json.loads(_ours(dvc_project, "--json", "-A"))
    assert ours[0] == theirs[0]
    # Commits made within one second may be listed in another order: compare by rev.
    assert {s["rev"]: s for s in ours[1:]} == {s["rev"]: s for s in theirs[1:]}


def test_csv_and_markdown_match_dvc_without_our_state_column(dvc, dvc_project: Path) -> None:
    """We show State=Success for recorded experiments; DVC leaves the column empty."""
    for fmt in ("--csv", "--md"):
        theirs = dvc(dvc_project, "exp", "show", fmt, "-n", "2").stdout
        assert _ours(dvc_project, fmt, "-n", "2", "--drop", "State") == theirs, fmt
    with_state = _ours(dvc_project, "--csv")
    assert with_state.splitlines()[0].startswith("Experiment,rev,typ,Created,parent,State,")


def test_dataframe_columns_are_dvc_api_exp_show_keys(dvc_project: Path) -> None:
    code = (
        "import json, os\n"
        f"os.chdir({str(dvc_project)!r})\n"
        "import dvc.api\n"
        "rows = dvc.api.exp_show(num=2)\n"
        "print(json.dumps(rows))\n"
    )
    theirs = json.loads(run_dvc_python(code))
    frame = Project(dvc_project).exp_show(num=2)
    assert list(frame.columns) == list(theirs[0])
    assert len(frame) == len(theirs)
    for ours, row in zip(frame.to_dict("records"), theirs, strict=True):
        for column, value in row.items():
            mine = ours[column]
            if column in ("Created", "State"):
                continue  # a datetime for us, text for DVC; State: see the CSV test
            if value is None:
                assert mine is None or mine != mine, column  # None or NaN
            elif isinstance(value, float):
                assert float(mine) == value, column
            elif column not in ("flag", "train.layers"):
                assert mine == value, column
        assert str(ours["train.layers"]) == row["train.layers"]


def test_dvc_lists_experiments_recorded_our_way(make_project, dvc) -> None:
    """Experiments recorded by us in DVC's layout read the same in both tools."""
    root = make_project({}, commit=False)
    dvc(root, "init", "-q")
    write_tree(root, FILES)
    dvc(root, "repro", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    g = Git(root)
    head = g.head()
    assert head is not None
    for i, lr in enumerate((0.04, 0.05)):
        (root / "params.yaml").write_text(FILES["params.yaml"].replace("0.01", str(lr)))
        sha = g.snapshot(message=f"dvc: commit experiment {i}", parent=head)
        g.update_ref(ExpRef(head, f"ours-{i}").ref, sha)
    (root / "params.yaml").write_text(FILES["params.yaml"])
    theirs = dvc(root, "exp", "show", "--json").stdout
    assert _ours(root, "--json") == theirs
    listed = dvc(root, "exp", "list", "--name-only").stdout
    assert run_cli(root, "list", "--name-only").stdout == listed
