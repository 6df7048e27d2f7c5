"""The demo notebooks in notebooks/ run top to bottom in a real kernel.

Each notebook builds its own project in a temporary folder (a Binder clone has no
experiments), so executing it is the whole check that it still works. Cells tagged
``raises-exception`` show an error on purpose (nbclient lets them raise). Beyond "no
error", each notebook's key outputs are checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

pytestmark = pytest.mark.slow


def execute(name: str, cwd: Path) -> nbformat.NotebookNode:
    """Run ``notebooks/<name>`` in ``cwd`` with a python3 kernel; the executed notebook."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        shutdown_kernel="immediate",
    )
    client.execute()
    return nb


def outputs_text(nb: nbformat.NotebookNode) -> list[str]:
    """Per code cell, every text its outputs carry (streams, text/plain, text/html, errors)."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts: list[str] = []
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data: dict[str, Any] = output.get("data", {})
            parts.extend(str(data.get(key, "")) for key in ("text/plain", "text/html"))
            if output.get("output_type") == "error":
                parts.append(f"{output['ename']}: {output['evalue']}")
        texts.append("\n".join(parts))
    return texts


def test_every_notebook_is_covered_by_a_test() -> None:
    tested = {"checkpoints.ipynb", "magics-demo.ipynb", "notebook-stages.ipynb", "widgets.ipynb"}
    assert {path.name for path in NOTEBOOKS.glob("*.ipynb")} == tested


def test_magics_demo(tmp_path: Path) -> None:
    nb = execute("magics-demo.ipynb", tmp_path)
    texts = outputs_text(nb)
    joined = "\n".join(texts)
    assert "first" in joined
    # The comparison table lists the named experiment and three more.
    table = next(text for text in texts if "<table" in text)
    assert "first" in table and "train.lr" in table
    # The last cell is a user mistake: one line, no traceback from our code.
    assert "no-such-experiment" in texts[-1]
    assert "Traceback" not in texts[-1]


def test_notebook_stages_demo(tmp_path: Path) -> None:
    nb = execute("notebook-stages.ipynb", tmp_path)
    texts = outputs_text(nb)
    joined = "\n".join(texts)
    assert "jupyter exp notebook train.ipynb" in joined  # the stage it wrote
    for name in ("lr-1", "lr-2", "lr-3"):
        assert name in joined
    best = next(text for text in texts if text.startswith("best: "))
    assert "lr=" in best and "loss=" in best


def test_checkpoints_demo(tmp_path: Path) -> None:
    nb = execute("checkpoints.ipynb", tmp_path)
    texts = outputs_text(nb)
    recorded = [text for text in texts if "Checkpoint " in text and "notebook-training" in text]
    assert [text.split(" of ")[0].split()[-1] for text in recorded[:3]] == ["1", "2", "3"]
    table = next(text for text in texts if "checkpoint_tip" in text or "<table" in text)
    assert "notebook-training" in table
    # Three cell runs, then two make_checkpoint() calls inside one cell.
    assert texts[-1].strip() == "5 checkpoints of notebook-training"


def test_widgets_demo(tmp_path: Path) -> None:
    nb = execute("widgets.ipynb", tmp_path)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    texts = outputs_text(nb)

    def mimes(index: int) -> set[str]:
        return {key for output in code[index].outputs for key in output.get("data", {})}

    widget_view = "application/vnd.jupyter.widget-view+json"
    sources = [cell.source for cell in code]
    magic = next(i for i, source in enumerate(sources) if source == "%exp_show --widget")
    from_python = next(i for i, source in enumerate(sources) if "ExperimentsTable(" in source)
    # Both show the widget: a view of a model living in the kernel.
    for index in (magic, from_python):
        assert widget_view in mimes(index)
        assert "ExperimentsTable(" in texts[index]
    # Selected from code, in table order (best test accuracy first), then Diff and Plot.
    selected = next(i for i, source in enumerate(sources) if "table.select(" in source)
    assert texts[selected].strip() == "['fast', 'slow']"
    assert "Diff slow → fast:" in texts[selected + 1]
    assert "change(s)" in texts[selected + 1]
    assert "Plotted parallel coordinates of train.lr, train.epochs" in texts[selected + 2]
    # %exp_plots --parallel: Vega-Lite with an SVG copy for saved notebooks.
    assert {"application/vnd.vegalite.v5+json", "image/svg+xml"} <= mimes(len(code) - 1)
    assert "parallel coordinates" in texts[-1]
