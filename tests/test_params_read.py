"""Reading params files in every format DVC reads, and the values dvc.lock records."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from jupyter_exp.core.params import (
    parse_py,
    read_params_file,
    select_params,
    stage_params_values,
)
from jupyter_exp.core.pipeline.loader import load_pipeline_file
from jupyter_exp.core.repo import Repo
from jupyter_exp.core.yamlio import load_yaml
from jupyter_exp.errors import MissingParamError, ParamsFileError

DVC_VENV = Path(
    os.environ.get("JUPYTER_EXP_DVC_VENV", os.path.expanduser("~/.cache/jupyter-exp/dvc-venv"))
)
DVC = DVC_VENV / "bin" / "dvc"
needs_dvc = pytest.mark.skipif(not DVC.exists(), reason="DVC oracle venv not installed")

PY_PARAMS = '''
"""Params as Python."""
import os

LR = 0.01
EPOCHS: int = 10
NAMES = ["a", "b"]
SHAPE = (1, 2)
TAGS = {"x"}
OPTS = {"depth": 3, "act": "relu"}
COMPUTED = os.getcwd()
A = B = 3
UNANNOTATED: int
first, second = 1, 2


class Train:
    lr = 0.1
    batch = 32

    def __init__(self):
        self.momentum = 0.9
        self.nested = {"k": 1}
        local = 5


def helper():
    inner = 1
'''


def test_every_format_reads_to_the_same_data(make_project):
    root = make_project(
        {
            "p.yaml": "train:\n  lr: 1e-3\n  on: yes\n  n: 010\nname: x\n",
            "p.yml": "a: 1\n",
            "p.json": '{"train": {"lr": 0.001, "on": "yes", "n": 10}, "name": "x"}',
            "p.toml": '[train]\nlr = 0.001\non = "yes"\nn = 10\n\n[other]\nname = "x"\n',
            "p.py": PY_PARAMS,
            "p.cfg": "a: [1, 2]\n",  # unknown suffixes read as YAML, as in DVC
        }
    )
    repo = Repo(root)
    # YAML 1.2: 1e-3 is a float, yes is a string, 010 is decimal
    assert read_params_file(repo, "p.yaml") == {
        "train": {"lr": 0.001, "on": "yes", "n": 10},
        "name": "x",
    }
    assert read_params_file(repo, "p.json") == {
        "train": {"lr": 0.001, "on": "yes", "n": 10},
        "name": "x",
    }
    assert read_params_file(repo, "p.toml") == {
        "train": {"lr": 0.001, "on": "yes", "n": 10},
        "other": {"name": "x"},
    }
    assert read_params_file(repo, "p.yml") == {"a": 1}
    assert read_params_file(repo, "p.cfg") == {"a": [1, 2]}
    assert read_params_file(repo, "p.py") == {
        "LR": 0.01,
        "EPOCHS": 10,
        "NAMES": ["a", "b"],
        "SHAPE": (1, 2),
        "TAGS": {"x"},
        "OPTS": {"depth": 3, "act": "relu"},
        "Train": {"lr": 0.1, "batch": 32, "momentum": 0.9, "nested": {"k": 1}},
    }


def test_python_class_attributes_are_selected_with_dots():
    data = parse_py(PY_PARAMS)
    assert select_params(data, ["Train.lr", "Train.momentum", "LR"], path="p.py") == {
        "Train.lr": 0.1,
        "Train.momentum": 0.9,
        "LR": 0.01,
    }


@pytest.mark.parametrize(
    ("name", "content"), [("e.yaml", ""), ("e.yaml", "# only a comment\n"), ("e.json", "{}")]
)
def test_empty_files_read_as_empty_mappings(make_project, name, content):
    root = make_project({name: content})
    assert read_params_file(Repo(root), name) == {}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.yaml",
            "a: [1, 2\n",
            "params file 'bad.yaml': invalid YAML: did not find expected ',' or ']' (line 2)",
        ),
        (
            "bad.json",
            '{"a": 1,}',
            "params file 'bad.json': invalid JSON: Expecting property name enclosed in "
            "double quotes (line 1)",
        ),
        (
            "bad.toml",
            "a = \n",
            "params file 'bad.toml': invalid TOML: Invalid value (at line 1, column 5)",
        ),
        (
            "bad.py",
            "x = (\n",
            "params file 'bad.py': invalid Python: '(' was never closed (line 1)",
        ),
        (
            "list.yaml",
            "- a\n- b\n",
            "params file 'list.yaml': expected a mapping at the top level, got list",
        ),
        ("latin.yaml", b"a: \xe9\n", "params file 'latin.yaml': is not valid UTF-8"),
    ],
)
def test_unparseable_files_raise_params_file_error(make_project, name, content, message):
    root = make_project({name: content})
    with pytest.raises(ParamsFileError) as info:
        read_params_file(Repo(root), name)
    assert str(info.value) == message
    assert info.value.path == name


def test_missing_file_and_directory(make_project):
    root = make_project({"dir": {"x": "1"}})
    repo = Repo(root)
    with pytest.raises(ParamsFileError, match=r"^params file 'nope\.yaml': does not exist$"):
        read_params_file(repo, "nope.yaml")
    with pytest.raises(ParamsFileError, match=r"^params file 'dir': is a directory"):
        read_params_file(repo, "dir")


def test_parsed_files_are_cached_until_they_change(make_project):
    root = make_project({"params.yaml": "lr: 1\n"})
    repo = Repo(root)
    first = read_params_file(repo, "params.yaml")
    assert read_params_file(repo, "params.yaml") is first  # read once per run
    path = root / "params.yaml"
    stat = path.stat()
    # an atomic rewrite (new inode) is seen even with the same size and mtime
    tmp = root / "params.yaml.tmp"
    tmp.write_text("lr: 3\n")
    os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    tmp.replace(path)
    assert read_params_file(repo, "params.yaml") == {"lr": 3}
    path.write_text("lr: 40\n")
    assert read_params_file(repo, "params.yaml") == {"lr": 40}


def test_select_params_dotted_keys_sections_and_indexes():
    data = {"train": {"lr": 0.1, "layers": [{"n": 8}, {"n": 4}], "none": None}, "seed": 1}
    assert select_params(
        data, ["train.lr", "seed", "train.layers.1.n", "train.none"], path="p"
    ) == {
        "train.lr": 0.1,
        "seed": 1,
        "train.layers.1.n": 4,
        "train.none": None,
    }
    section = select_params(data, ["train"], path="p")["train"]
    assert section == data["train"] and section is not data["train"]  # a copy, safe to keep


@pytest.mark.parametrize(
    "key", ["train.lrr", "nope", "train.lr.x", "train.layers.5", "train.layers.x"]
)
def test_select_params_missing_key(key):
    data = {"train": {"lr": 0.1, "layers": [1]}}
    with pytest.raises(MissingParamError) as info:
        select_params(data, [key], path="params.yaml", stage="train")
    err = info.value
    assert (err.path, err.key, err.stage) == ("params.yaml", key, "train")
    assert str(err) == f"stage 'train': params key '{key}' not found in 'params.yaml'"


def test_stage_params_values_are_ordered_like_dvc_lock(make_project):
    root = make_project(
        {
            "params.yaml": "zeta: 1\nalpha: {b: 2, a: 1}\nbeta: 3\n",
            "b.json": '{"y": 2, "x": 1}',
            "a.toml": "k = 1\nj = 2\n",
            "sub": {"params.yaml": "local: 5\n"},
            "dvc.yaml": """
            stages:
              s:
                cmd: echo
                params:
                - b.json: [y, x]
                - zeta
                - alpha
                - a.toml:
              t:
                cmd: echo
                wdir: sub
                params: [local]
            """,
        }
    )
    repo = Repo(root)
    s, t = load_pipeline_file(repo, "dvc.yaml").stages
    values = stage_params_values(repo, s)
    # params.yaml first, then other files sorted; keys sorted; nested values in file order
    assert json.dumps(values) == json.dumps(
        {
            "params.yaml": {"alpha": {"b": 2, "a": 1}, "zeta": 1},
            "a.toml": {"j": 2, "k": 1},
            "b.json": {"x": 1, "y": 2},
        }
    )
    # keyed by def_path, relative to the stage's wdir
    assert stage_params_values(repo, t) == {"params.yaml": {"local": 5}}


def test_stage_params_values_errors_name_the_stage(make_project):
    root = make_project(
        {
            "params.yaml": "lr: 1\n",
            "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: [lr, epochs]\n",
        }
    )
    repo = Repo(root)
    (stage,) = load_pipeline_file(repo, "dvc.yaml").stages
    with pytest.raises(MissingParamError, match=r"^stage 's': params key 'epochs' not found"):
        stage_params_values(repo, stage)
    (root / "params.yaml").unlink()
    with pytest.raises(ParamsFileError, match=r"^params file 'params\.yaml': does not exist$"):
        stage_params_values(repo, stage)


@pytest.mark.oracle
@needs_dvc
def test_lock_params_match_dvc(make_project):
    root = make_project(
        {
            "params.yaml": """
            train:
              lr: 1e-3
              layers: [64, 32]
              opt: {name: adam, beta: 0.9}
            seed: 42
            flag: no
            """,
            "conf.json": '{"model": {"depth": 3, "width": 8}, "tags": ["a"], "z": null}',
            "conf.toml": "[data]\nsplit = 0.2\nname = 'x'\n",
            "conf.py": "LR = 0.5\nclass Net:\n    depth = 4\n",
            "dvc.yaml": """
            stages:
              a:
                cmd: echo a
                params:
                - train.lr
                - train.opt
                - seed
                - flag
                - conf.json: [model.depth, tags, z]
                - conf.toml:
                - conf.py: [LR, Net.depth]
              b:
                cmd: echo b
                params:
                - params.yaml:
            """,
        }
    )
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "PYTHONPATH": ""}
    subprocess.run([str(DVC), "init", "-q"], cwd=root, env=env, check=True)
    done = subprocess.run(
        [str(DVC), "repro", "-q"], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lock = load_yaml((root / "dvc.lock").read_text())
    repo = Repo(root)
    for stage in load_pipeline_file(repo, "dvc.yaml").stages:
        ours = stage_params_values(repo, stage)
        assert json.dumps(ours, default=str) == json.dumps(
            lock["stages"][stage.name]["params"], default=str
        )
