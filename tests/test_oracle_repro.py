"""The whole engine against DVC 3 on the same workspaces.

For each pipeline below, DVC runs one copy and we run another, then:

* the ``dvc.lock`` files, ``.gitignore`` files and the cache (objects and run-cache
  records) are identical, byte for byte;
* DVC finds our run clean (``dvc status``), restores our outputs from our cache
  (``dvc checkout``) and has nothing to reproduce afterwards;
* we find DVC's run clean (``Project.status()`` is empty) and reproduce nothing.

DVC's reference run of each pipeline is made once per module and copied per test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write_tree

from jupyter_exp import Project

pytest_plugins = ["dvc_oracle"]
pytestmark = pytest.mark.oracle

TRAIN_PY = """\
import json, os, sys
import yaml

params = yaml.safe_load(open("params.yaml"))
lr = params["lr"]
os.makedirs("plots", exist_ok=True)
with open("model.bin", "w") as f:
    f.write(f"model lr={lr}\\n")
with open("metrics.json", "w") as f:
    json.dump({"acc": 0.5 + lr, "loss": 1 - lr}, f)
with open("loss.csv", "w") as f:
    f.write("step,loss\\n" + "".join(f"{i},{1 / (i + 1) * lr}\\n" for i in range(5)))
with open("plots/roc.json", "w") as f:
    json.dump([{"fpr": 0, "tpr": 0}, {"fpr": 1, "tpr": 1}], f)
"""

PIPELINES: dict[str, dict] = {
    # Stages listed out of order: dvc.lock records them in execution order.
    "files": {
        "a.txt": "a\n",
        "params.yaml": "x: 1\ny: two\n",
        "dvc.yaml": """\
            stages:
              c:
                cmd: cat b.txt b.txt > c.txt
                deps: [b.txt]
                outs: [c.txt]
              b:
                cmd: cat a.txt > b.txt && echo ${x} >> b.txt
                deps: [a.txt]
                params: [x]
                outs: [b.txt]
              d:
                cmd: echo d > d.txt
                params: [y]
                outs: [d.txt]
              e:
                cmd: cat a.txt d.txt > e.txt
                deps: [d.txt, a.txt]
                outs: [e.txt]
            """,
    },
    "dirs": {
        "data": {
            "raw": {"a.txt": "a\n", "b": {"c.txt": "c\n", "d.txt": ""}, "e f.txt": "e\n"},
        },
        "dvc.yaml": """\
            stages:
              copy:
                cmd: cp -r data/raw out && chmod +x out/a.txt
                deps: [data/raw]
                outs: [out]
              count:
                cmd: find out -type f | sort > count.txt
                deps: [out]
                outs: [count.txt]
              tool:
                cmd: printf '#!/bin/sh\\necho hi\\n' > tool.sh && chmod +x tool.sh
                deps: [count.txt]
                outs: [tool.sh]
              deep:
                cmd: mkdir -p deep/a/b && echo x > deep/a/b/f && echo y > deep/g
                deps: [data]
                outs: [deep]
            """,
    },
    "params": {
        "params.yaml": """\
            lr: 0.001
            ratio: 1e-3
            eps: 1.0e-08
            flag: yes
            none: null
            big: 12345678901234567890
            train:
              epochs: 10
              layers: [64, 32]
              opt: {name: adam, betas: [0.9, 0.999]}
            model:
              size: 3
              name: "net: v1"
            unused: 1
            """,
        "params.json": '{"opt": {"name": "sgd", "momentum": 0.9}, "batch": 32, "z": [1, "a"]}',
        "params.toml": '[section]\nkey = "value"\nnum = 3\nf = 0.5\n\n[other]\nlist = [1, 2]\n',
        "conf": {"train.yaml": "layers: 4\nact: relu\n"},
        "dvc.yaml": """\
            stages:
              p:
                cmd: echo p > p.txt
                params:
                - lr
                - ratio
                - eps
                - flag
                - none
                - big
                - train.epochs
                - train.opt
                - model
                - params.json:
                  - opt.name
                  - batch
                - params.toml:
                - conf/train.yaml:
                  - layers
                outs: [p.txt]
              q:
                cmd: cat p.txt > q.txt
                deps: [p.txt, params.json]
                params: [train]
                outs: [q.txt]
            """,
    },
    "foreach": {
        "params.yaml": "seed: 1\nmodels: [a, b]\n",
        "dvc.yaml": """\
            vars:
              - sizes:
                  small: {n: 1}
                  big: {n: 2}
            stages:
              build:
                foreach: ${models}
                do:
                  cmd: echo ${item} > out_${item}.txt
                  params: [seed]
                  outs:
                  - out_${item}.txt
              per:
                foreach: ${sizes}
                do:
                  cmd: echo ${item.n} > ${key}.txt
                  deps: [out_a.txt]
                  outs:
                  - ${key}.txt
              grid:
                matrix:
                  x: [1, 2]
                  y: [u, v]
                cmd: echo ${item.x}${item.y} > g_${item.x}_${item.y}.txt
                deps: [small.txt]
                outs:
                - g_${item.x}_${item.y}.txt
            """,
    },
    "subdir": {
        "data.txt": "data\n",
        "params.yaml": "beta: 2\n",
        "sub": {
            "params.yaml": "alpha: 1\n",
            "inner": {".keep": ""},
            "dvc.yaml": """\
                stages:
                  local:
                    cmd: cat ../data.txt > local.txt
                    deps: [../data.txt]
                    params: [alpha]
                    outs: [local.txt]
                  rooted:
                    wdir: ..
                    cmd: cat data.txt > sub/rooted.txt
                    deps: [data.txt]
                    params: [beta]
                    outs: [sub/rooted.txt]
                  nested:
                    wdir: inner
                    cmd: cat ../local.txt > i.txt
                    deps: [../local.txt]
                    outs: [i.txt]
                """,
        },
        "dvc.yaml": """\
            stages:
              top:
                cmd: cat sub/local.txt sub/rooted.txt > top.txt
                deps: [sub/local.txt, sub/rooted.txt]
                outs: [top.txt]
            """,
    },
    "metrics_plots": {
        "train.py": TRAIN_PY,
        "params.yaml": "lr: 0.1\n",
        "dvc.yaml": """\
            stages:
              train:
                cmd: python train.py
                deps: [train.py]
                params: [lr]
                outs: [model.bin]
                metrics:
                - metrics.json:
                    cache: false
                plots:
                - loss.csv:
                    cache: false
                    x: step
                    y: loss
                    title: Loss
                - plots:
                    template: linear
            metrics:
            - metrics.json
            plots:
            - loss.csv:
                x: step
                y: loss
            """,
    },
    "commands": {
        "in put.txt": "x\n",
        "params.yaml": "base: &b\n  lr: 1\nx: *b\nnote: 'a: b # c'\n",
        "dvc.yaml": """\
            stages:
              long:
                cmd: >-
                  python -c "import sys; open('données é.txt', 'w').write('ok: yes #1')"
                  && echo "a very long command line that goes well beyond eighty
                  characters, with: colons" > long.txt
                deps: [in put.txt]
                params: [note]
                outs: [données é.txt, long.txt]
              multi:
                cmd: |
                  echo "line one" > multi.txt
                  echo 'line: two' >> multi.txt
                deps: [long.txt]
                outs: [multi.txt]
              listed:
                cmd:
                - echo 1 > l1.txt
                - 'echo "quoted: value" > l2.txt'
                - echo '#hash' >> l2.txt
                deps: [multi.txt]
                params: [base, x]
                outs: [l1.txt, l2.txt]
            """,
    },
}
# Pipelines with a dvc.yaml outside the root are run with `repro -P` / all_pipelines.
ALL_PIPELINES = {"subdir"}


# --- helpers -------------------------------------------------------------------------------


def _git(root: Path, *args: str, home: Path) -> None:
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Oracle",
        "GIT_AUTHOR_EMAIL": "oracle@example.com",
        "GIT_COMMITTER_NAME": "Oracle",
        "GIT_COMMITTER_EMAIL": "oracle@example.com",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _new_project(root: Path, name: str, home: Path) -> Path:
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main", home=home)
    write_tree(root, PIPELINES[name])
    _git(root, "add", "-A", home=home)
    _git(root, "commit", "-q", "-m", "initial", home=home)
    return root


def _dvc_repro_args(name: str) -> tuple[str, ...]:
    return ("repro", "-P") if name in ALL_PIPELINES else ("repro",)


def _our_repro(root: Path, name: str):
    return Project(root).repro(all_pipelines=name in ALL_PIPELINES)


def _files(root: Path, pattern: str) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob(pattern)
        if p.is_file() and ".git" not in p.relative_to(root).parts[:1]
    }


def _assert_same_files(mine: Path, theirs: Path, pattern: str) -> None:
    ours_files, dvc_files = _files(mine, pattern), _files(theirs, pattern)
    assert sorted(ours_files) == sorted(dvc_files)
    for rel, content in dvc_files.items():
        # Text compare, so a failure shows a line diff.
        assert ours_files[rel].decode("utf-8", "replace") == content.decode("utf-8", "replace")


def _cache_files(root: Path) -> set[str]:
    cache = root / ".dvc" / "cache"
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def _workspace(root: Path, *, locks: bool = True) -> dict[str, tuple[bytes, bool]]:
    """Every file outside .git/.dvc: content and exec bit (dvc.lock files if ``locks``)."""
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if rel.parts[0] in (".git", ".dvc", ".dvcignore") or not path.is_file():
            continue
        if not locks and path.name == "dvc.lock":
            continue
        found[rel.as_posix()] = (path.read_bytes(), os.access(path, os.X_OK))
    return found


def _cached_outputs(root: Path) -> list[Path]:
    """Cached outputs: the untracked files Git ignores (DVC lists them in .gitignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [root / rel for rel in listed.split("\0") if rel and not rel.startswith(".dvc/")]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _ran(dvc_output: str) -> list[str]:
    return [
        line.split("'")[1] for line in dvc_output.splitlines() if line.startswith("Running stage")
    ]


# --- DVC's reference runs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def dvc_reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``dvc_reference(name)``: a pristine copy-source of ``name`` reproduced by DVC."""
    from dvc_oracle import run_dvc

    base = tmp_path_factory.mktemp("dvc-reference")
    home = base / "home"
    home.mkdir()
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            shutil.rmtree(base / name, ignore_errors=True)  # a failed earlier attempt
            root = _new_project(base / name, name, home)
            env = {"HOME": str(home)}
            run_dvc(root, "init", "-q", check=True, env=env)
            run_dvc(root, *_dvc_repro_args(name), check=True, env=env)
            made[name] = root
        return made[name]

    return get


@pytest.fixture
def dvc_copy(dvc_reference: Callable[[str], Path], tmp_path: Path) -> Callable[[str], Path]:
    """``dvc_copy(name)``: a fresh copy of DVC's reference run, safe to modify."""

    def copy(name: str) -> Path:
        target = tmp_path / f"dvc-{name}"
        shutil.copytree(dvc_reference(name), target, symlinks=True)
        return target

    return copy


@pytest.fixture
def ours(tmp_path: Path) -> Callable[[str], Path]:
    """``ours(name)``: the same project reproduced by our engine."""

    def make(name: str) -> Path:
        root = _new_project(tmp_path / f"ours-{name}", name, Path(os.environ["HOME"]))
        _our_repro(root, name)
        return root

    return make


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_same_lockfiles_gitignores_and_cache(name: str, dvc_copy, ours) -> None:
    theirs, mine = dvc_copy(name), ours(name)
    _assert_same_files(mine, theirs, "dvc.lock")
    _assert_same_files(mine, theirs, ".gitignore")
    assert _cache_files(mine) == _cache_files(theirs)
    assert _workspace(mine) == _workspace(theirs)


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_dvc_finds_our_run_clean_and_complete(name: str, ours, dvc_copy, dvc) -> None:
    root, theirs = ours(name), dvc_copy(name)
    status = dvc(root, "status", "--json")
    assert json.loads(status.stdout or "{}") == {}, status.stdout

    # Outputs deleted: DVC restores them from our cache as it does from its own (which
    # e.g. keeps no exec bit for files inside directories)...
    for project in (root, theirs):
        outputs = _cached_outputs(project)
        assert outputs
        for out in outputs:
            _remove(out)
        dvc(project, "checkout")
    assert _workspace(root, locks=False) == _workspace(theirs, locks=False)
    # ... and nothing needs to run (everything is in our cache and run-cache).
    again = dvc(root, *_dvc_repro_args(name))
    assert _ran(again.stdout) == [], again.stdout
    assert "Data and pipelines are up to date." in again.stdout


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_we_find_dvc_run_clean(name: str, dvc_copy) -> None:
    root = dvc_copy(name)
    locks = _files(root, "dvc.lock")
    assert Project(root).status() == {}
    result = _our_repro(root, name)
    assert result.ran == [] and result.restored == []
    assert _files(root, "dvc.lock") == locks


def test_dvc_restores_from_our_run_cache(ours, dvc) -> None:
    root = ours("params")
    original = (root / "dvc.lock").read_bytes()
    params = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(params.replace("lr: 0.001", "lr: 0.002"))
    assert "p" in Project(root).repro().ran
    (root / "params.yaml").write_text(params)
    out = dvc(root, "repro").stdout
    assert "Stage 'p' is cached - skipping run, checking out outputs" in out
    assert _ran(out) == []
    assert (root / "dvc.lock").read_bytes() == original


def test_we_restore_from_dvc_run_cache(dvc_copy, dvc) -> None:
    root = dvc_copy("params")
    original = (root / "dvc.lock").read_bytes()
    params = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(params.replace("lr: 0.001", "lr: 0.002"))
    assert "p" in _ran(dvc(root, "repro").stdout)
    (root / "params.yaml").write_text(params)
    result = Project(root).repro()
    assert result.ran == [] and result.restored == ["p"]
    assert (root / "dvc.lock").read_bytes() == original


def test_default_targets_match_dvc(tmp_path: Path, dvc) -> None:
    # `dvc repro` with no target reproduces the root dvc.yaml (and what it depends on),
    # not every pipeline of the project.
    home = Path(os.environ["HOME"])
    theirs = _new_project(tmp_path / "theirs", "subdir", home)
    mine = _new_project(tmp_path / "mine", "subdir", home)
    dvc(theirs, "init", "-q")
    dvc(theirs, "repro")
    Project(mine).repro()
    _assert_same_files(mine, theirs, "dvc.lock")
    assert _workspace(mine) == _workspace(theirs)
