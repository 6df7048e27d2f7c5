"""Notebook sweeps: a notebook stage swept through the queue, run by two parallel workers.

Each experiment keeps its own executed notebook (cached, named in its dvc.lock) holding
the parameter values papermill injected for it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from conftest import git

from jupyter_exp import Project
from jupyter_exp.core.cache import Cache
from jupyter_exp.core.repo import Repo
from jupyter_exp.core.yamlio import load_yaml

NOTEBOOKS = Path(__file__).parent / "notebooks"

PARAMS = "train:\n  lr: 0.1\n  epochs: 3\n"
PIPELINE = """\
stages:
  train:
    cmd: jupyter exp notebook train.ipynb -p train
    deps:
    - train.ipynb
    params:
    - train
    outs:
    - train.out.ipynb
    metrics:
    - dvclive/metrics.json:
        cache: false
"""


def injected(notebook: Path) -> dict:
    """The variables tests/notebooks/train.ipynb printed as JSON, from an executed copy."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out["text"].startswith("{"):
                return json.loads(out["text"])
    raise AssertionError(f"no JSON printed in {notebook}")


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    root = make_project({"dvc.yaml": PIPELINE, "params.yaml": PARAMS})
    shutil.copy(NOTEBOOKS / "train.ipynb", root / "train.ipynb")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "notebook pipeline")
    return root


@pytest.mark.slow
def test_a_3_point_notebook_sweep_runs_on_two_workers_and_keeps_each_executed_notebook(
    project: Path,
) -> None:
    api = Project(project)
    queued = api.exp_run(queue=True, params=["train.lr=0.2,0.3,0.4"], name="nb")
    assert [entry.name for entry in queued] == ["nb-1", "nb-2", "nb-3"]
    api.exp_run(run_all=True, jobs=2)

    refs = git(project, "for-each-ref", "--format=%(refname)", "refs/exps/").split()
    assert sorted(ref.rsplit("/", 1)[1] for ref in refs) == ["nb-1", "nb-2", "nb-3"]
    cache = Cache(Repo(project))
    seen = {}
    for ref in refs:
        name = ref.rsplit("/", 1)[1]
        lock = load_yaml(git(project, "show", f"{ref}:dvc.lock"))
        entry = lock["stages"]["train"]
        lr = entry["params"]["params.yaml"]["train"]["lr"]
        (out,) = [o for o in entry["outs"] if o["path"] == "train.out.ipynb"]
        # The executed notebook of this experiment is in the cache, with its own values.
        seen[name] = (lr, injected(cache.object_path(out["md5"]))["lr"])
    assert seen == {"nb-1": (0.2, 0.2), "nb-2": (0.3, 0.3), "nb-3": (0.4, 0.4)}
    # The workspace was not touched by the queued runs.
    assert (project / "params.yaml").read_text() == PARAMS
    assert not (project / "train.out.ipynb").exists()
