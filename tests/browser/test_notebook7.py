"""The notebook front ends in Notebook 7 (``jupyter notebook``) in a real browser.

Notebook 7 is a JupyterLab-based app of its own (``notebook.app.JupyterNotebookApp``):
issue 7 wants the widget, the charts and the styled table to work there too, with the
standard ipywidgets and mime types only. One notebook runs ``%exp_show --widget`` (sort by
a metric, select two rows, Diff), ``%exp_plots acc`` (a Vega-Lite chart) and ``%exp_show``
(the styled HTML table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from exp_project import FILES

from jupyter_exp import Project

from .conftest import LabServer, start_jupyter
from .test_widget import EXPERIMENTS, TABLE, column_texts

CELLS = ["%load_ext jupyter_exp", "%exp_show --widget", "%exp_plots acc", "%exp_show"]


@pytest.fixture
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path], LabServer]]:
    """``notebook7(root)`` starts Notebook 7 on ``root`` and stops it after the test.

    Isolated as ``lab`` is; Notebook 7 has no news or update check to turn off and takes
    the app options under ``JupyterNotebookApp``.
    """
    servers: list[LabServer] = []

    def start(root: Path) -> LabServer:
        state = tmp_path_factory.mktemp("notebook7")
        server = start_jupyter(state, root, "notebook", "JupyterNotebookApp")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def write_notebook(root: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, root / "notebook7.ipynb")
    return "notebook7.ipynb"


def cell_output(page: Any, index: int) -> Any:
    """The output area of the notebook's ``index``-th cell."""
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")


def test_widget_chart_and_table_in_notebook7(
    make_project: Any,
    notebook7: Callable[[Path], LabServer],
    page: Any,
    screenshot: Callable[[Any, str], Path],
    wait_kernel_idle: Callable[..., None],
) -> None:
    root = make_project(FILES)
    project = Project(root)
    for name, lr in EXPERIMENTS.items():
        project.exp_run(params=[f"train.lr={lr}"], name=name)
    notebook = write_notebook(root)
    server = notebook7(root)

    page.goto(server.url(f"notebooks/{notebook}"))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    # Notebook 7's own shell, not JupyterLab's.
    assert page.evaluate("window.jupyterapp.name") == "Jupyter Notebook"
    wait_kernel_idle(page)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_selector(f"{TABLE} tbody tr", timeout=60_000)
    except Exception as error:
        screenshot(page, "notebook7-widget-did-not-render")
        log = server.log_text()[-3000:]
        raise AssertionError(f"the table did not render; server log:\n{log}") from error
    assert set(EXPERIMENTS) <= set(column_texts(page, "Experiment"))

    # %exp_plots acc: the Vega-Lite mime type, drawn by Notebook 7's Vega renderer (not
    # the SVG copy in the bundle, which has no .vega-embed around it).
    chart = cell_output(page, 2).locator(".vega-embed")
    chart.locator("svg, canvas").first.wait_for(timeout=60_000)
    # %exp_show: the styled pandas table, metrics and params grouped, best acc marked.
    styled = cell_output(page, 3).locator(".jp-RenderedHTMLCommon table")
    styled.wait_for()
    headers = styled.locator("thead").inner_text()
    assert "Metrics" in headers and "Params" in headers
    # The best acc (high: 0.5 + 0.3) is the one bold cell.
    bold = styled.evaluate(
        """table => [...table.querySelectorAll('td')]
            .filter(td => Number(getComputedStyle(td).fontWeight) >= 700)
            .map(td => td.textContent.trim())"""
    )
    assert bold == ["0.80000"], bold
    # Notebook 7 scrolls the notebook inside the page: bring the outputs into view.
    styled.scroll_into_view_if_needed()
    screenshot(page, "notebook7-plot-and-table")

    # The widget: sort by the metric with a header click.
    page.click(f"{TABLE} thead th:has-text('acc')")
    page.wait_for_selector(f"{TABLE} thead th[aria-sort='ascending']:has-text('acc')")
    names = [n for n in column_texts(page, "Experiment") if n in EXPERIMENTS]
    assert names == ["low", "mid", "high"]

    # Select two rows, then Diff: the diff appears under the table.
    for name in ("low", "high"):
        page.click(f"{TABLE} tbody tr:has(td:text-is('{name}'))")
    page.wait_for_selector(f"{TABLE} tbody tr.selected >> nth=1")
    page.wait_for_function(
        "(sel) => !document.querySelector(sel).disabled", arg="button.jupyter-exp-diff"
    )
    page.click("button.jupyter-exp-diff")
    output = page.locator(".jupyter-exp-experiments .jupyter-exp-output")
    output.get_by_text(re.compile("Diff (high → low|low → high)")).wait_for(timeout=30_000)
    text = output.inner_text()
    assert "train.lr" in text and "0.05" in text and "0.3" in text and "acc" in text
    status = page.locator(".jupyter-exp-experiments .jupyter-exp-status")
    assert re.match("Diff (high → low|low → high): 4 change", status.inner_text())
    page.locator(".jupyter-exp-experiments").scroll_into_view_if_needed()
    screenshot(page, "notebook7-widget-diff")
