"""A small two-stage project for the ``exp run`` / ``exp save`` tests, and git probes.

``prepare`` copies ``data.txt``; ``train`` reads ``params.yaml`` and writes a cached
``model.bin``, an uncached ``metrics.json`` and (undeclared, so never recorded)
``stage_env.json`` (or ``$ENV_OUT``) with the experiment variables and cwd it saw.
``train.fail: true`` makes ``train`` exit 3; ``WAIT_FOR=<path>`` in its environment makes it write
``<path>.started`` and wait until ``<path>`` exists.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

PREPARE_PY = """\
with open("data.txt") as src, open("prepared.txt", "w") as dst:
    dst.write(src.read().upper())
"""

TRAIN_PY = """\
import json, os, sys, time
import yaml

params = yaml.safe_load(open("params.yaml"))["train"]
wait = os.environ.get("WAIT_FOR")
if wait:
    open(wait + ".started", "w").close()
    deadline = time.time() + 60
    while not os.path.exists(wait) and time.time() < deadline:
        time.sleep(0.02)
if params.get("fail"):
    print("training failed on purpose", file=sys.stderr)
    sys.exit(3)
if os.path.exists("secret.txt"):
    params["secret"] = open("secret.txt").read().strip()
with open("model.bin", "w") as f:
    f.write(f"model lr={params['lr']} data={open('prepared.txt').read().strip()}\\n")
with open("metrics.json", "w") as f:
    json.dump({"acc": round(0.5 + params["lr"], 6), "secret": params.get("secret")}, f)
keys = ("DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "DVC_ROOT")
with open(os.environ.get("ENV_OUT", "stage_env.json"), "w") as f:
    json.dump({k: os.environ.get(k) for k in keys} | {"cwd": os.getcwd()}, f)
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps: [prepare.py, data.txt]
    outs: [prepared.txt]
  train:
    cmd: python train.py
    deps: [train.py, prepared.txt]
    params: [train]
    outs: [model.bin]
    metrics:
    - metrics.json:
        cache: false
"""

PARAMS_YAML = """\
# training knobs
train:
  lr: 0.1  # learning rate
  epochs: 2
"""

FILES = {
    "data.txt": "hello\n",
    "prepare.py": PREPARE_PY,
    "train.py": TRAIN_PY,
    "dvc.yaml": DVC_YAML,
    "params.yaml": PARAMS_YAML,
    ".dvc": {".gitignore": "/config.local\n/tmp\n/cache\n", "config": ""},
}


def git_out(root: Path, *args: str) -> str:
    """``git ARGS`` in ``root``, stdout stripped."""
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def exp_refs(root: Path) -> dict[str, str]:
    """Experiment refs: ref -> sha."""
    out = git_out(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps/")
    return dict(line.split() for line in out.splitlines() if "/exec/" not in line)


def show(root: Path, rev: str, path: str) -> str:
    """``git show REV:PATH``."""
    return git_out(root, "show", f"{rev}:{path}")


def tree_files(root: Path, rev: str) -> set[str]:
    """Every file path in ``rev``."""
    return set(git_out(root, "ls-tree", "-r", "--name-only", rev).splitlines())


def git_state(root: Path) -> tuple[str, str, str, str]:
    """HEAD, the checked-out branch, the staged part of ``status`` and the branches."""
    head = git_out(root, "rev-parse", "HEAD")
    branch = git_out(root, "symbolic-ref", "-q", "HEAD")
    staged = git_out(root, "diff", "--cached", "--name-status")
    branches = git_out(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/")
    return head, branch, staged, branches
