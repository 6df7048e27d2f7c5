"""A training-like project for the checkpoint tests.

``train`` (Python) resumes from ``model.bin`` when it exists, then for ``epochs`` epochs
writes the model (``"<epoch> lr=<lr>"`` padded to ``MODEL_BYTES``) and ``metrics.json``
(``epoch``, ``loss``) and calls :func:`jupyter_exp.checkpoints.make_checkpoint`. Knobs
from the environment:

* ``HOLD_AT=<n>``: after checkpoint ``n``, write ``hold-<n>`` next to the project and
  wait for ``release-<n>`` there (tests send signals to the run meanwhile);
* ``DIE_AT=<n>``: after checkpoint ``n``, scribble over the model (a half-written next
  epoch) and exit 1;
* ``AFTER_LAST=1``: after the last checkpoint, add ``"final": true`` to the metrics,
  so the end of the run differs from the last checkpoint.

``evaluate`` reads the model and writes ``eval.json``. ``SHELL_TRAIN`` is a POSIX shell
stage that signals checkpoints through the file, exactly like DVC 2's R/Julia snippets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MODEL_BYTES = 4096

TRAIN_PY = f"""\
import json, os, sys, time
import yaml
from jupyter_exp.checkpoints import make_checkpoint

params = yaml.safe_load(open("params.yaml"))["train"]
epoch = int(open("model.bin").read().split()[0]) if os.path.exists("model.bin") else 0
hold = int(os.environ.get("HOLD_AT", "0"))
die = int(os.environ.get("DIE_AT", "0"))
outside = os.environ.get("SIGNALS_DIR", "..")
for _ in range(params["epochs"]):
    epoch += 1
    with open("model.bin", "w") as f:
        f.write(f"{{epoch}} lr={{params['lr']}}".ljust({MODEL_BYTES}, "."))
    with open("metrics.json", "w") as f:
        json.dump({{"epoch": epoch, "loss": round(1.0 / epoch, 4)}}, f)
    make_checkpoint()
    print("checkpoint", epoch, flush=True)
    if epoch == die:
        with open("model.bin", "w") as f:
            f.write("half-written")
        sys.exit(1)
    if epoch == hold:
        open(os.path.join(outside, f"hold-{{epoch}}"), "w").close()
        while not os.path.exists(os.path.join(outside, f"release-{{epoch}}")):
            time.sleep(0.01)
if os.environ.get("AFTER_LAST"):
    with open("metrics.json", "w") as f:
        json.dump({{"epoch": epoch, "loss": round(1.0 / epoch, 4), "final": True}}, f)
"""

EVALUATE_PY = """\
import json
epoch = int(open("model.bin").read().split()[0])
json.dump({"evaluated": epoch}, open("eval.json", "w"))
"""

SHELL_TRAIN = """\
n=$(cat count.txt 2>/dev/null || echo 0)
for i in 1 2 3; do
  n=$((n + 1))
  echo "$n" > count.txt
  echo "{\\"n\\": $n}" > shell_metrics.json
  if [ -n "$DVC_ROOT" ]; then
    touch "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT"
    while [ -e "$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT" ]; do sleep 0.01; done
  fi
done
"""


def dvc_yaml(python: str = sys.executable) -> str:
    """The pipeline: train (checkpoints) -> evaluate."""
    return f"""\
stages:
  train:
    cmd: {python} train.py
    deps: [train.py]
    params: [train]
    outs:
    - model.bin:
        checkpoint: true
    metrics:
    - metrics.json:
        cache: false
  evaluate:
    cmd: {python} evaluate.py
    deps: [evaluate.py, model.bin]
    metrics:
    - eval.json:
        cache: false
"""


FILES = {
    "train.py": TRAIN_PY,
    "evaluate.py": EVALUATE_PY,
    "dvc.yaml": dvc_yaml(),
    "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\n",
    ".dvc": {".gitignore": "/config.local\n/tmp\n/cache\n", "config": ""},
}


def run_git(root: Path, *args: str) -> str:
    """``git ARGS`` in ``root``, stdout stripped."""
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def chain(root: Path, tip: str, baseline: str) -> list[str]:
    """First-parent commits from ``tip`` down to ``baseline`` (excluded), oldest first."""
    out = run_git(root, "rev-list", "--first-parent", tip, f"^{baseline}")
    return out.split()[::-1]


def metrics_at(root: Path, rev: str, path: str = "metrics.json") -> dict:
    """A metrics file as commit ``rev`` holds it."""
    return json.loads(run_git(root, "show", f"{rev}:{path}"))


def model_md5_at(root: Path, rev: str) -> str:
    """The md5 ``rev``'s ``dvc.lock`` records for ``model.bin``."""
    import yaml

    lock = yaml.safe_load(run_git(root, "show", f"{rev}:dvc.lock"))
    (out,) = [o for o in lock["stages"]["train"]["outs"] if o["path"] == "model.bin"]
    return out["md5"]


def cached_model(root: Path, md5: str) -> str:
    """The model content the cache holds under ``md5``."""
    return (root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).read_text()


def epoch_of(model: str) -> int:
    """The epoch a model file's content says."""
    return int(model.split()[0])
