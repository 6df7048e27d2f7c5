"""The Experiments sidebar in JupyterLab in a real browser (issue #8's scenario).

A project with three experiments of a fast shell stage: open the sidebar, see them, sort
by a metric, queue one with an edited param through the form, start the queue, see it
turn to success, apply it, and find the param in the workspace's params file.
Screenshots of every step go to ``test-artifacts/screenshots/sidebar-*.png``.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from jupyter_exp import Project

# acc = 0.5 + lr (train.sh): sorting by acc orders the experiments by lr.
EXPERIMENTS = {"mid": 0.2, "high": 0.3, "low": 0.05}
EDITED_LR = "0.45"

# train.slow: true makes the stage wait a minute (for cancelling a run).
TRAIN_SH = """\
if grep -q 'slow: true' params.yaml; then sleep 60; fi
awk '/lr:/ {printf "{\\"acc\\": %.4f}\\n", 0.5 + $2}' params.yaml > metrics.json
"""

FILES = {
    "dvc.yaml": """\
        stages:
          train:
            cmd: sh train.sh
            deps: [train.sh]
            params: [train]
            metrics:
            - metrics.json:
                cache: false
        """,
    "train.sh": TRAIN_SH,
    "params.yaml": "train:\n  lr: 0.1\n  epochs: 2\n  slow: false\n",
    ".dvc": {".gitignore": "/config.local\n/tmp\n/cache\n", "config": ""},
}

SIDEBAR_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jupyter-exp-sidebar"]'
ROW = '[data-testid="exp-row"][data-exp-name="{}"]'


def row_names(page: Any) -> list[str]:
    """The experiment rows' names in display order."""
    return page.eval_on_selector_all(
        '[data-testid="exp-row"]', "rows => rows.map(r => r.dataset.expName)"
    )


def widen_sidebar(page: Any, x: int = 820) -> None:
    """Drag the left sidebar's edge so the table's columns fit in the screenshots."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()


def open_sidebar(page: Any, server: Any, *, widen: bool = True) -> None:
    """Open JupyterLab on ``server``, then the Experiments panel (widened by default)."""
    page.goto(server.url("lab"))
    page.wait_for_selector(SIDEBAR_TAB, timeout=60_000)
    page.click(SIDEBAR_TAB)
    if widen:
        widen_sidebar(page)


def badge(page: Any, name: str) -> Any:
    return page.locator(ROW.format(name)).locator('[data-testid="exp-badge"]')


def test_sidebar_sort_queue_run_apply(
    make_project: Any,
    lab: Callable[[Path], Any],
    page: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    root = make_project(FILES)
    project = Project(root)
    for name, lr in EXPERIMENTS.items():
        project.exp_run(params=[f"train.lr={lr}"], name=name)
    # exp run leaves the last result in the workspace: start the session from HEAD.
    for args in (["checkout", "--", "."], ["clean", "-fdq"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    server = lab(root)

    open_sidebar(page, server)
    for name in EXPERIMENTS:
        page.wait_for_selector(ROW.format(name))
    assert page.locator('[data-testid="exp-error"]').count() == 0
    groups = page.locator('[data-testid="exp-col-group"]').all_inner_texts()
    assert any("params.yaml" in g for g in groups) and any("metrics.json" in g for g in groups)
    screenshot(page, "sidebar-1-opened")

    # Sort by the metric: a click sorts ascending, a second descending.
    header = page.locator('[data-testid="exp-col-header"][data-column="acc"]')
    header.click()
    page.wait_for_selector('[data-testid="exp-col-header"][data-column="acc"][data-sort="asc"]')
    ordered = [n for n in row_names(page) if n in EXPERIMENTS]
    assert ordered == ["low", "mid", "high"]
    header.click()
    page.wait_for_selector('[data-testid="exp-col-header"][data-column="acc"][data-sort="desc"]')
    ordered = [n for n in row_names(page) if n in EXPERIMENTS]
    assert ordered == ["high", "mid", "low"]
    screenshot(page, "sidebar-2-sorted-by-acc")

    # Queue one with an edited param, prefilled from the selected "mid" row.
    page.locator(ROW.format("mid")).locator('[data-testid="exp-select"]').check()
    lr_input = page.locator('[data-testid="exp-param-input"][data-param="train.lr"]')
    assert lr_input.input_value() == "0.2"
    lr_input.fill(EDITED_LR)
    page.fill('[data-testid="exp-run-name"]', "edited")
    overrides = page.locator('[data-testid="exp-overrides"]').inner_text()
    assert f"train.lr={EDITED_LR}" in overrides
    page.click('[data-testid="exp-run-queue"]')
    page.wait_for_selector(ROW.format("edited"))
    assert badge(page, "edited").get_attribute("data-state") == "queued"
    screenshot(page, "sidebar-3-queued")

    # Start the queue: the row turns to success by polling alone.
    page.click('[data-testid="exp-queue-start"]')
    page.wait_for_selector(
        ROW.format("edited") + ' [data-testid="exp-badge"][data-state="success"]',
        timeout=90_000,
    )
    acc_cell = page.locator(ROW.format("edited")).locator('td[data-column="acc"]')
    assert float(acc_cell.inner_text()) == 0.95
    screenshot(page, "sidebar-4-success")

    # Its queue log, in a dialog.
    page.locator(ROW.format("edited")).locator('[data-testid="exp-action-logs"]').click()
    log = page.wait_for_selector('[data-testid="exp-log"]')
    assert log.inner_text().strip()
    screenshot(page, "sidebar-4b-logs")
    page.click(".jp-Dialog .jp-mod-accept")
    page.wait_for_selector('[data-testid="exp-log"]', state="detached")

    # Apply it: the workspace's params file gets the edited value.
    page.locator(ROW.format("edited")).locator('[data-testid="exp-action-apply"]').click()
    page.wait_for_selector('[data-testid="exp-notice"]:has-text("Applied edited")')
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["train"]["lr"] == float(EDITED_LR)
    screenshot(page, "sidebar-5-applied")

    # Two selected rows: the compare panel shows their diff and Vega-Lite plots.
    page.locator(ROW.format("edited")).locator('[data-testid="exp-select"]').check()
    page.click('[data-testid="exp-compare"]')
    panel = page.wait_for_selector('[data-testid="exp-compare-panel"]')
    page.wait_for_selector('[data-testid="exp-diff-row"]')
    diff = panel.query_selector('[data-testid="exp-compare-diff"]').inner_text()
    assert "train.lr" in diff and EDITED_LR in diff
    page.wait_for_selector('[data-testid="exp-plot"] .vega-embed', timeout=60_000)
    screenshot(page, "sidebar-6-compare")

    # A star survives a reload (JupyterLab's state database).
    page.locator(ROW.format("high")).locator('[data-testid="exp-star"]').click()
    star = ROW.format("high") + ' [data-testid="exp-star"][data-starred="true"]'
    page.wait_for_selector(star)
    page.wait_for_timeout(500)  # the state database saves after the click
    page.reload()
    page.wait_for_selector(SIDEBAR_TAB, timeout=60_000)
    if page.locator('[data-testid="exp-sidebar"]').count() == 0:
        page.click(SIDEBAR_TAB)
    page.wait_for_selector(star)


def test_sidebar_run_now_and_cancel(
    make_project: Any,
    lab: Callable[[Path], Any],
    page: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    """Run at once (a server job) from the form, then cancel a slow run."""
    root = make_project(FILES)
    server = lab(root)
    open_sidebar(page, server)
    page.wait_for_selector(ROW.format("main"))

    page.fill('[data-testid="exp-param-input"][data-param="train.lr"]', "0.15")
    page.fill('[data-testid="exp-run-name"]', "now")
    page.click('[data-testid="exp-run-now"]')
    page.wait_for_selector('[data-testid="exp-job"][data-status="success"]', timeout=60_000)
    page.wait_for_selector(ROW.format("now") + ' [data-testid="exp-badge"][data-state="success"]')
    screenshot(page, "sidebar-run-now")
    page.click('[data-testid="exp-job-dismiss"]')

    page.fill('[data-testid="exp-param-input"][data-param="train.slow"]', "true")
    page.fill('[data-testid="exp-run-name"]', "slow")
    page.click('[data-testid="exp-run-now"]')
    page.wait_for_selector('[data-testid="exp-job"][data-status="running"]')
    page.click('[data-testid="exp-job-cancel"]')
    page.wait_for_selector('[data-testid="exp-job"][data-status="cancelled"]', timeout=60_000)
    # While it ran, the run showed as a Running row; the next poll after the cancel drops it
    # (nothing was recorded, and the run files that made it visible are gone).
    page.wait_for_selector(ROW.format("slow"), state="detached", timeout=30_000)
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps/"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [ref for ref in refs if ref.endswith("/slow")]
    screenshot(page, "sidebar-run-cancelled")


NOTEBOOK_PIPELINE = """\
stages:
  train:
    cmd: jupyter exp notebook train.ipynb -p train
    deps: [train.ipynb]
    params: [train]
    outs: [train.out.ipynb]
    metrics:
    - dvclive/metrics.json:
        cache: false
"""


def test_sidebar_opens_the_executed_notebook(
    make_project: Any,
    lab: Callable[[Path], Any],
    page: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    """A notebook stage's executed notebook of an experiment opens in the lab."""
    notebook = Path(__file__).parents[1] / "notebooks" / "train.ipynb"
    root = make_project(
        {
            "dvc.yaml": NOTEBOOK_PIPELINE,
            "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\n",
            "train.ipynb": notebook.read_text(),
        }
    )
    Project(root).exp_run(params=["train.lr=0.3"], name="nb")
    server = lab(root)
    open_sidebar(page, server)
    page.locator(ROW.format("nb")).locator('[data-testid="exp-action-notebook"]').click()
    page.wait_for_function(
        """() => {
            const widget = window.jupyterapp.shell.currentWidget;
            const path = widget && widget.context && widget.context.path;
            return !!path && path.endsWith('nb/train.out.ipynb');
        }""",
        timeout=60_000,
    )
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    screenshot(page, "sidebar-executed-notebook")


def test_sidebar_follows_the_file_browser_and_the_open_file(
    tmp_path: Path,
    lab: Callable[[Path], Any],
    page: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    """The server root is no repository: the API's 404 message, not a blank panel; the
    file browser's folder inside a project, or a file of it in focus, shows the project."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "notes.txt").write_text("no repository here\n")
    project = root / "proj"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    for name, content in FILES.items():
        if isinstance(content, dict):
            (project / name).mkdir()
            for sub, text in content.items():
                (project / name / sub).write_text(text)
        else:
            (project / name).write_text(textwrap.dedent(content))
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=project, check=True)
    Project(project).exp_run(params=["train.lr=0.2"], name="inside")

    server = lab(root)
    open_sidebar(page, server, widen=False)
    error = page.wait_for_selector('[data-testid="exp-error"]')
    assert error.get_attribute("data-error") == "NotInRepositoryError"
    assert error.inner_text().strip()
    screenshot(page, "sidebar-not-in-repository")

    # Into the project folder in the file browser, back to the panel: the project.
    page.click('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]')
    listing = page.locator(".jp-DirListing-content")
    listing.get_by_text("proj", exact=True).dblclick()
    listing.get_by_text("params.yaml", exact=True).wait_for()
    page.click(SIDEBAR_TAB)
    page.wait_for_selector(ROW.format("inside"))
    assert page.locator('[data-testid="exp-path"]').inner_text() == "proj"

    # A file of the project in focus: the panel names the file, shows its project.
    page.evaluate(
        """() => {
            window.jupyterapp.commands.execute('docmanager:open', {path: 'proj/params.yaml'});
        }"""
    )
    page.wait_for_selector('[data-testid="exp-path"]:text-is("proj/params.yaml")')
    page.wait_for_selector(ROW.format("inside"))
    screenshot(page, "sidebar-follows-open-file")
