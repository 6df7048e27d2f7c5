"""``%exp_show --widget`` in JupyterLab in a real browser: sort by a metric, select two
rows, Diff, and the diff appears under the table."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from exp_project import FILES

from jupyter_exp import Project

# acc = 0.5 + lr: the sort by acc must put them in this order.
EXPERIMENTS = {"mid": 0.2, "high": 0.3, "low": 0.05}
CELLS = ["%load_ext jupyter_exp", "%exp_show --widget"]
TABLE = ".jupyter-exp-experiments .itables_anywidget table.dataTable"


def write_notebook(root: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, root / "experiments.ipynb")
    return "experiments.ipynb"


def column_texts(page: Any, header: str) -> list[str]:
    """The cells of column ``header`` in display order."""
    return page.evaluate(
        """([table, header]) => {
            const el = document.querySelector(table);
            const heads = [...el.querySelectorAll('thead th')].map(th => th.textContent.trim());
            const index = heads.indexOf(header);
            return [...el.querySelectorAll('tbody tr')].map(
                tr => tr.children[index].textContent.trim());
        }""",
        [TABLE, header],
    )


def test_sort_select_two_and_diff(
    make_project: Any,
    lab: Callable[[Path], Any],
    page: Any,
    screenshot: Callable[[Any, str], Path],
    wait_kernel_idle: Callable[..., None],
) -> None:
    root = make_project(FILES)
    project = Project(root)
    for name, lr in EXPERIMENTS.items():
        project.exp_run(params=[f"train.lr={lr}"], name=name)
    notebook = write_notebook(root)
    server = lab(root)

    page.goto(server.url(f"lab/tree/{notebook}"))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    wait_kernel_idle(page)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_selector(f"{TABLE} tbody tr", timeout=60_000)
    except Exception as error:
        screenshot(page, "widget-did-not-render")
        log = server.log_text()[-3000:]
        raise AssertionError(f"the table did not render; server log:\n{log}") from error
    assert set(EXPERIMENTS) <= set(column_texts(page, "Experiment"))

    # Sort by the metric: a click on its header.
    page.click(f"{TABLE} thead th:has-text('acc')")
    acc_column = page.get_attribute(f"{TABLE} thead th:has-text('acc')", "data-dt-column")
    page.wait_for_selector(f"{TABLE} thead th[aria-sort='ascending']:has-text('acc')")
    names = [n for n in column_texts(page, "Experiment") if n in EXPERIMENTS]
    assert names == ["low", "mid", "high"]

    # Select two rows (a click toggles a row), then Diff.
    for name in ("low", "high"):
        page.click(f"{TABLE} tbody tr:has(td:text-is('{name}'))")
    page.wait_for_selector(f"{TABLE} tbody tr.selected >> nth=1")
    diff = page.locator("button.jupyter-exp-diff")
    diff.wait_for()
    page.wait_for_function(
        "(sel) => !document.querySelector(sel).disabled", arg="button.jupyter-exp-diff"
    )
    diff.click()
    output = page.locator(".jupyter-exp-experiments .jupyter-exp-output")
    # Which of the two is "old" depends on the rows' order (creation time).
    output.get_by_text(re.compile("Diff (high → low|low → high)")).wait_for(timeout=30_000)
    text = output.inner_text()
    assert "train.lr" in text and "0.05" in text and "0.3" in text
    assert "acc" in text
    status = page.locator(".jupyter-exp-experiments .jupyter-exp-status")
    assert re.match("Diff (high → low|low → high): 4 change", status.inner_text())
    screenshot(page, "widget-diff")

    # A new experiment, then Refresh: new data re-renders the table; the sort by acc and
    # the selection (kept by name) survive it.
    project.exp_run(params=["train.lr=0.4"], name="top")
    page.click("button.jupyter-exp-refresh")
    page.wait_for_selector(f"{TABLE} tbody tr:has(td:text-is('top'))")
    page.wait_for_selector(f"{TABLE} thead th[data-dt-column='{acc_column}'].dt-ordering-asc")
    names = [n for n in column_texts(page, "Experiment") if n in [*EXPERIMENTS, "top"]]
    assert names == ["low", "mid", "high", "top"]
    selected = page.locator(f"{TABLE} tbody tr.selected td:first-child").all_inner_texts()
    assert sorted(selected) == ["high", "low"]
    screenshot(page, "widget-refreshed")
