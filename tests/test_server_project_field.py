"""GET experiments answers ``project``: the repository's root relative to the server's root
dir, whichever path inside it was asked ("" when the repository is the root dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server")
pytest.importorskip("pytest_jupyter")

from conftest import git, write_tree
from exp_project import FILES
from pytest_jupyter.jupyter_server import *  # noqa: F403
from test_server import api, jp_server_config, project_dir, run_async  # noqa: F401  (fixtures)

from jupyter_exp import Project
from jupyter_exp.server.serialize import to_data


def commit_project(root: Path) -> Path:
    """The two-stage experiment project at ``root``, committed."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    write_tree(root, FILES)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.mark.parametrize("path", ["proj", "proj/", "proj/train.py", "./proj"])
@run_async
async def test_project_is_the_repository_root_for_any_path_inside(
    api,  # noqa: F811
    project_dir: Path,  # noqa: F811
    path: str,
) -> None:
    status, body = await api("GET", "experiments", params={"path": path})
    assert status == 200, body
    assert body["project"] == "proj"
    # The table itself is Project.exp_show_data's, unchanged.
    table = json.loads(json.dumps(to_data(Project(project_dir).exp_show_data())))
    assert {key: value for key, value in body.items() if key != "project"} == table


@run_async
async def test_a_nested_project_is_named_by_its_whole_relative_path(
    api,  # noqa: F811
    jp_root_dir: Path,
) -> None:
    root = commit_project(jp_root_dir / "team" / "vision")
    Project(root).exp_run(params=["train.lr=0.3"], name="high")
    status, body = await api("GET", "experiments", params={"path": "team/vision/data.txt"})
    assert status == 200, body
    assert body["project"] == "team/vision"
    assert "high" in [row["Experiment"] for row in body["rows"]]


@pytest.mark.parametrize("params", [{}, {"path": ""}, {"path": "."}, {"path": "train.py"}])
@run_async
async def test_project_is_empty_when_the_repository_is_the_root_dir(
    api,  # noqa: F811
    jp_root_dir: Path,
    params: dict[str, str],
) -> None:
    commit_project(jp_root_dir)
    status, body = await api("GET", "experiments", params=params)
    assert status == 200, body
    assert body["project"] == ""


@run_async
async def test_only_experiments_answers_project(api, project_dir: Path) -> None:  # noqa: F811
    # plots shares the query handling of experiments but keeps its own answer.
    status, body = await api("GET", "plots", params={"path": "proj"})
    assert status == 200, body
    assert set(body) == {"metrics", "experiments"}
