"""GET notebooks and GET experiments?notebooks=true on a real jupyter_server.

The project's notebook stage is executed by a real kernel; each experiment records its
own executed notebook, which the API writes where JupyterLab can open it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server")
pytest.importorskip("pytest_jupyter")

from conftest import git, write_tree
from pytest_jupyter.jupyter_server import *  # noqa: F403
from test_notebook_show import NOTEBOOKS, PARAMS, PIPELINE, injected, lock_md5
from test_server import api, jp_server_config, run_async  # noqa: F401  (fixtures)

from jupyter_exp import Project


@pytest.fixture
def notebook_project(jp_root_dir: Path) -> Path:
    """``<root>/proj``: a notebook pipeline run at the baseline and one experiment."""
    root = jp_root_dir / "proj"
    root.mkdir()
    git(root, "init", "-q")
    write_tree(root, {"dvc.yaml": PIPELINE, "params.yaml": PARAMS})
    shutil.copy(NOTEBOOKS / "train.ipynb", root / "train.ipynb")
    project = Project(root)
    project.repro()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "baseline")
    project.exp_run(params=["train.lr=0.2"], name="lr2")
    return root


def _ref(root: Path, name: str) -> str:
    return git(root, "for-each-ref", "--format=%(refname)", f"refs/exps/**/{name}").strip()


@pytest.mark.slow
@run_async
async def test_get_notebooks_writes_them_and_answers_where_to_open_them(
    api,  # noqa: F811
    notebook_project: Path,
    jp_root_dir: Path,
) -> None:
    status, body = await api("GET", "notebooks", params={"path": "proj", "experiment": "lr2"})
    assert status == 200, body
    md5 = lock_md5(notebook_project, _ref(notebook_project, "lr2"))
    assert body == {
        "notebooks": [
            {
                "stage": "train",
                "path": "train.out.ipynb",
                "md5": md5,
                "open_path": "proj/jupyter-exp-notebooks/lr2/train.out.ipynb",
            }
        ]
    }
    opened = jp_root_dir / body["notebooks"][0]["open_path"]
    assert injected(opened)["lr"] == 0.2
    # Any revision works too: the baseline's notebook, in a folder of its own.
    status, body = await api("GET", "notebooks", params={"path": "proj", "experiment": "HEAD"})
    assert status == 200, body
    assert body["notebooks"][0]["open_path"] == "proj/jupyter-exp-notebooks/HEAD/train.out.ipynb"
    assert injected(jp_root_dir / body["notebooks"][0]["open_path"])["lr"] == 0.1

    status, table = await api("GET", "experiments", params={"path": "proj", "notebooks": "true"})
    assert status == 200, table
    by_row = {row["Experiment"] or row["rev"]: row["notebooks"] for row in table["rows"]}
    assert by_row["lr2"] == [{"stage": "train", "path": "train.out.ipynb", "md5": md5}]
    branch = git(notebook_project, "branch", "--show-current").strip()
    assert set(by_row) == {"workspace", branch, "lr2"}
    status, plain = await api("GET", "experiments", params={"path": "proj"})
    assert all("notebooks" not in row for row in plain["rows"])


@pytest.mark.slow
@run_async
async def test_get_notebooks_opens_through_the_contents_api(
    api,  # noqa: F811
    jp_fetch,
    notebook_project: Path,
) -> None:
    _, body = await api("GET", "notebooks", params={"path": "proj", "experiment": "lr2"})
    response = await jp_fetch("api", "contents", *body["notebooks"][0]["open_path"].split("/"))
    assert response.code == 200


@pytest.mark.slow
@run_async
async def test_get_notebooks_bad_requests(
    api,  # noqa: F811
    notebook_project: Path,
) -> None:
    cases = [
        ({"path": "proj"}, 400, "experiment"),
        ({"path": "proj", "experiment": "nope"}, 404, None),
        ({"path": "proj", "experiment": "lr2", "stage": "report"}, 400, "report"),
        ({"path": "proj", "experiment": "lr2", "stage": "../x"}, 400, "stage"),
        ({"path": "../proj", "experiment": "lr2"}, 403, None),
        ({"path": "proj", "experiment": "lr2", "notebooks": "maybe"}, 200, None),
    ]
    for params, expected, argument in cases:
        status, body = await api("GET", "notebooks", params=params)
        assert status == expected, (params, body)
        if argument is not None:
            assert body.get("argument") == argument, body
    status, body = await api("GET", "experiments", params={"path": "proj", "notebooks": "maybe"})
    assert status == 400 and body["argument"] == "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("jp_server_config", ["read-only"], indirect=True)
@run_async
async def test_get_notebooks_needs_the_write_permission(
    api,  # noqa: F811
    notebook_project: Path,
) -> None:
    status, _ = await api("GET", "notebooks", params={"path": "proj", "experiment": "lr2"})
    assert status == 403
    assert not (notebook_project / "jupyter-exp-notebooks").exists()
    status, _ = await api("GET", "experiments", params={"path": "proj", "notebooks": "1"})
    assert status == 200
