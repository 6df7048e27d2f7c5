"""``exp show``: collecting experiments from real Git repositories, the table, the DataFrame
and the CLI formats.

Experiments are recorded as DVC lays them out (a commit of the workspace whose parent is
the baseline, under ``refs/exps/``) without running stages, so each test stays fast;
``test_exp_show_oracle.py`` checks the same against experiments DVC itself made.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest
from conftest import git, run_cli, write_tree

from jupyter_exp.api import Project
from jupyter_exp.core.repo import Repo
from jupyter_exp.errors import InvalidArgumentError, RevisionNotFoundError
from jupyter_exp.experiments import collect, showcache
from jupyter_exp.experiments.collect import CollectOptions, collect_states, states_to_json
from jupyter_exp.experiments.expstate import ExternalExperiment
from jupyter_exp.experiments.refs import ExpRef
from jupyter_exp.experiments.show import ShowOptions, build_table
from jupyter_exp.git import Git

pd = pytest.importorskip("pandas")

MD5 = {name: f"{i:x}" * 32 for i, name in enumerate("abcdef", start=1)}

PARAMS = """\
train:
  lr: 0.1
  epochs: 10
  layers: [64, 32]
  use_bn: true
seed: 1
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [data.txt, train.py]
    params:
      - train
      - other.json:
        - lr
        - opt.kind
    outs: [model.bin]
    metrics:
      - metrics.json:
          cache: false
"""


def lock(model_md5: str = MD5["c"]) -> str:
    """A dvc.lock for DVC_YAML (the params values do not matter to exp show)."""
    return f"""\
schema: '2.0'
stages:
  train:
    cmd: python train.py
    deps:
    - path: data.txt
      hash: md5
      md5: {MD5["a"]}
      size: 6
    - path: train.py
      hash: md5
      md5: {MD5["b"]}
      size: 10
    outs:
    - path: metrics.json
      hash: md5
      md5: {MD5["d"]}
      size: 40
    - path: model.bin
      hash: md5
      md5: {model_md5}
      size: 3
"""


FILES = {
    "params.yaml": PARAMS,
    "other.json": '{"lr": 5, "opt": {"kind": "adam"}, "unused": 1}\n',
    "dvc.yaml": DVC_YAML,
    "dvc.lock": lock(),
    "metrics.json": '{"acc": 0.5, "loss": 0.5, "val": {"acc": 0.4}}\n',
    "data.txt": "hello\n",
    "train.py": "# trains\n",
    ".gitignore": "/model.bin\n",
    ".dvc": {".gitignore": "/config.local\n/tmp\n/cache\n", "config": ""},
}

T0 = 1_700_000_000  # a fixed commit time, far from today


def record(
    root: Path,
    name: str,
    files: Mapping[str, str],
    *,
    when: int = T0,
    parent: str | None = None,
) -> str:
    """Record an experiment of ``parent`` (HEAD) with ``files`` changed; workspace restored."""
    g = Git(root)
    base = parent or g.head()
    assert base is not None
    saved = {p: (root / p).read_bytes() if (root / p).exists() else None for p in files}
    write_tree(root, files)
    try:
        stamp = {"GIT_COMMITTER_DATE": f"{when} +0000", "GIT_AUTHOR_DATE": f"{when} +0000"}
        sha = g.snapshot(
            message=f"dvc: commit experiment {name}",
            parent=base,
            add_paths=list(files),
            author_env={**os.environ, **stamp},
        )
    finally:
        for path, data in saved.items():
            if data is None:
                (root / path).unlink()
            else:
                (root / path).write_bytes(data)
    g.update_ref(ExpRef(base, name).ref, sha)
    return sha


def params_with(lr: float, epochs: int = 10, **extra: str) -> str:
    text = PARAMS.replace("lr: 0.1", f"lr: {lr}").replace("epochs: 10", f"epochs: {epochs}")
    return text + "".join(f"{k}: {v}\n" for k, v in extra.items())


def metrics(acc: float, **extra: object) -> str:
    return json.dumps({"acc": acc, "loss": round(1 - acc, 4), "val": {"acc": acc - 0.1}, **extra})


@pytest.fixture
def project(make_project) -> Path:
    return make_project(FILES)


@pytest.fixture
def three(project: Path) -> Path:
    """The project with experiments a (oldest), b, c (newest)."""
    record(
        project,
        "exp-a",
        {"params.yaml": params_with(0.2), "metrics.json": metrics(0.7)},
        when=T0 + 10,
    )
    record(
        project,
        "exp-b",
        {"params.yaml": params_with(0.05, 20), "metrics.json": metrics(0.9)},
        when=T0 + 20,
    )
    record(
        project,
        "exp-c",
        {"params.yaml": params_with(0.3), "metrics.json": metrics(0.6)},
        when=T0 + 30,
    )
    return project


def states(root: Path, **options: object) -> list:
    return collect_states(Repo(root), CollectOptions(**options))  # type: ignore[arg-type]


def rows(table) -> list[tuple[str, str | None, str]]:
    return [(r.rev, r.experiment, r.typ) for r in table.rows]


# --- collecting ------------------------------------------------------------------------------


def test_repository_without_commits_lists_nothing(make_project) -> None:
    root = make_project({"params.yaml": "a: 1\n"}, commit=False)
    assert states(root) == []
    frame = Project(root).exp_show()
    assert list(frame.columns)[:7] == [
        "Experiment",
        "rev",
        "typ",
        "Created",
        "parent",
        "State",
        "Executor",
    ]
    assert len(frame) == 0
    done = run_cli(root, "show", "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == []


def test_project_without_experiments_shows_workspace_and_head(project: Path) -> None:
    table = build_table(states(project))
    assert rows(table) == [("workspace", None, "baseline"), ("main", None, "baseline")]
    head = git(project, "rev-parse", "HEAD").strip()
    assert table.rows[1].sha == head and table.rows[0].sha is None
    assert table.rows[1].created == datetime.fromtimestamp(
        int(git(project, "log", "-1", "--format=%ct"))
    )
    assert table.rows[0].values["train.lr"] == 0.1
    assert table.rows[1].values["acc"] == 0.5
    assert [r.state for r in table.rows] == [None, None]


def test_experiments_newest_first_with_their_values(three: Path) -> None:
    table = build_table(states(three))
    assert rows(table)[2:] == [
        (rows(table)[2][0], "exp-c", "branch_commit"),
        (rows(table)[3][0], "exp-b", "branch_commit"),
        (rows(table)[4][0], "exp-a", "branch_base"),
    ]
    by_name = {r.experiment: r for r in table.rows if r.experiment}
    assert by_name["exp-b"].values["train.lr"] == 0.05
    assert by_name["exp-b"].values["train.epochs"] == 20
    assert by_name["exp-b"].values["acc"] == 0.9
    assert by_name["exp-b"].values["val.acc"] == pytest.approx(0.8)
    assert by_name["exp-b"].created == datetime.fromtimestamp(T0 + 20)
    assert by_name["exp-b"].state == "Success"
    assert len(by_name["exp-b"].rev) == 7 and by_name["exp-b"].sha.startswith(by_name["exp-b"].rev)


def test_params_as_dvc_selects_them(three: Path) -> None:
    """Whole params.yaml (the default file), only the tracked keys of other files."""
    (baseline,) = [s for s in states(three) if s.rev != "workspace"]
    params = baseline.data.params
    assert list(params) == ["params.yaml", "other.json"]
    assert params["params.yaml"]["data"]["seed"] == 1  # untracked key of params.yaml: shown
    assert params["other.json"]["data"] == {"lr": 5, "opt": {"kind": "adam"}}  # not "unused"
    workspace, baseline = states(three, param_deps=True)
    exp = baseline.experiments[0].revs[0].data
    assert "seed" not in workspace.data.params["params.yaml"]["data"]
    assert "seed" not in exp.params["params.yaml"]["data"]
    assert exp.params["params.yaml"]["data"]["train"]["lr"] == 0.3
    # DVC reads baselines whole even with --param-deps; so do we.
    assert baseline.data.params["params.yaml"]["data"]["seed"] == 1


def test_deps_and_outs_from_the_lock_file(three: Path) -> None:
    data = states(three)[1].data
    assert data.deps == {
        "data.txt": {"hash": MD5["a"], "size": 6, "nfiles": None},
        "train.py": {"hash": MD5["b"], "size": 10, "nfiles": None},
    }
    assert data.outs == {
        "model.bin": {
            "hash": MD5["c"],
            "size": 3,
            "nfiles": None,
            "use_cache": True,
            "is_data_source": False,
        }
    }
    table = build_table(states(three))
    assert [c.name for c in table.data_columns][-2:] == ["data.txt", "train.py"]
    assert table.rows[1].values["data.txt"] == MD5["a"]


def test_column_names_prefixed_only_when_a_name_repeats(three: Path) -> None:
    table = build_table(states(three))
    names = [c.name for c in table.data_columns]
    # "lr" exists in other.json only: bare; "acc" in metrics only once: bare.
    assert names == [
        "acc",
        "loss",
        "val.acc",
        "train.lr",
        "train.epochs",
        "train.layers",
        "train.use_bn",
        "seed",
        "lr",
        "opt.kind",
        "data.txt",
        "train.py",
    ]
    write_tree(three, {"extra.json": '{"acc": 1, "seed": 2}'})
    (three / "dvc.yaml").write_text(DVC_YAML + "metrics:\n  - extra.json\n")
    names = [c.name for c in build_table(states(three)).data_columns]
    assert "metrics.json:acc" in names and "extra.json:acc" in names
    assert "params.yaml:seed" in names and "extra.json:seed" in names and "acc" not in names


def test_a_file_that_fails_to_parse_is_an_error_cell(project: Path) -> None:
    record(project, "broken", {"params.yaml": "train: [unclosed\n"}, when=T0 + 5)
    (exp,) = states(project)[1].experiments
    result = exp.revs[0].data.params["params.yaml"]
    assert set(result) == {"error"} and result["error"]["type"] == "PipelineSyntaxError"
    table = build_table(states(project))
    broken = table.rows[2]
    assert "train.lr" in broken.errors and "train.lr" not in broken.values
    assert "| !" in run_cli(project, "show", "--md").stdout


def test_a_broken_pipeline_in_an_experiment_is_an_error_of_that_row(project: Path) -> None:
    record(project, "bad-yaml", {"dvc.yaml": "stages:\n  train:\n    cmdx: 1\n"}, when=T0 + 5)
    (exp,) = states(project)[1].experiments
    assert exp.revs[0].data is None and exp.revs[0].error["type"] == "PipelineSchemaError"
    table = build_table(states(project))
    assert table.rows[2].experiment == "bad-yaml" and table.rows[2].values == {}


def test_cached_metrics_are_read_from_the_dvc_cache(make_project) -> None:
    """``cache: true`` metrics are not in Git: their content comes through dvc.lock's md5."""
    yaml_text = DVC_YAML.replace(
        "      - metrics.json:\n          cache: false\n", "      - scores.json\n"
    )
    files = {**FILES, "dvc.yaml": yaml_text, ".gitignore": "/model.bin\n/scores.json\n"}
    root = make_project(files)
    content = b'{"auc": 0.75}'
    import hashlib

    md5 = hashlib.md5(content).hexdigest()
    cache = root / ".dvc" / "cache" / "files" / "md5" / md5[:2]
    cache.mkdir(parents=True)
    (cache / md5[2:]).write_bytes(content)
    entry = f"    - path: scores.json\n      hash: md5\n      md5: {md5}\n      size: 13\n"
    with_score = lock().replace("    - path: metrics.json", entry + "    - path: metrics.json")
    record(root, "cached", {"dvc.lock": with_score}, when=T0 + 5)
    missing = with_score.replace(md5, "f" * 32)
    record(root, "not-cached", {"dvc.lock": missing}, when=T0 + 6)
    baseline = states(root)[1]
    by_name = {r.name: r.revs[0] for r in baseline.experiments}
    assert by_name["cached"].data.metrics["scores.json"] == {"data": {"auc": 0.75}}
    assert by_name["not-cached"].data.metrics["scores.json"]["error"]["type"] == "FileNotFoundError"
    table = build_table(states(root))
    row = {r.experiment: r for r in table.rows}
    assert row["cached"].values["auc"] == 0.75 and "auc" in row["not-cached"].errors
    # The workspace has no scores.json and its dvc.lock has no entry: an error, as DVC.
    assert "auc" in table.rows[0].errors


def test_metrics_folders_and_params_formats(make_project) -> None:
    files = {
        **FILES,
        "dvc.yaml": DVC_YAML + "params:\n  - conf.toml\n  - settings.py\nmetrics:\n  - evals\n",
        "conf.toml": "[model]\ndepth = 4\nname = 'tree'\n",
        "settings.py": "BATCH = 16\nclass Opt:\n    momentum = 0.9\n",
        "evals": {"a.json": '{"f1": 0.8}', "b.yaml": "recall: 0.6\nlist: [1, 2]\n"},
    }
    root = make_project(files)
    record(root, "e", {"evals/b.yaml": "recall: 0.65\n", "conf.toml": "[model]\ndepth = 5\n"})
    baseline = states(root)[1]
    data = baseline.data
    assert data.params["conf.toml"]["data"] == {"model": {"depth": 4, "name": "tree"}}
    assert data.params["settings.py"]["data"] == {"BATCH": 16, "Opt": {"momentum": 0.9}}
    assert data.metrics["evals/a.json"] == {"data": {"f1": 0.8}}
    assert data.metrics["evals/b.yaml"] == {"data": {"recall": 0.6}}  # lists dropped, as DVC
    exp = baseline.experiments[0].revs[0].data
    assert exp.metrics["evals/b.yaml"] == {"data": {"recall": 0.65}}
    assert exp.params["conf.toml"]["data"] == {"model": {"depth": 5}}
    workspace = states(root)[0].data
    assert workspace.metrics["evals/a.json"] == {"data": {"f1": 0.8}}


def test_values_read_through_interpolation_from_other_files(make_project) -> None:
    yaml_text = (
        "vars:\n  - config.yaml\n"
        "stages:\n  train:\n    cmd: python train.py ${model.depth}\n"
        "    deps: [train.py]\n    params: [train]\n"
    )
    root = make_project({**FILES, "dvc.yaml": yaml_text, "config.yaml": "model:\n  depth: 3\n"})
    record(root, "deeper", {"config.yaml": "model:\n  depth: 7\n"})
    baseline = states(root)[1]
    assert baseline.data.params["config.yaml"] == {"data": {"model.depth": 3}}
    exp = baseline.experiments[0].revs[0].data
    assert exp.params["config.yaml"] == {"data": {"model.depth": 7}}
    table = build_table(states(root))
    assert table.rows[2].values["model.depth"] == 7


def test_pipelines_in_sub_folders_and_ignored_folders(make_project) -> None:
    sub = "stages:\n  s:\n    cmd: echo\n    params:\n      - p.yaml:\n        - k\n"
    files = {
        **FILES,
        "sub": {"dvc.yaml": sub, "p.yaml": "k: 1\nz: 0\n"},
        "skipped": {"dvc.yaml": sub, "p.yaml": "k: 9\n"},
        ".hidden": {"dvc.yaml": sub, "p.yaml": "k: 8\n"},
        ".dvcignore": "/skipped\n",
    }
    root = make_project(files)
    record(root, "e", {"sub/p.yaml": "k: 2\nz: 0\n"})
    baseline = states(root)[1]
    assert baseline.data.params["sub/p.yaml"] == {"data": {"k": 1}}
    assert "skipped/p.yaml" not in baseline.data.params
    assert ".hidden/p.yaml" not in baseline.data.params
    assert baseline.experiments[0].revs[0].data.params["sub/p.yaml"] == {"data": {"k": 2}}
    assert states(root)[0].data.params == baseline.data.params  # the workspace walk agrees


def test_dvc_project_in_a_git_subfolder(make_project) -> None:
    root = make_project({"project": FILES, "README": "monorepo\n"})
    inner = root / "project"
    g = Git(root)
    head = g.head()
    saved = (inner / "params.yaml").read_text()
    (inner / "params.yaml").write_text(params_with(0.7))
    sha = g.snapshot(message="exp", parent=head)
    (inner / "params.yaml").write_text(saved)
    g.update_ref(ExpRef(head, "sub-exp").ref, sha)
    found = collect_states(Repo(inner))
    assert found[1].data.params["params.yaml"]["data"]["train"]["lr"] == 0.1
    assert found[1].experiments[0].revs[0].data.params["params.yaml"]["data"]["train"]["lr"] == 0.7


def test_checkpoint_chains_are_walked_to_the_baseline(project: Path) -> None:
    g = Git(project)
    head = g.head()
    first = record(project, "tmp", {"metrics.json": metrics(0.1)}, when=T0 + 1)
    g.delete_ref(ExpRef(head, "tmp").ref)
    write_tree(project, {"metrics.json": metrics(0.2)})
    tip = g.snapshot(message="checkpoint", parent=first)
    write_tree(project, {"metrics.json": FILES["metrics.json"]})
    g.update_ref(ExpRef(head, "chain").ref, tip)
    (exp,) = states(project)[1].experiments
    assert [r.rev for r in exp.revs] == [tip, first]
    assert exp.revs[0].name == "chain" and exp.revs[1].name is None
    assert build_table(states(project)).rows[2].values["acc"] == 0.2


# --- baselines ------------------------------------------------------------------------------


@pytest.fixture
def history(project: Path) -> dict[str, str]:
    """Two commits with experiments each, a tag on the first, a branch elsewhere."""
    first = git(project, "rev-parse", "HEAD").strip()
    record(project, "old-exp", {"params.yaml": params_with(0.01)}, when=T0 + 1)
    git(project, "tag", "-a", "v1", "-m", "release")
    (project / "data.txt").write_text("more\n")
    git(project, "commit", "-qam", "second")
    second = git(project, "rev-parse", "HEAD").strip()
    record(project, "new-exp", {"params.yaml": params_with(0.02)}, when=T0 + 2)
    git(project, "branch", "side", first)
    return {"first": first, "second": second}


def _baselines(found: list) -> list[tuple[str, str | None]]:
    return [(s.rev, s.name) for s in found if s.rev != "workspace"]


def test_default_is_head_and_its_experiments(project: Path, history: dict[str, str]) -> None:
    found = states(project)
    assert _baselines(found) == [(history["second"], "main")]
    assert [e.name for e in found[1].experiments] == ["new-exp"]


def test_all_commits_num_rev_branches_and_tags(project: Path, history: dict[str, str]) -> None:
    first, second = history["first"], history["second"]
    assert {b for b, _ in _baselines(states(project, all_commits=True))} == {first, second}
    assert _baselines(states(project, num=2)) == [(second, "main"), (first, "v1")]
    assert _baselines(states(project, num=-1)) == [(second, "main"), (first, "v1")]
    assert _baselines(states(project, revs=("v1",))) == [(first, "v1")]
    assert _baselines(states(project, revs=(first[:8], "HEAD"))) == [
        (first, "v1"),
        (second, "main"),
    ]
    assert {b for b, _ in _baselines(states(project, all_branches=True))} == {first, second}
    assert _baselines(states(project, all_tags=True, revs=("v1",))) == [(first, "v1")]
    assert _baselines(states(project, sha_only=True)) == [(second, None)]
    old = next(s for s in states(project, all_commits=True) if s.rev == first)
    assert [e.name for e in old.experiments] == ["old-exp"]
    assert old.experiments[0].revs[0].data.params["params.yaml"]["data"]["train"]["lr"] == 0.01
    assert states(project, hide_workspace=True)[0].rev == second


def test_detached_head_is_named_by_its_tag(project: Path, history: dict[str, str]) -> None:
    git(project, "checkout", "-q", "--detach", history["first"])
    found = states(project)
    assert _baselines(found) == [(history["first"], "v1")]
    assert [e.name for e in found[1].experiments] == ["old-exp"]
    git(project, "checkout", "-q", "--detach", history["second"])
    assert _baselines(states(project)) == [(history["second"], "main")]  # a branch's tip


def test_unknown_revision_is_an_error(project: Path) -> None:
    with pytest.raises(RevisionNotFoundError, match="nope"):
        states(project, revs=("nope",))
    done = run_cli(project, "show", "--rev", "nope")
    assert done.returncode != 0 and "nope" in done.stderr and done.stderr.count("\n") == 1


def test_a_rev_may_name_an_experiment(three: Path) -> None:
    found = states(three, revs=("exp-b",))
    assert found[1].data.params["params.yaml"]["data"]["train"]["lr"] == 0.05


# --- table options ----------------------------------------------------------------------------


def _order(three: Path, **options: object) -> list[str | None]:
    table = build_table(states(three), ShowOptions(**options))  # type: ignore[arg-type]
    return [r.experiment for r in table.rows[2:]]


def test_sort_by_numbers_missing_values_last(three: Path) -> None:
    record(three, "exp-none", {"metrics.json": json.dumps({"loss": 1})}, when=T0 + 40)
    assert _order(three, sort_by="acc") == ["exp-c", "exp-a", "exp-b", "exp-none"]
    assert _order(three, sort_by="acc", sort_order="desc") == [
        "exp-b",
        "exp-a",
        "exp-c",
        "exp-none",
    ]
    assert _order(three, sort_by="metrics.json:acc") == ["exp-c", "exp-a", "exp-b", "exp-none"]
    assert _order(three, sort_by="train.lr") == ["exp-b", "exp-none", "exp-a", "exp-c"]
    by_lr = _order(three, sort_by="params.yaml:train.lr")
    assert by_lr[0] == "exp-b" and by_lr[-1] == "exp-c"
    table = build_table(states(three), ShowOptions(sort_by="acc"))
    assert [r.typ for r in table.rows[2:]] == ["branch_commit"] * 3 + ["branch_base"]


def test_sort_by_mixed_types_and_errors(three: Path) -> None:
    record(three, "exp-str", {"metrics.json": json.dumps({"acc": "n/a"})}, when=T0 + 50)
    assert _order(three, sort_by="acc")[-1] == "exp-str"  # numbers before strings
    with pytest.raises(InvalidArgumentError, match="Unknown sort column 'nope'"):
        _order(three, sort_by="nope")
    write_tree(three, {"extra.json": '{"acc": 1}'})
    (three / "dvc.yaml").write_text(DVC_YAML + "metrics:\n  - extra.json\n")
    with pytest.raises(InvalidArgumentError, match="Ambiguous sort column 'acc'"):
        _order(three, sort_by="acc")
    assert _order(three, sort_by="extra.json:acc")  # a file prefix resolves it


def _data_names(root: Path, **options: object) -> list[str]:
    table = build_table(states(root), ShowOptions(**options))  # type: ignore[arg-type]
    return [c.name for c in table.data_columns]


def test_include_and_exclude_globs(three: Path) -> None:
    assert _data_names(three, include_params=("train.*",), include_metrics=("acc",)) == [
        "acc",
        "train.lr",
        "train.epochs",
        "train.layers",
        "train.use_bn",
        "data.txt",
        "train.py",
    ]
    names = _data_names(three, exclude_params=("train.l*,seed",), exclude_metrics=("val.*",))
    assert "train.lr" not in names and "seed" not in names and "val.acc" not in names
    assert "train.epochs" in names and "acc" in names
    only_other = _data_names(three, include_params=("other.json:*",), include_metrics=("loss",))
    assert only_other == ["loss", "lr", "opt.kind", "data.txt", "train.py"]
    with pytest.raises(InvalidArgumentError, match="'nothing' does not match any known params"):
        _data_names(three, include_params=("nothing",))
    with pytest.raises(InvalidArgumentError, match="specified in both"):
        _data_names(three, include_params=("seed",), exclude_params=("seed",))


def test_only_changed_keep_and_drop(three: Path) -> None:
    names = _data_names(three, only_changed=True)
    assert names == ["acc", "loss", "val.acc", "train.lr", "train.epochs"]
    # re.match from the start, as DVC: "train\\." also drops the train.py dependency.
    assert _data_names(three, drop=("train\\.", "data")) == [
        "acc",
        "loss",
        "val.acc",
        "seed",
        "lr",
        "opt.kind",
    ]
    kept = _data_names(three, drop=("train\\.",), keep=("train\\.lr",))
    assert "train.lr" in kept and "train.epochs" not in kept
    table = build_table(states(three), ShowOptions(drop=("Created",)))
    assert "Created" not in table.column_names()


def test_external_entries_get_their_state(three: Path) -> None:
    baseline = Git(three).head()

    def source(repo, git_, baselines):
        yield ExternalExperiment(
            baseline, "queued-1", "Queued", name="waiting", executor="workspace"
        )
        yield ExternalExperiment(baseline, "failed-1", "Failed", name="broke")

    collect.register_entry_source(source)
    try:
        table = build_table(states(three))
        assert [(r.experiment, r.state) for r in table.rows[2:]] == [
            ("exp-c", "Success"),
            ("exp-b", "Success"),
            ("exp-a", "Success"),
            ("waiting", "Queued"),
            ("broke", "Failed"),
        ]
        assert table.rows[5].executor == "workspace"
        hidden = build_table(states(three, hide_queued=True, hide_failed=True))
        assert len(hidden.rows) == 5
        as_json = states_to_json(states(three))[1]["experiments"][3]
        assert as_json["executor"] == {"state": "queued", "name": "workspace", "local": None}
    finally:
        collect._ENTRY_SOURCES.remove(source)


# --- DataFrame ------------------------------------------------------------------------------


def test_dataframe_columns_and_dtypes(three: Path) -> None:
    record(three, "exp-none", {"metrics.json": json.dumps({"acc": 0.1})}, when=T0 + 40)
    frame = Project(three).exp_show()
    assert list(frame.columns) == [
        "Experiment",
        "rev",
        "typ",
        "Created",
        "parent",
        "State",
        "Executor",
        "acc",
        "loss",
        "val.acc",
        "train.lr",
        "train.epochs",
        "train.layers",
        "train.use_bn",
        "seed",
        "lr",
        "opt.kind",
        "data.txt",
        "train.py",
    ]
    assert list(frame["Experiment"]) == [None, None, "exp-none", "exp-c", "exp-b", "exp-a"]
    assert list(frame["rev"])[:2] == ["workspace", "main"]
    assert str(frame["Created"].dtype).startswith("datetime64")
    assert pd.isna(frame["Created"][0]) and frame["Created"][4] == datetime.fromtimestamp(T0 + 20)
    assert frame["acc"].dtype == "float64"
    assert frame["train.epochs"].dtype == "Int64" and frame["train.epochs"][4] == 20
    assert frame["train.use_bn"].dtype == "boolean"
    assert frame["loss"].isna()[2]  # exp-none has no loss
    assert frame["train.layers"][0] == [64, 32]
    assert frame["data.txt"][1] == MD5["a"]
    assert list(frame["State"]) == [None, None, "Success", "Success", "Success", "Success"]
    sorted_frame = Project(three).exp_show(sort_by="acc", sort_order="desc", only_changed=True)
    assert list(sorted_frame["Experiment"])[2:] == ["exp-b", "exp-a", "exp-c", "exp-none"]
    assert "seed" not in sorted_frame.columns


def test_exp_show_data_is_json(three: Path) -> None:
    data = Project(three).exp_show_data(include_params=("train.lr",), include_metrics=("acc",))
    text = json.dumps(data)
    assert json.loads(text) == data
    assert [c["name"] for c in data["columns"] if c["kind"] != "meta"] == [
        "acc",
        "train.lr",
        "data.txt",
        "train.py",
    ]
    row = data["rows"][3]
    assert row["Experiment"] == "exp-b" and row["values"]["train.lr"] == 0.05
    assert row["Created"] == datetime.fromtimestamp(T0 + 20).isoformat()
    assert (
        data["rows"][0]["id"] == "workspace"
        and data["rows"][1]["baseline"] == data["rows"][1]["id"]
    )


# --- the cache ------------------------------------------------------------------------------


def test_results_are_cached_between_runs_and_a_bad_cache_is_ignored(three: Path) -> None:
    first = states_to_json(states(three))
    path = Path(showcache.cache_path(three))
    cached = json.loads(path.read_text())["entries"]
    assert len(cached) == 4  # baseline + 3 experiments
    # A run answered from the cache gives the same answer.
    assert states_to_json(states(three)) == first
    path.write_text("{not json")
    assert states_to_json(states(three)) == first
    # Entries with errors are not cached.
    record(three, "broken", {"params.yaml": "a: [\n"}, when=T0 + 60)
    states(three)
    assert len(json.loads(path.read_text())["entries"]) == 4


# --- command line ---------------------------------------------------------------------------


def test_cli_json_csv_md_and_table(three: Path) -> None:
    done = run_cli(three, "show", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(Project(three).exp_show_json()))

    done = run_cli(
        three, "show", "--csv", "--include-params", "train.lr", "--include-metrics", "acc"
    )
    assert done.returncode == 0, done.stderr
    parsed = list(csv.reader(io.StringIO(done.stdout)))
    assert parsed[0] == [
        "Experiment",
        "rev",
        "typ",
        "Created",
        "parent",
        "State",
        "acc",
        "train.lr",
        "data.txt",
        "train.py",
    ]
    assert parsed[1][:3] == ["", "workspace", "baseline"] and parsed[1][3] == ""
    assert parsed[3][0] == "exp-c" and parsed[3][2] == "branch_commit" and parsed[3][5] == "Success"
    assert parsed[3][3] == datetime.fromtimestamp(T0 + 30).isoformat()

    done = run_cli(three, "show", "--md", "--only-changed", "--sort-by", "acc")
    assert done.stdout.endswith("|\n\n")  # DVC's trailing empty line
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("| Experiment ") and lines[1].startswith("|---")
    assert lines[2].startswith("| workspace ")
    assert "└── " in lines[-1] and "[exp-b]" in lines[-1]  # the best acc last, ascending
    assert all(len(line) == len(lines[0]) for line in lines)
    assert datetime.fromtimestamp(T0 + 30).strftime("%b %d, %Y") in lines[4]

    done = run_cli(three, "show", "--no-pager", "--precision", "2", "--drop", "data|train.py")
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Experiment" in out and "├── " in out and "[exp-a]" in out
    assert "data.txt" not in out and "\x1b[" not in out  # no colours in a pipe
    assert "0.05" in out and "Success" in out


def test_cli_errors_are_one_line(three: Path) -> None:
    done = run_cli(three, "show", "--sort-by", "nope")
    assert done.returncode == 2 and done.stderr.strip() == "ERROR: Unknown sort column 'nope'"
    done = run_cli(three, "show", "--include-params", "zzz*")
    assert done.returncode == 2 and "does not match any known params" in done.stderr
