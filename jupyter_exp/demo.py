"""A small but real ML-style DVC project to try jupyter-exp on.

:func:`create_demo_project` writes a Git repository with a three-stage pipeline::

    data/raw.csv -> prepare -> data/prepared/{train,test}.csv
                                  |
                 params train.* -> train -> model.json, metrics.json
                                  |
                                evaluate -> eval/metrics.json, eval/plots/*.csv

The stage scripts are plain Python (standard library only) and take their params on
the command line through DVC's ``${...}`` interpolation, so the project runs anywhere
Python 3 does, under jupyter-exp or DVC alike, each stage well under a second.

This module only builds files; ``jupyter exp demo`` (``cli/commands/demo.py``) narrates
running it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

from .errors import InvalidArgumentError, ProjectError
from .git import Git

__all__ = [
    "DEFAULT_PARAMS",
    "create_demo_project",
    "git_commit",
    "read_metrics",
    "set_param",
]

# The interpreter stages run with: whatever `python3` is on PATH (the scripts need
# nothing but the standard library), `python` on Windows.
PYTHON = "python" if os.name == "nt" else "python3"

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "prepare": {"test_ratio": 0.25, "seed": 7},
    "train": {"lr": 0.05, "epochs": 30},
}

_PARAM_COMMENTS = {
    "prepare": "how data/raw.csv is split",
    "train": "logistic regression trained by gradient descent",
}

DVC_YAML = f"""\
stages:
  prepare:
    desc: Shuffle the raw data and split it into train and test sets.
    cmd: {PYTHON} src/prepare.py --test-ratio ${{prepare.test_ratio}} --seed ${{prepare.seed}}
    deps:
    - src/prepare.py
    - data/raw.csv
    params:
    - prepare.test_ratio
    - prepare.seed
    outs:
    - data/prepared
  train:
    desc: Fit the model; report training loss and accuracy.
    cmd: {PYTHON} src/train.py --lr ${{train.lr}} --epochs ${{train.epochs}}
    deps:
    - src/train.py
    - data/prepared
    params:
    - train.lr
    - train.epochs
    outs:
    - model.json
    metrics:
    - metrics.json:
        cache: false
  evaluate:
    desc: Score the model on the test set; write metrics and plot data.
    cmd: {PYTHON} src/evaluate.py
    deps:
    - src/evaluate.py
    - data/prepared
    - model.json
    metrics:
    - eval/metrics.json:
        cache: false
    plots:
    - eval/plots/predictions.csv:
        cache: false
    - eval/plots/loss.csv:
        cache: false
        x: epoch
        y: loss
"""

PREPARE_PY = '''\
"""Shuffle data/raw.csv and split it into data/prepared/{train,test}.csv."""

import argparse
import csv
import random
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--test-ratio", type=float, required=True)
parser.add_argument("--seed", type=int, required=True)
args = parser.parse_args()

with open("data/raw.csv", newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = list(reader)

random.Random(args.seed).shuffle(rows)
n_test = int(len(rows) * args.test_ratio)
out = Path("data/prepared")
out.mkdir(parents=True, exist_ok=True)
for name, part in (("test.csv", rows[:n_test]), ("train.csv", rows[n_test:])):
    with open(out / name, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\\n")
        writer.writerow(header)
        writer.writerows(part)
print(f"prepared {len(rows) - n_test} training and {n_test} test rows")
'''

TRAIN_PY = '''\
"""Logistic regression by batch gradient descent, in plain Python."""

import argparse
import csv
import json
import math

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--epochs", type=int, required=True)
args = parser.parse_args()


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    xs = [(float(r["x1"]), float(r["x2"])) for r in rows]
    ys = [int(r["label"]) for r in rows]
    return xs, ys


def predict(w, x):
    z = w[0] + w[1] * x[0] + w[2] * x[1]
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


xs, ys = load("data/prepared/train.csv")
w = [0.0, 0.0, 0.0]
history = []
for epoch in range(1, args.epochs + 1):
    grad = [0.0, 0.0, 0.0]
    loss = 0.0
    for x, y in zip(xs, ys):
        p = predict(w, x)
        loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
        for i, xi in enumerate((1.0, x[0], x[1])):
            grad[i] += (p - y) * xi
    w = [wi - args.lr * gi / len(xs) for wi, gi in zip(w, grad)]
    history.append({"epoch": epoch, "loss": round(loss / len(xs), 6)})
    if epoch % 10 == 0 or epoch == args.epochs:
        print(f"epoch {epoch:3d}  loss {loss / len(xs):.4f}")

accuracy = sum((predict(w, x) > 0.5) == bool(y) for x, y in zip(xs, ys)) / len(xs)
with open("model.json", "w") as f:
    json.dump({"weights": w, "history": history}, f, indent=2)
with open("metrics.json", "w") as f:
    json.dump({"train": {"loss": history[-1]["loss"], "accuracy": round(accuracy, 4)}}, f)
'''

EVALUATE_PY = '''\
"""Score model.json on the test set: eval/metrics.json and plot data."""

import csv
import json
import math
from pathlib import Path

with open("model.json") as f:
    model = json.load(f)
w = model["weights"]
with open("data/prepared/test.csv", newline="") as f:
    rows = list(csv.DictReader(f))

out = Path("eval/plots")
out.mkdir(parents=True, exist_ok=True)
correct = 0
with open(out / "predictions.csv", "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\\n")
    writer.writerow(["actual", "predicted"])
    for r in rows:
        z = w[0] + w[1] * float(r["x1"]) + w[2] * float(r["x2"])
        predicted = int(1 / (1 + math.exp(-max(-30.0, min(30.0, z)))) > 0.5)
        correct += predicted == int(r["label"])
        writer.writerow([r["label"], predicted])
with open(out / "loss.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["epoch", "loss"], lineterminator="\\n")
    writer.writeheader()
    writer.writerows(model["history"])
accuracy = round(correct / len(rows), 4)
with open("eval/metrics.json", "w") as f:
    json.dump({"test": {"accuracy": accuracy}}, f)
print(f"test accuracy {accuracy}")
'''

GITIGNORE = "__pycache__/\n"


def _raw_csv(rows: int = 400, seed: int = 0) -> str:
    """Two overlapping Gaussian blobs: x1, x2 and a 0/1 label, deterministic.

    Off-centre on purpose: the intercept must be learned, so a too-small learning rate
    visibly underfits (test accuracy ~0.6 at lr=0.05, ~0.8 at lr=0.5).
    """
    rng = random.Random(seed)
    lines = ["x1,x2,label"]
    for i in range(rows):
        label = i % 2
        shift = 0.6 if label else -0.6
        x1 = rng.gauss(2 + shift, 1.0)
        x2 = rng.gauss(1 + shift / 2, 1.0)
        lines.append(f"{x1:.4f},{x2:.4f},{label}")
    return "\n".join(lines) + "\n"


def _params_yaml(params: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, values in params.items():
        comment = _PARAM_COMMENTS.get(section)
        lines.append(f"{section}:" + (f"  # {comment}" if comment else ""))
        lines += [f"  {key}: {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def create_demo_project(path: str | os.PathLike[str]) -> Path:
    """Write the demo project into ``path`` (missing or empty) and commit it to Git.

    Returns the absolute project root. Raises :class:`InvalidArgumentError` if
    ``path`` is a non-empty directory and :class:`ProjectError` if Git is missing.
    """
    root = Path(path).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InvalidArgumentError(
            f"'{root}' already exists and is not an empty directory", argument="DIR"
        )
    if shutil.which("git") is None:
        raise ProjectError("the demo needs Git, which was not found on PATH")
    files = {
        "dvc.yaml": DVC_YAML,
        "params.yaml": _params_yaml(DEFAULT_PARAMS),
        "data/raw.csv": _raw_csv(),
        "src/prepare.py": PREPARE_PY,
        "src/train.py": TRAIN_PY,
        "src/evaluate.py": EVALUATE_PY,
        ".gitignore": GITIGNORE,
    }
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git = Git.init(root)
    if not git.config_get("user.email"):
        # A fresh machine may have no Git identity; give this throw-away repo one.
        git.config_set("user.name", "jupyter-exp demo")
        git.config_set("user.email", "demo@jupyter-exp.invalid")
    _init_dvc(root)
    git_commit(root, "Demo project: prepare -> train -> evaluate")
    return root


def _init_dvc(root: Path) -> None:
    from .core.repo import Repo  # the same `.dvc/` layout `jupyter exp init` writes

    Repo(root).ensure_dvc_dir()


def git_commit(root: Path, message: str) -> str:
    """Stage everything Git does not ignore and commit it; return the new commit's SHA."""
    return Git(root).commit_all(message)


def set_param(root: Path, key: str, value: Any) -> Any:
    """Set ``section.name`` in the demo's ``params.yaml``; return the previous value."""
    from .core.yamlio import load_yaml

    path = root / "params.yaml"
    params = load_yaml(path.read_text(), str(path)) or {}
    section, _, name = key.partition(".")
    if section not in params or name not in params[section]:
        raise InvalidArgumentError(f"the demo has no param '{key}'", argument=key)
    previous = params[section][name]
    params[section][name] = value
    path.write_text(_params_yaml(params))
    return previous


def read_metrics(root: Path) -> dict[str, float]:
    """Every metric of the demo, flattened: ``{"train.loss": ..., "test.accuracy": ...}``."""
    found: dict[str, float] = {}
    for name in ("metrics.json", "eval/metrics.json"):
        path = root / name
        if path.exists():
            _flatten(json.loads(path.read_text()), "", found)
    return found


def _flatten(value: Any, prefix: str, into: dict[str, float]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}{key}.", into)
    elif isinstance(value, (int, float)):
        into[prefix[:-1]] = value
