"""The sidebar's row actions that ask first, in a real browser: branch (a name dialog),
remove (a confirmation), and apply over uncommitted edits (an overwrite confirmation).
Each is checked in the repository, not only on screen."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_exp import Project

from .test_sidebar import EXPERIMENTS, FILES, ROW, open_sidebar


def git_lines(root: Path, *args: str) -> list[str]:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.split()


def exp_names(root: Path) -> set[str]:
    refs = git_lines(root, "for-each-ref", "--format=%(refname)", "refs/exps/")
    return {ref.rsplit("/", 1)[1] for ref in refs if "/exec/" not in ref}


def test_branch_remove_and_apply_over_edits(
    make_project: Any,
    lab: Callable[[Path], Any],
    page: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    root = make_project(FILES)
    project = Project(root)
    for name, lr in EXPERIMENTS.items():
        project.exp_run(params=[f"train.lr={lr}"], name=name)
    server = lab(root)
    open_sidebar(page, server)
    for name in EXPERIMENTS:
        page.wait_for_selector(ROW.format(name))

    # Branch: the dialog proposes <name>-branch; another name is typed instead.
    page.locator(ROW.format("mid")).locator('[data-testid="exp-action-branch"]').click()
    field = page.wait_for_selector(".jp-Dialog input")
    assert field.input_value() == "mid-branch"
    field.fill("from-mid")
    screenshot(page, "sidebar-actions-1-branch-dialog")
    page.click(".jp-Dialog .jp-mod-accept")
    page.wait_for_selector('[data-testid="exp-notice"]:has-text("from-mid")')
    (mid_ref,) = [
        ref
        for ref in git_lines(root, "for-each-ref", "--format=%(refname)", "refs/exps/")
        if ref.endswith("/mid")
    ]
    assert git_lines(root, "rev-parse", "from-mid") == git_lines(root, "rev-parse", mid_ref)

    # Remove, cancelled first (nothing happens), then confirmed.
    remove = page.locator(ROW.format("low")).locator('[data-testid="exp-action-remove"]')
    remove.click()
    page.wait_for_selector(".jp-Dialog")
    page.click(".jp-Dialog .jp-mod-reject")
    page.wait_for_selector(".jp-Dialog", state="detached")
    assert "low" in exp_names(root)
    remove.click()
    page.wait_for_selector(".jp-Dialog")
    screenshot(page, "sidebar-actions-2-remove-confirm")
    page.click(".jp-Dialog .jp-mod-accept")
    page.wait_for_selector(ROW.format("low"), state="detached")
    assert exp_names(root) == {"mid", "high"}

    # Apply over an uncommitted edit: asked first; overwriting keeps a way back.
    (root / "params.yaml").write_text((root / "params.yaml").read_text() + "# my edit\n")
    page.locator(ROW.format("mid")).locator('[data-testid="exp-action-apply"]').click()
    dialog = page.wait_for_selector(".jp-Dialog")
    assert "overwrite" in dialog.inner_text().lower()
    screenshot(page, "sidebar-actions-3-overwrite-confirm")
    page.click(".jp-Dialog .jp-mod-accept")
    page.wait_for_selector('[data-testid="exp-notice"]:has-text("Applied mid")')
    params = (root / "params.yaml").read_text()
    assert "lr: 0.2" in params and "# my edit" not in params
    # The edit is not lost: the forced apply saved the workspace first.
    saved = subprocess.run(
        ["git", "show", "refs/exps/apply/stash:params.yaml"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "# my edit" in saved
