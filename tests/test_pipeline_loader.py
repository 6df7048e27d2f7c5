"""dvc.yaml loading: DVC 3's schema, vars/foreach/matrix/${}, paths, errors with file:line."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_exp.core.ignore_rules import is_ignored, parse_ignore
from jupyter_exp.core.pipeline.collect import find_pipeline_files
from jupyter_exp.core.pipeline.loader import load_pipeline_file
from jupyter_exp.core.pipeline.model import Dependency, Output, ParamsDependency
from jupyter_exp.core.repo import Repo
from jupyter_exp.errors import (
    InterpolationError,
    ParamsFileError,
    PathOutsideRepoError,
    PipelineSchemaError,
    PipelineSyntaxError,
    StageNotFoundError,
)

DVC_VENV = Path(
    os.environ.get("JUPYTER_EXP_DVC_VENV", os.path.expanduser("~/.cache/jupyter-exp/dvc-venv"))
)
DVC_PYTHON = DVC_VENV / "bin" / "python"
needs_dvc = pytest.mark.skipif(not DVC_PYTHON.exists(), reason="DVC oracle venv not installed")


def load(root: Path, dvcfile: str = "dvc.yaml"):
    return load_pipeline_file(Repo(root), dvcfile)


def stages_of(root: Path, dvcfile: str = "dvc.yaml"):
    return {s.name: s for s in load(root, dvcfile).stages}


# --- the schema, feature by feature ----------------------------------------------------


def test_full_stage_is_loaded_with_every_field(make_project):
    root = make_project(
        {
            "dvc.yaml": """
            stages:
              prepare:
                cmd: python prepare.py
                deps: [data/raw.csv, src/prepare.py]
                outs: [data/clean.csv]
              train:
                desc: Train the model
                cmd:
                - python train.py
                - echo done
                deps:
                - data/clean.csv
                params:
                - train.lr
                - seed
                outs:
                - model.pkl:
                    cache: false
                    persist: true
                    remote: myremote
                    push: false
                    desc: the model
                    type: model
                    labels: [a, b]
                    meta: {owner: me}
                - ckpt:
                    checkpoint: true
                metrics:
                - metrics.json:
                    cache: false
                plots:
                - plots/loss.csv:
                    y: loss
                    x: step
                    template: linear
                    title: Loss
                    cache: false
                - plots/roc.json
                frozen: true
                always_changed: true
                meta:
                  anything: [1, 2]
            """,
            "params.yaml": "train: {lr: 0.1}\nseed: 1\n",
        }
    )
    stages = stages_of(root)
    assert list(stages) == ["prepare", "train"]
    prepare, train = stages["prepare"], stages["train"]
    assert prepare.line == 2 and train.line == 6
    assert prepare.dvcfile == "dvc.yaml" and prepare.wdir == "."
    assert prepare.cmd == "python prepare.py"
    assert prepare.deps == (
        Dependency("data/raw.csv", "data/raw.csv"),
        Dependency("src/prepare.py", "src/prepare.py"),
    )
    assert prepare.outs == (Output("data/clean.csv", "data/clean.csv"),)

    assert train.cmd == ["python train.py", "echo done"]
    assert train.desc == "Train the model"
    assert train.frozen and train.always_changed
    assert train.meta == {"anything": [1, 2]}
    assert train.params == (ParamsDependency("params.yaml", "params.yaml", ("train.lr", "seed")),)
    model, ckpt, metrics, loss, roc = train.outs
    assert (model.kind, model.cache, model.persist, model.remote, model.push) == (
        "out",
        False,
        True,
        "myremote",
        False,
    )
    assert model.annotations == {
        "desc": "the model",
        "type": "model",
        "labels": ["a", "b"],
        "meta": {"owner": "me"},
    }
    assert ckpt.checkpoint and ckpt.cache and not ckpt.persist
    assert (metrics.kind, metrics.cache) == ("metric", False)
    assert (loss.kind, loss.cache, roc.kind, roc.cache) == ("plot", False, "plot", True)
    # DVC keeps plot props in its schema's order (template, x, y, ..., title)
    assert list(loss.plot_props.items()) == [
        ("template", "linear"),
        ("x", "step"),
        ("y", "loss"),
        ("title", "Loss"),
    ]
    assert roc.plot_props == {}


def test_wdir_and_nested_dvcfile_resolve_repo_paths(make_project):
    root = make_project(
        {
            "sub": {
                "dvc.yaml": """
                stages:
                  a:
                    cmd: echo
                    wdir: ../work
                    deps: [in.txt, ../top.txt]
                    params: [lr, {cfg/p.json: [x]}]
                    outs: [./out//o.txt]
                  b:
                    cmd: echo
                    deps: [local.txt]
                """
            }
        }
    )
    a, b = load(root, "sub/dvc.yaml").stages
    assert a.dvcfile == "sub/dvc.yaml" and a.wdir == "work"
    assert a.deps == (Dependency("in.txt", "work/in.txt"), Dependency("../top.txt", "top.txt"))
    assert a.params == (
        ParamsDependency("params.yaml", "work/params.yaml", ("lr",)),
        ParamsDependency("cfg/p.json", "work/cfg/p.json", ("x",)),
    )
    assert a.outs[0].def_path == "./out//o.txt" and a.outs[0].repo_path == "work/out/o.txt"
    assert b.wdir == "sub" and b.deps[0].repo_path == "sub/local.txt"
    assert a.address == "sub/dvc.yaml:a"


def test_params_forms_merge_as_dvc_does(make_project):
    root = make_project(
        {
            "dvc.yaml": """
            stages:
              keys:
                cmd: echo
                params:
                - lr
                - other.yaml: [b, a]
                - lr
                - other.yaml: [c]
                - whole.toml:
                - empty.json: []
              whole_default:
                cmd: echo
                params:
                - lr
                - params.yaml:
                - epochs
            """
        }
    )
    stages = stages_of(root)
    assert stages["keys"].params == (
        ParamsDependency("params.yaml", "params.yaml", ("lr",)),
        ParamsDependency("other.yaml", "other.yaml", ("b", "a", "c")),
        ParamsDependency("whole.toml", "whole.toml", ()),
        ParamsDependency("empty.json", "empty.json", ()),
    )
    # a wholly tracked params.yaml swallows the plain keys
    (dep,) = stages["whole_default"].params
    assert dep == ParamsDependency("params.yaml", "params.yaml", ()) and dep.whole_file


def test_duplicate_outputs_are_merged_like_dvc(make_project):
    root = make_project(
        {
            "dvc.yaml": """
            stages:
              s:
                cmd: echo
                outs:
                - a.txt
                - b.txt: {cache: false}
                  c.txt: {persist: true}
                - a.txt: {persist: true}
            """
        }
    )
    outs = stages_of(root)["s"].outs
    assert [(o.def_path, o.cache, o.persist) for o in outs] == [
        ("a.txt", True, True),
        ("b.txt", False, False),
        ("c.txt", True, True),
    ]


def test_top_level_sections_are_kept_and_interpolated(make_project):
    root = make_project(
        {
            "dvc.yaml": """
            vars:
            - name: eval
            params: [extra.yaml]
            metrics: ["${name}/metrics.json"]
            plots:
            - ${name}/roc.json: {x: fpr, y: tpr}
            - confusion.csv
            artifacts:
              model:
                path: model.pkl
                type: model
                labels: [x]
            datasets:
            - name: ds
              type: dvc
              url: .
            stages: {}
            """
        }
    )
    f = load(root)
    assert f.stages == []
    assert f.params == ["extra.yaml"]
    assert f.metrics == ["eval/metrics.json"]
    assert f.plots == [{"eval/roc.json": {"x": "fpr", "y": "tpr"}}, "confusion.csv"]
    assert f.artifacts == {"model": {"path": "model.pkl", "type": "model", "labels": ["x"]}}
    assert f.datasets == [{"name": "ds", "type": "dvc", "url": "."}]


def test_empty_file_has_no_stages(make_project):
    root = make_project({"dvc.yaml": "# nothing yet\n"})
    assert load(root).stages == []


# --- interpolation, vars, foreach, matrix --------------------------------------------------


def test_interpolation_from_default_params_and_vars(make_project):
    root = make_project(
        {
            "params.yaml": """
            train:
              lr: 0.001
              epochs: 10
              layers: [64, 32]
              flag: true
              opts: {dropout: 0.5, name: "my net", tags: [a, b], on: false, off: false}
            data: data/in.csv
            """,
            "extra.yaml": "model: resnet\nsize: 3\n",
            "dvc.yaml": r"""
            vars:
            - extra.yaml
            - out_dir: results
              nested: {deep: {value: 7}}
            stages:
              train:
                cmd: >-
                  python train.py --lr ${train.lr} --layer ${train.layers[1]}
                  --flag ${train.flag} ${train.opts} --model ${model} --literal \${keep}
                deps:
                - ${data}
                outs:
                - ${out_dir}/${model}-${nested.deep.value}.pkl
                meta:
                  epochs: ${train.epochs}
                  flag: ${train.flag}
                  note: ${train.lr} x
            """,
        }
    )
    (stage,) = load(root).stages
    assert stage.cmd == (
        "python train.py --lr 0.001 --layer 32 --flag true --dropout 0.5 --name 'my net' "
        "--tags a b --model resnet --literal ${keep}"
    )
    assert stage.deps[0].repo_path == "data/in.csv"
    assert stage.outs[0].def_path == "results/resnet-7.pkl"
    # a whole-value ${} keeps the type, in any field that allows it
    assert stage.meta == {"epochs": 10, "flag": True, "note": "0.001 x"}


def test_dict_in_cmd_honours_parsing_config(make_project):
    root = make_project(
        {
            ".dvc": {"config": "[parsing]\n    bool = boolean_optional\n    list = append\n"},
            "params.yaml": "args: {verbose: false, fast: true, n: [1, 2], name: x}\n",
            "dvc.yaml": "stages:\n  s:\n    cmd: run ${args}\n",
        }
    )
    (stage,) = load(root).stages
    assert stage.cmd == "run --no-verbose --fast --n 1 --n 2 --name x"


def test_tracked_vars_record_params_read_through_interpolation(make_project):
    root = make_project(
        {
            "params.yaml": "train: {lr: 0.1, layers: [1, 2], opt: {name: adam}}\n",
            "more.yaml": "seed: 5\n",
            "dvc.yaml": """
            vars: [more.yaml, {local: 1}]
            stages:
              s:
                cmd: echo ${train.lr} ${train.layers[-1]} ${seed} ${local}
              t:
                cmd: echo ${train.opt.name}
              u:
                cmd: echo none
            """,
        }
    )
    f = load(root)
    assert f.tracked_vars == {
        "s": {
            "params.yaml": {"train.lr": 0.1, "train.layers.1": 2},
            "more.yaml": {"seed": 5},
        },
        "t": {"params.yaml": {"train.opt.name": "adam"}},
    }
    # DVC does not add them to the stage's params (nor to dvc.lock)
    assert all(s.params == () for s in f.stages)


def test_stage_vars_are_relative_to_wdir_and_do_not_leak(make_project):
    root = make_project(
        {
            "sub": {"conf.yaml": "a: 1\nb: 2\nc: 3\n"},
            "dvc.yaml": """
            stages:
              one:
                wdir: sub
                vars: ["conf.yaml:a,b", {x: inline}]
                cmd: echo ${a} ${b} ${x}
              two:
                cmd: echo ${a}
            """,
        }
    )
    with pytest.raises(InterpolationError) as info:
        load(root)
    err = info.value
    assert str(err) == (
        "dvc.yaml:7: stage 'two': cannot interpolate '${a}' in 'cmd': could not find 'a'"
    )
    (root / "dvc.yaml").write_text(
        (root / "dvc.yaml").read_text().replace("echo ${a}\n", "echo two\n")
    )
    one, _two = load(root).stages
    assert one.cmd == "echo 1 2 inline"


def test_foreach_over_lists_and_dicts_names_items_like_dvc(make_project):
    root = make_project(
        {
            "params.yaml": "models: {cnn: {lr: 1}, rnn: {lr: 2}}\nflags: [true, false]\n",
            "dvc.yaml": """
            stages:
              simple:
                foreach: [a, 1, 2.5, true, null, a]
                do:
                  cmd: echo ${item}
              composite:
                foreach:
                - {name: x, n: 1}
                - {name: y, n: 2}
                do:
                  cmd: echo ${item.name} ${item.n}
                  outs: ['${item.name}.txt']
              bydict:
                foreach: ${models}
                do:
                  cmd: echo ${key} ${item.lr}
              fromparams:
                foreach: ${flags}
                do:
                  cmd: echo ${item}
              literal_dict:
                foreach:
                  us: {region: us-east}
                  eu: {region: eu-west}
                do:
                  cmd: deploy ${key} ${item.region}
            """,
        }
    )
    f = load(root)
    cmds = {s.name: s.cmd for s in f.stages}
    assert cmds == {
        "simple@a": "echo a",
        "simple@1": "echo 1",
        "simple@2.5": "echo 2.5",
        "simple@true": "echo true",
        "simple@None": "echo None",
        "composite@0": "echo x 1",
        "composite@1": "echo y 2",
        "bydict@cnn": "echo cnn 1",
        "bydict@rnn": "echo rnn 2",
        # values looked up with ${} render with str() in names, as in DVC
        "fromparams@True": "echo true",
        "fromparams@False": "echo false",
        "literal_dict@us": "deploy us us-east",
        "literal_dict@eu": "deploy eu eu-west",
    }
    by_name = {s.name: s for s in f.stages}
    assert by_name["composite@1"].outs[0].repo_path == "y.txt"
    assert by_name["composite@0"].line == 6  # generated stages point at their group
    assert f.tracked_vars["bydict@rnn"] == {"params.yaml": {"models.rnn.lr": 2}}
    assert by_name["bydict@cnn"].address == "bydict@cnn"


def test_matrix_names_and_items_like_dvc(make_project):
    root = make_project(
        {
            "params.yaml": "lrs: [0.1, 0.01]\n",
            "dvc.yaml": """
            stages:
              train:
                matrix:
                  model: [cnn, rnn]
                  lr: ${lrs}
                  cfg: [{a: 1}, {a: 2}]
                cmd: train ${item.model} ${item.lr} ${item.cfg.a} ${key}
                outs: ['${item.model}/${item.lr}.pkl']
            """,
        }
    )
    f = load(root)
    names = [s.name for s in f.stages]
    assert names == [
        f"train@{m}-{lr}-cfg{c}" for m in ("cnn", "rnn") for lr in ("0.1", "0.01") for c in (0, 1)
    ]
    first = f.stages[0]
    assert first.cmd == "train cnn 0.1 1 cnn-0.1-cfg0"
    assert first.outs[0].repo_path == "cnn/0.1.pkl"
    assert f.tracked_vars["train@rnn-0.01-cfg1"] == {"params.yaml": {"lrs.1": 0.01}}


def test_files_without_interpolation_skip_params_loading(make_project):
    # a broken params.yaml does not matter to a dvc.yaml that never uses ${}
    root = make_project(
        {"params.yaml": "a: [unclosed\n", "dvc.yaml": "stages:\n  s:\n    cmd: echo\n"}
    )
    assert [s.name for s in load(root).stages] == ["s"]
    (root / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo ${a}\n")
    with pytest.raises(ParamsFileError, match=r"params\.yaml"):
        load(root)


# --- errors, with exact messages ------------------------------------------------------------

SCHEMA_ERRORS = [
    (
        "stages:\n  train:\n    cmd: echo\n    outz: [a]\n",
        "dvc.yaml:4: stage 'train': unknown key 'outz'",
    ),
    ("stagez:\n  a: {cmd: echo}\n", "dvc.yaml:1: unknown top-level key 'stagez'"),
    ("stages:\n  train:\n    deps: [a]\n", "dvc.yaml:2: stage 'train': missing required key 'cmd'"),
    (
        "stages:\n  train:\n    cmd: echo\n    frozen: 'yes'\n",
        "dvc.yaml:4: stage 'train': 'frozen' must be a boolean, got string",
    ),
    (
        "stages:\n  train:\n    cmd: 5\n",
        "dvc.yaml:3: stage 'train': 'cmd' must be a string or a list, got integer",
    ),
    (
        "stages:\n  train:\n    cmd: echo\n    deps: a.txt\n",
        "dvc.yaml:4: stage 'train': 'deps' must be a list, got string",
    ),
    (
        "stages:\n  train:\n    cmd: echo\n    deps:\n    - a\n    - 3\n",
        "dvc.yaml:6: stage 'train': 'deps[1]' must be a string, got integer",
    ),
    (
        "stages:\n  train:\n    cmd: echo\n    deps:\n",
        "dvc.yaml:4: stage 'train': 'deps' must be a list, got null",
    ),
    (
        "stages:\n  t:\n    cmd: echo\n    outs:\n    - m.pkl:\n        cache: no\n",
        "dvc.yaml:6: stage 't': 'cache' of 'm.pkl' in 'outs' must be a boolean, got string",
    ),
    (
        "stages:\n  t:\n    cmd: echo\n    outs:\n    - m.pkl:\n        cahce: false\n",
        "dvc.yaml:6: stage 't': unknown key 'cahce' for 'm.pkl' in 'outs'",
    ),
    (
        "stages:\n  t:\n    cmd: echo\n    outs:\n    - m.pkl:\n",
        "dvc.yaml:5: stage 't': options of 'm.pkl' in 'outs' must be a mapping, got null",
    ),
    (
        "stages:\n  t:\n    cmd: echo\n    metrics:\n    - m.json: {x: step}\n",
        "dvc.yaml:5: stage 't': unknown key 'x' for 'm.json' in 'metrics'",
    ),
    (
        "stages:\n  t:\n    cmd: echo\n    params:\n    - p.yaml: lr\n",
        "dvc.yaml:5: stage 't': params of 'p.yaml' must be a list of keys, got string",
    ),
    (
        "stages:\n  a:b:\n    cmd: echo\n",
        "dvc.yaml:2: invalid stage name 'a:b': it may not contain ':'",
    ),
    (
        "stages:\n  a@b:\n    cmd: echo\n",
        "dvc.yaml:2: invalid stage name 'a@b': it may not contain '@'",
    ),
    (
        "stages:\n  s:\n    foreach: [1]\n    do: {cmd: echo}\n    cmd: x\n",
        "dvc.yaml:5: stage 's': unknown key 'cmd' next to 'foreach'/'do'",
    ),
    (
        "stages:\n  s:\n    foreach: [1]\n",
        "dvc.yaml:2: stage 's': missing required key 'do'",
    ),
    (
        "stages:\n  s:\n    foreach: [1]\n    do:\n      cmd: echo\n      outz: []\n",
        "dvc.yaml:6: stage 's': unknown key 'outz'",
    ),
    ("stages:\n", "dvc.yaml:1: 'stages' must be a mapping, got null"),
    ("stages:\n  s:\n", "dvc.yaml:2: stage definition must be a mapping, got null"),
    ("- a\n- b\n", "dvc.yaml:1: expected a mapping at the top level, got list"),
    ("vars: a.yaml\nstages: {}\n", "dvc.yaml:1: 'vars' must be a list, got string"),
    (
        "plots:\n- p.csv: {z: 1}\n",
        "dvc.yaml:2: unknown key 'z' in plot 'p.csv'",
    ),
    (
        "artifacts:\n  m: {type: model}\n",
        "dvc.yaml:2: artifact 'm' is missing required key 'path'",
    ),
    (
        "stages:\n  s:\n    matrix:\n      x: 1\n    cmd: echo\n",
        "dvc.yaml:4: stage 's': 'matrix.x' must be a list or a '${...}' string, got integer",
    ),
    (
        "stages:\n  s:\n    cmd: ''\n",
        "dvc.yaml:3: stage 's': 'cmd' is empty",
    ),
]


@pytest.mark.parametrize(("text", "message"), SCHEMA_ERRORS)
def test_schema_errors_name_file_line_and_stage(make_project, text, message):
    root = make_project({"dvc.yaml": text})
    with pytest.raises(PipelineSchemaError) as info:
        load(root)
    assert str(info.value) == message


def test_schema_error_fields(make_project):
    root = make_project({"sub": {"dvc.yaml": "stages:\n  train:\n    cmd: echo\n    outz: [a]\n"}})
    with pytest.raises(PipelineSchemaError) as info:
        load(root, "sub/dvc.yaml")
    err = info.value
    assert (err.path, err.line, err.stage, err.detail) == (
        "sub/dvc.yaml",
        4,
        "train",
        "unknown key 'outz'",
    )


def test_bad_yaml_is_a_syntax_error_with_line(make_project):
    root = make_project({"dvc.yaml": "stages:\n  a:\n    cmd: [echo\n    deps: x\n"})
    with pytest.raises(PipelineSyntaxError) as info:
        load(root)
    assert info.value.path == "dvc.yaml" and info.value.line == 4
    assert str(info.value).startswith("dvc.yaml:4: invalid YAML")


def test_non_utf8_file_is_a_syntax_error(make_project):
    root = make_project({"dvc.yaml": b"stages:\n  s:\n    cmd: echo \xe9\n"})
    with pytest.raises(PipelineSyntaxError, match=r"^dvc\.yaml: the file is not valid UTF-8$"):
        load(root)


def test_missing_file_is_stage_not_found(make_project):
    root = make_project({})
    with pytest.raises(StageNotFoundError) as info:
        load(root, "nope/dvc.yaml")
    assert info.value.target == "nope/dvc.yaml"


INTERPOLATION_ERRORS = [
    (
        "stages:\n  s:\n    cmd: echo ${train.lrr}\n",
        "dvc.yaml:3: stage 's': cannot interpolate '${train.lrr}' in 'cmd': "
        "could not find 'train.lrr'",
    ),
    (
        "stages:\n  s:\n    cmd: echo\n    deps:\n    - a\n    - ${train.layers}\n",
        "dvc.yaml:6: stage 's': cannot interpolate '${train.layers}' in 'deps[1]': "
        "a value of type 'list' cannot be used here",
    ),
    (
        "stages:\n  s:\n    cmd: echo ${train..lr}\n",
        "dvc.yaml:3: stage 's': cannot interpolate '${train..lr}' in 'cmd': invalid syntax",
    ),
    (
        "stages:\n  s:\n    cmd: echo ${}\n",
        "dvc.yaml:3: stage 's': cannot interpolate '${}' in 'cmd': invalid syntax",
    ),
    (
        "stages:\n  s:\n    cmd: echo ${train.layers[5]}\n",
        "dvc.yaml:3: stage 's': cannot interpolate '${train.layers[5]}' in 'cmd': "
        "could not find 'train.layers[5]'",
    ),
    (
        "stages:\n  s:\n    cmd: echo\n    outs:\n    - out.txt:\n        desc: ${nope}\n",
        "dvc.yaml:6: stage 's': cannot interpolate '${nope}' in 'outs[0].out.txt.desc': "
        "could not find 'nope'",
    ),
    (
        "stages:\n  s:\n    foreach: ${nope}\n    do: {cmd: echo}\n",
        "dvc.yaml:3: stage 's': cannot interpolate '${nope}' in 'foreach': could not find 'nope'",
    ),
    (
        "stages:\n  s:\n    foreach: [1]\n    do:\n      cmd: echo ${item.x}\n",
        "dvc.yaml:5: stage 's@1': cannot interpolate '${item.x}' in 'cmd': could not find 'item.x'",
    ),
    (
        "vars: [missing.yaml]\nstages: {}\n",
        "dvc.yaml:1: vars file 'missing.yaml' does not exist",
    ),
    (
        "vars: [params.yaml:nokey]\nstages: {}\n",
        "dvc.yaml:1: cannot partially load 'params.yaml:nokey' as it is already loaded",
    ),
    (
        "vars:\n- v.yaml:a\n- v.yaml:b,a\nstages: {}\n",
        "dvc.yaml:3: cannot load 'v.yaml:b,a' as it is partially loaded already",
    ),
    (
        "vars:\n- v.yaml:a\n- v.yaml\nstages: {}\n",
        "dvc.yaml:3: cannot load 'v.yaml' as it is partially loaded already",
    ),
    (
        "vars:\n- v.yaml:nokey\nstages: {}\n",
        "dvc.yaml:2: could not find 'nokey' in 'v.yaml'",
    ),
    (
        "vars:\n- {x: '${train.lr}'}\nstages: {}\n",
        "dvc.yaml:2: interpolating is not allowed in 'vars'",
    ),
    (
        "vars:\n- train: {lr: 5}\nstages: {}\n",
        "dvc.yaml:2: cannot redefine 'train.lr' from 'vars[0]' as it already exists in "
        "'params.yaml'",
    ),
    (
        "stages:\n  s:\n    foreach: [1]\n    do:\n      vars: [{item: 2}]\n      cmd: echo\n",
        "dvc.yaml:5: stage 's@1': attempted to modify reserved key 'item' in 's@1.vars[0]'",
    ),
    (
        "stages:\n  s:\n    foreach: ${train.lr}\n    do: {cmd: echo}\n",
        "dvc.yaml:3: stage 's': 'foreach' must give a list or a mapping, got float",
    ),
]


@pytest.mark.parametrize(("text", "message"), INTERPOLATION_ERRORS)
def test_interpolation_errors_name_the_expression(make_project, text, message):
    root = make_project(
        {
            "params.yaml": "train: {lr: 0.1, layers: [1, 2]}\n",
            "v.yaml": "a: 1\nb: 2\n",
            "dvc.yaml": text,
        }
    )
    with pytest.raises(InterpolationError) as info:
        load(root)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("entry", "target"),
    [
        ("deps: [../outside.txt]", "../outside.txt"),
        ("deps: [/etc/passwd]", "/etc/passwd"),
        ("outs: [a/../../x]", "a/../../x"),
        ("params: [{../p.yaml: [a]}]", "../p.yaml"),
        ("wdir: ..", ".."),
        ("deps: [s3://bucket/key]", "s3://bucket/key"),
        ("deps: [link/file.txt]", "link/file.txt"),
        ("wdir: link", "link"),
    ],
)
def test_paths_outside_the_repo_are_refused(make_project, tmp_path, entry, target):
    outside = tmp_path / "elsewhere"
    outside.mkdir(exist_ok=True)
    root = make_project({"dvc.yaml": f"stages:\n  s:\n    cmd: echo\n    {entry}\n"})
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathOutsideRepoError) as info:
        load(root)
    err = info.value
    assert (err.target, err.path, err.line, err.stage) == (target, "dvc.yaml", 4, "s")
    assert str(err) == f"dvc.yaml:4: stage 's': path '{target}' is outside the repository"


def test_absolute_paths_inside_the_repo_are_fine(make_project):
    root = make_project({})
    (root / "dvc.yaml").write_text(f"stages:\n  s:\n    cmd: echo\n    deps: [{root}/d/x]\n")
    (dep,) = load(root).stages[0].deps
    assert dep.def_path == f"{root}/d/x" and dep.repo_path == "d/x"


def test_symlinked_folder_inside_the_repo_is_fine(make_project):
    root = make_project({"real": {"x.txt": "x"}, "dvc.yaml": "stages:\n  s:\n    cmd: echo\n"})
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    (root / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n    deps: [alias/x.txt]\n")
    assert load(root).stages[0].deps[0].repo_path == "alias/x.txt"


def test_vars_file_outside_repo_is_refused(make_project):
    root = make_project({"dvc.yaml": "vars: [../v.yaml]\nstages: {}\n"})
    with pytest.raises(PathOutsideRepoError, match=r"dvc.yaml:1: path '../v.yaml'"):
        load(root)


# --- discovery -------------------------------------------------------------------------------


def test_find_pipeline_files_prunes_what_is_not_part_of_the_project(make_project):
    stage = "stages:\n  s:\n    cmd: echo\n"
    root = make_project(
        {
            "dvc.yaml": stage,
            "a": {"dvc.yaml": stage, "b": {"dvc.yaml": stage}},
            "z": {"dvc.yaml": stage},
            ".hidden": {"dvc.yaml": stage},
            "subrepo": {".dvc": {"config": ""}, "dvc.yaml": stage},
            "ignored_by_dvc": {"dvc.yaml": stage},
            "data": {"dvc.yaml": stage},
            "keep": {"dvc.yaml": stage, "skipme": {"dvc.yaml": stage}},
            ".dvcignore": "/ignored_by_dvc\n",
            ".gitignore": "/data\nkeep/*/\n",
            "notes": {"dvc.yaml.bak": "x", "other.yaml": stage},
        }
    )
    (root / ".dvc").mkdir()
    (root / ".dvc" / "dvc.yaml").write_text(stage)
    (root / "linked").symlink_to(root / "a", target_is_directory=True)
    assert find_pipeline_files(Repo(root)) == [
        "a/b/dvc.yaml",
        "a/dvc.yaml",
        "dvc.yaml",
        "keep/dvc.yaml",
        "z/dvc.yaml",
    ]


def test_find_pipeline_files_honours_nested_ignore_files_and_negation(make_project):
    stage = "stages:\n  s:\n    cmd: echo\n"
    root = make_project(
        {
            "x": {
                ".gitignore": "build*\n!build_keep\n",
                "build1": {"dvc.yaml": stage},
                "build_keep": {"dvc.yaml": stage},
            },
            "y": {"build1": {"dvc.yaml": stage}},
            "deep": {"one": {"two": {"dvc.yaml": stage}}},
            ".gitignore": "**/two/\n",
        }
    )
    assert find_pipeline_files(Repo(root)) == ["x/build_keep/dvc.yaml", "y/build1/dvc.yaml"]


_SEGMENTS = st.sampled_from(["a", "b", "ab", "a.txt", "data", "x1", "dvc.yaml"])
_PIECES = st.sampled_from(
    ["a", "b", "*", "?", "a*", "*b", "**", "data", "[ab]", "[!a]b", "x?", "*.txt", "dvc.yaml"]
)


@st.composite
def _patterns(draw):
    pattern = "/".join(draw(st.lists(_PIECES, min_size=1, max_size=3)))
    if draw(st.booleans()):
        pattern = "/" + pattern
    if draw(st.booleans()):
        pattern += "/"
    if draw(st.integers(0, 3)) == 0:
        pattern = "!" + pattern
    return pattern


def _ignored_while_walking(rules, path: str) -> bool:
    # the walk prunes an ignored folder, so a path is ignored when any prefix is
    parts = path.split("/")
    return any(
        is_ignored(rules, "/".join(parts[:i]), i < len(parts)) for i in range(1, len(parts) + 1)
    )


@settings(max_examples=120, deadline=None)
@given(
    st.lists(_patterns(), min_size=1, max_size=4),
    st.lists(
        st.lists(_SEGMENTS, min_size=1, max_size=3).map("/".join),
        min_size=1,
        max_size=6,
        unique=True,
    ),
)
def test_ignore_rules_agree_with_git(tmp_path_factory, patterns, paths):
    # ("a**" is left out: git's prefix optimisation makes it match across "/")
    root = tmp_path_factory.mktemp("gi")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    text = "\n".join(patterns) + "\n"
    (root / ".gitignore").write_text(text)
    done = subprocess.run(
        ["git", "check-ignore", "--stdin"],
        cwd=root,
        input="\n".join(paths) + "\n",
        capture_output=True,
        text=True,
    )
    ignored_by_git = set(done.stdout.split())
    rules = parse_ignore(text, "")
    for path in paths:
        assert _ignored_while_walking(rules, path) == (path in ignored_by_git), (patterns, path)


# --- speed -----------------------------------------------------------------------------------


def test_loading_ten_stages_is_fast(make_project):
    body = "".join(
        textwrap.dedent(
            f"""
              s{i}:
                cmd: python train.py {i}
                deps: [data/in{i}.csv, src/train.py]
                params: [train.lr, train.epochs]
                outs: [out/model{i}.pkl]
                metrics:
                - m{i}.json: {{cache: false}}
            """
        ).replace("\n", "\n  ")
        for i in range(10)
    )
    root = make_project({"dvc.yaml": "stages:" + body})
    repo = Repo(root)
    assert len(load_pipeline_file(repo, "dvc.yaml").stages) == 10
    start = time.perf_counter()
    for _ in range(50):
        load_pipeline_file(repo, "dvc.yaml")
    per_load = (time.perf_counter() - start) / 50
    assert per_load < 0.01, f"{per_load * 1000:.2f} ms per load"  # ~1 ms; loose for CI


# --- DVC as the oracle -----------------------------------------------------------------------

ORACLE_SCRIPT = """
import json, sys
from dvc.repo import Repo
repo = Repo(sys.argv[1])
out = {}
for stage in repo.index.stages:
    out[stage.name] = {
        "cmd": stage.cmd,
        "wdir": stage.wdir,
        "deps": sorted(d.def_path for d in stage.deps if not hasattr(d, "params")),
        "params": {d.def_path: list(d.params) for d in stage.deps if hasattr(d, "params")},
        "outs": [[o.def_path, bool(o.metric), bool(o.plot), o.use_cache] for o in stage.outs],
        "tracked": stage.tracked_vars,
    }
print(json.dumps(out))
"""


def dvc_view(root: Path) -> dict:
    done = subprocess.run(
        [str(DVC_PYTHON), "-c", ORACLE_SCRIPT, str(root)],
        cwd=root,  # DVC names tracked-vars files relative to the cwd
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DVC_NO_ANALYTICS": "1", "PYTHONPATH": ""},
    )
    return json.loads(done.stdout)


def our_view(root: Path) -> dict:
    repo = Repo(root)
    out = {}
    for path in find_pipeline_files(repo):
        f = load_pipeline_file(repo, path)
        for s in f.stages:
            out[s.name] = {
                "cmd": s.cmd,
                "wdir": str(repo.abspath(s.wdir)),
                "deps": sorted(d.def_path for d in s.deps),
                "params": {p.def_path: list(p.keys) for p in s.params},
                "outs": [
                    [o.def_path, o.kind == "metric", o.kind == "plot", o.cache] for o in s.outs
                ],
                "tracked": f.tracked_vars.get(s.name, {}),
            }
    return out


@pytest.mark.oracle
@needs_dvc
def test_stages_match_dvc(make_project):
    root = make_project(
        {
            ".dvc": {"config": ""},
            "params.yaml": """
            models: {cnn: {lr: 1}, rnn: {lr: 2}}
            lrs: [0.1, 0.01]
            flags: [true, false]
            args: {fast: true, n: [1, 2], name: my net}
            seed: 3
            """,
            "vars.yaml": "prefix: out\nother: 9\n",
            "dvc.yaml": r"""
            vars: [vars.yaml:prefix, {width: 4}]
            stages:
              plain:
                cmd: run ${args} --seed ${seed} \${literal}
                deps: [a.txt, b.txt]
                params: [seed, {other.yaml: [x, y]}, {whole.json: }]
                outs: ['${prefix}/p.txt', {nc.txt: {cache: false}}]
                metrics: [m.json]
                plots: [{p.csv: {x: a, y: b}}]
              fe:
                foreach: ${models}
                do:
                  cmd: echo ${key} ${item.lr} ${width}
                  outs: ['${prefix}/${key}.pkl']
              fl:
                foreach: ${flags}
                do:
                  cmd: echo ${item}
              fc:
                foreach: [{n: 1}, {n: 2}]
                do:
                  cmd: echo ${item.n}
              mx:
                matrix:
                  lr: ${lrs}
                  m: [a, b]
                  flag: [true, false]
                cmd: echo ${item.lr} ${item.m} ${item.flag} ${key}
            """,
            "sub": {
                "params.yaml": "local: 1\n",
                "dvc.yaml": """
                stages:
                  inner:
                    wdir: ..
                    cmd: echo ${local}
                    deps: [sub/x]
                    params: [local]
                """,
            },
        }
    )
    assert our_view(root) == dvc_view(root)


def test_dotted_stage_names_from_existing_dvc_projects_load(make_project):
    from jupyter_exp.core.pipeline.loader import load_pipeline_file
    from jupyter_exp.core.repo import Repo

    root = make_project({"dvc.yaml": "stages:\n  train.v2:\n    cmd: echo\n"})
    stages = load_pipeline_file(Repo(root), "dvc.yaml").stages
    assert [s.name for s in stages] == ["train.v2"]
