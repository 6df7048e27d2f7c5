"""Each experiment's executed notebook: listed by exp show, opened from the cache.

Real kernels execute tests/notebooks/train.ipynb in a notebook stage; every experiment
records its own executed copy in its dvc.lock.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from conftest import git, run_cli

from jupyter_exp import Project
from jupyter_exp.core.yamlio import load_yaml
from jupyter_exp.errors import (
    CacheMissingError,
    ExperimentNotFoundError,
    InvalidArgumentError,
)

NOTEBOOKS = Path(__file__).parent / "notebooks"

PARAMS = "train:\n  lr: 0.1\n  epochs: 3\n"
PIPELINE = """\
stages:
  train:
    cmd: jupyter exp notebook train.ipynb -o train.out.ipynb -p train
    deps:
    - train.ipynb
    params:
    - train
    outs:
    - train.out.ipynb
    metrics:
    - dvclive/metrics.json:
        cache: false
  report:
    cmd: echo done > report.txt
    outs:
    - report.txt
"""


def injected(notebook: Path) -> dict:
    """The variables train.ipynb printed as JSON."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out["text"].startswith("{"):
                return json.loads(out["text"])
    raise AssertionError(f"no JSON printed in {notebook}")


def lock_md5(root: Path, rev: str, path: str = "train.out.ipynb") -> str:
    lock = load_yaml(git(root, "show", f"{rev}:dvc.lock"))
    (out,) = [o for o in lock["stages"]["train"]["outs"] if o["path"] == path]
    return out["md5"]


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    """A notebook pipeline run at the baseline, and two experiments (lr 0.2, 0.3)."""
    root = make_project({"dvc.yaml": PIPELINE, "params.yaml": PARAMS, ".gitignore": "*.log\n"})
    shutil.copy(NOTEBOOKS / "train.ipynb", root / "train.ipynb")
    api = Project(root)
    api.repro()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "baseline with its executed notebook")
    api.exp_run(params=["train.lr=0.2"], name="lr2")
    api.exp_run(params=["train.lr=0.3"], name="lr3")
    return root


@pytest.mark.slow
def test_exp_show_lists_the_executed_notebook_of_every_row(project: Path) -> None:
    api = Project(project)
    frame = api.exp_show(notebooks=True)
    assert "notebook:train" in frame.columns
    assert list(frame["notebook:train"]) == ["train.out.ipynb"] * 4
    assert "notebook:train" not in api.exp_show().columns

    data = api.exp_show_data(notebooks=True)
    assert not [c for c in data["columns"] if c["name"].startswith("notebook")]
    by_name = {row["Experiment"] or row["rev"]: row["notebooks"] for row in data["rows"]}
    assert set(by_name) == {"workspace", "main", "lr2", "lr3"}
    assert all("notebooks" not in row for row in api.exp_show_data()["rows"])
    for name, rev in (("main", "HEAD"), ("lr2", "lr2"), ("lr3", "lr3")):
        ref = rev if rev == "HEAD" else _ref(project, rev)
        assert by_name[name] == [
            {"stage": "train", "path": "train.out.ipynb", "md5": lock_md5(project, ref)}
        ]
    # Each experiment recorded its own executed notebook.
    assert len({row[0]["md5"] for row in by_name.values()}) == 3
    # exp run left the last experiment's results in the workspace.
    assert by_name["workspace"] == by_name["lr3"]

    # A queued entry's commit is a snapshot of the workspace, not a result: nothing listed.
    api.exp_run(queue=True, params=["train.lr=0.5"], name="later")
    rows = api.exp_show_data(notebooks=True)["rows"]
    (queued,) = [row for row in rows if row["State"] == "Queued"]
    assert queued["notebooks"] == []
    frame = api.exp_show(notebooks=True)
    assert frame.loc[frame["Experiment"] == "later", "notebook:train"].isna().all()


def _ref(root: Path, name: str) -> str:
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/exps/").split()
    (ref,) = [r for r in refs if r.endswith(f"/{name}")]
    return ref


@pytest.mark.slow
def test_exp_notebook_copies_an_experiments_notebook_to_an_ignored_visible_folder(
    project: Path, tmp_path: Path
) -> None:
    api = Project(project)
    gitignore = (project / ".gitignore").read_text()
    (path,) = api.exp_notebook("lr2")
    assert path == project / "jupyter-exp-notebooks" / "lr2" / "train.out.ipynb"
    assert injected(path)["lr"] == 0.2
    # A copy the user may edit, not a link into the cache.
    assert path.stat().st_mode & 0o200
    assert path.stat().st_nlink == 1 and not path.is_symlink()
    exclude = (project / ".git" / "info" / "exclude").read_text()
    assert exclude.count("/jupyter-exp-notebooks/\n") == 1
    assert (project / ".gitignore").read_text() == gitignore
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert "??" not in status and "jupyter-exp-notebooks" not in status

    # Again, another experiment and the baseline: one exclude line, each its own folder.
    api.exp_notebook("lr2")
    (other,) = api.exp_notebook("lr3", stage="train")
    assert injected(other)["lr"] == 0.3
    (base,) = api.exp_notebook("main")
    assert base == project / "jupyter-exp-notebooks" / "main" / "train.out.ipynb"
    assert injected(base)["lr"] == 0.1
    assert (project / ".git" / "info" / "exclude").read_text().count("jupyter-exp") == 2

    (elsewhere,) = api.exp_notebook("lr3", dest=tmp_path / "out")
    assert elsewhere == tmp_path / "out" / "train.out.ipynb"
    assert injected(elsewhere)["lr"] == 0.3


@pytest.mark.slow
def test_exp_notebook_errors(project: Path) -> None:
    api = Project(project)
    with pytest.raises(ExperimentNotFoundError):
        api.exp_notebook("nope")
    with pytest.raises(InvalidArgumentError, match="stage 'report' recorded no executed"):
        api.exp_notebook("lr2", stage="report")
    first = git(project, "rev-list", "--max-parents=0", "HEAD").strip()
    git(project, "tag", "empty", first)
    with pytest.raises(InvalidArgumentError, match="recorded no executed notebook"):
        api.exp_notebook("empty")
    md5 = lock_md5(project, _ref(project, "lr3"))
    cached = project / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.chmod(0o644)
    cached.unlink()
    with pytest.raises(CacheMissingError, match=r"train\.out\.ipynb"):
        api.exp_notebook("lr3")
    assert not (project / "jupyter-exp-notebooks" / "lr3").exists()


@pytest.mark.slow
def test_cli_show_notebooks_column_and_notebooks_command(project: Path) -> None:
    shown = run_cli(project, "show", "--notebooks", "--csv")
    assert shown.returncode == 0, shown.stderr
    header, *rows = shown.stdout.splitlines()
    assert header.split(",")[-1] == "notebook:train"
    assert all(row.endswith(",train.out.ipynb") for row in rows)
    assert "notebook:" not in run_cli(project, "show", "--csv").stdout
    # --json stays what DVC prints.
    plain = run_cli(project, "show", "--json").stdout
    assert run_cli(project, "show", "--json", "--notebooks").stdout == plain

    done = run_cli(project, "notebooks", "lr3")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "jupyter-exp-notebooks/lr3/train.out.ipynb\n"
    assert injected(project / done.stdout.strip())["lr"] == 0.3
    done = run_cli(project, "notebooks", "lr2", "-s", "train", "-o", "opened")
    assert done.stdout == "opened/train.out.ipynb\n"
    failed = run_cli(project, "notebooks", "nope")
    assert failed.returncode != 0 and "no experiment named 'nope'" in failed.stderr


def test_queued_rows_and_pipelines_without_notebooks_list_none(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(
        {
            "dvc.yaml": "stages:\n  s:\n    cmd: echo 1 > a.ipynb.txt\n"
            "    outs:\n    - a.ipynb.txt\n",
        }
    )
    api = Project(root)
    api.repro()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "run")
    api.exp_run(queue=True, name="later")
    data = api.exp_show_data(notebooks=True)
    assert [row["notebooks"] for row in data["rows"]] == [[], [], []]
    assert [row["State"] for row in data["rows"]][-1] == "Queued"
    assert not [c for c in api.exp_show(notebooks=True).columns if c.startswith("notebook")]


def test_notebooks_of_nested_pipelines_in_a_project_below_the_git_root(
    make_project: Callable[..., Path],
) -> None:
    """No kernel needed: any .ipynb output counts (a copy stands in for an executed one)."""
    nb = (NOTEBOOKS / "train.ipynb").read_text()
    root = make_project(
        {
            "proj": {
                ".dvc": {"config": ""},
                "dvc.yaml": (
                    "stages:\n  two:\n    cmd: cp a.ipynb b.ipynb && cp a.ipynb c.ipynb\n"
                    "    deps:\n    - a.ipynb\n    outs:\n    - b.ipynb\n    - c.ipynb\n"
                ),
                "a.ipynb": nb,
                "sub": {
                    "dvc.yaml": (
                        "stages:\n  report:\n"
                        "    cmd: cp a.ipynb out/r.ipynb && echo >> out/r.ipynb\n"
                        "    wdir: ..\n    deps:\n    - a.ipynb\n    metrics:\n"
                        "    - out/r.ipynb:\n        cache: false\n"
                    ),
                },
                "out": {".keep": ""},
            }
        }
    )
    project = root / "proj"
    api = Project(project)
    api.repro(all_pipelines=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "ran")
    frame = api.exp_show(notebooks=True)
    assert [c for c in frame.columns if c.startswith("notebook")] == [
        "notebook:sub/dvc.yaml:report",
        "notebook:two:b.ipynb",
        "notebook:two:c.ipynb",
    ]
    assert list(frame["notebook:sub/dvc.yaml:report"]) == ["out/r.ipynb"] * 2
    rows = api.exp_show_data(notebooks=True)["rows"]
    assert rows[0]["notebooks"] == rows[1]["notebooks"]
    assert [(n["stage"], n["path"]) for n in rows[1]["notebooks"]] == [
        ("sub/dvc.yaml:report", "out/r.ipynb"),
        ("two", "b.ipynb"),
        ("two", "c.ipynb"),
    ]
    # Materialised by stage name or address.
    written = api.exp_notebook("HEAD", stage="two")
    assert [p.relative_to(project).as_posix() for p in written] == [
        "jupyter-exp-notebooks/HEAD/b.ipynb",
        "jupyter-exp-notebooks/HEAD/c.ipynb",
    ]
    assert written[0].read_text() == nb
    assert "/proj/jupyter-exp-notebooks/" in (root / ".git" / "info" / "exclude").read_text()
    assert "??" not in git(root, "status", "--porcelain", "--untracked-files=all")
    (report,) = api.exp_notebook("HEAD", stage="sub/dvc.yaml:report")
    assert report == project / "jupyter-exp-notebooks" / "HEAD" / "out" / "r.ipynb"
    assert report.read_text() == nb + "\n"
