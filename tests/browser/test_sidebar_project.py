"""The sidebar header names the project GET experiments answered for (its ``project``
field): the repository's last path component, or the server root's name when the
repository is the root; the full path is its tooltip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from exp_project import FILES

from jupyter_exp import Project

from .test_sidebar import ROW, open_sidebar

PROJECT = '[data-testid="exp-project"]'


def test_header_names_a_nested_project_and_a_root_project(
    make_project: Any,
    lab: Callable[[Path], Any],
    page: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    # The server root is a repository, with a second one nested two folders down.
    root = make_project(FILES)
    Project(root).exp_run(params=["train.lr=0.2"], name="outer")
    (root / "team").mkdir()
    nested = make_project(FILES, name=f"{root.name}/team/vision")
    Project(nested).exp_run(params=["train.lr=0.3"], name="inner")
    server = lab(root)

    open_sidebar(page, server, widen=False)
    page.wait_for_selector(ROW.format("outer"))
    header = page.locator(PROJECT)
    assert header.inner_text() == root.name
    assert header.get_attribute("data-project") == ""
    assert header.get_attribute("title") == str(root)

    # A file of the nested project in focus: its name, the file's path next to it.
    page.evaluate(
        """() => {
            const path = 'team/vision/params.yaml';
            window.jupyterapp.commands.execute('docmanager:open', {path});
        }"""
    )
    page.wait_for_selector(ROW.format("inner"))
    page.wait_for_selector(f'{PROJECT}[data-project="team/vision"]')
    assert header.inner_text() == "vision"
    assert header.get_attribute("title") == str(root / "team" / "vision")
    assert page.locator('[data-testid="exp-path"]').inner_text() == "team/vision/params.yaml"
    screenshot(page, "sidebar-project-header")
