"""The magics in a real Jupyter kernel: nbclient executes a notebook in a project."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import nbformat
import pytest
from exp_project import FILES, PREPARE_PY, exp_refs
from nbclient import NotebookClient

PROJECT = FILES | {"prepare.py": PREPARE_PY + "print('prepared the data')\n"}

CELLS = [
    "%load_ext jupyter_exp",
    "lr = 0.3\n%exp_run -n k1 -S train.lr=$lr",
    "%exp_run -n k2 -S train.lr=0.1",
    "df = %exp_show --sort-by acc --no-timestamp\ndf",
    "print(type(df).__name__, sorted(e for e in df['Experiment'] if e))",
    "%exp_apply no-such-exp",
    "%exp_plots acc",
]


def texts(output: dict[str, Any]) -> str:
    """Every text an output carries (stream text, html, plain, error value)."""
    data = output.get("data", {})
    keys = ("text/html", "text/plain")
    return output.get("text", "") + "".join(data.get(key, "") for key in keys)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[dict]]]:
    """Run the notebook once in a fresh project; the cells' outputs."""
    import os
    import subprocess

    from conftest import write_tree

    root = tmp_path_factory.mktemp("kernel") / "project"
    root.mkdir()
    write_tree(root, PROJECT)
    home = root.parent / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "i"]):
            subprocess.run(["git", *args], cwd=root, check=True)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=120,
            allow_errors=True,
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return root, [cell.outputs for cell in nb.cells]


def test_run_streams_and_summarises(executed: tuple[Path, list[list[dict]]]) -> None:
    root, outputs = executed
    assert outputs[0] == []  # %load_ext
    run = outputs[1]
    streamed = "".join(o.get("text", "") for o in run if o["output_type"] == "stream")
    assert "prepared the data" in streamed
    widgets = [o for o in run if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "a progress bar in the kernel"
    result = [o for o in run if o["output_type"] == "execute_result"]
    assert "Ran experiment 'k1'" in result[0]["data"]["text/plain"]
    assert "<td>metrics.json:acc</td><td>0.8</td>" in result[0]["data"]["text/html"]
    assert "train.lr=0.3" in result[0]["data"]["text/html"]  # $lr expanded
    assert {ref.rsplit("/", 1)[1] for ref in exp_refs(root)} == {"k1", "k2"}


def test_show_returns_a_styled_dataframe(executed: tuple[Path, list[list[dict]]]) -> None:
    _, outputs = executed
    (shown,) = [o for o in outputs[3] if o["output_type"] == "execute_result"]
    html = shown["data"]["text/html"]
    assert "<style" in html and "#d4f5d4" in html  # the best acc highlighted
    assert "Metrics" in html and "k1" in html and "k2" in html
    assert "Created" not in html
    assert texts(outputs[4][0]).strip() == "ExpShowFrame ['k1', 'k2']"


def test_errors_are_one_usage_error_line(executed: tuple[Path, list[list[dict]]]) -> None:
    _, outputs = executed
    # IPython shows a UsageError as one stderr line, without a traceback. (The kernel may
    # log its own warnings to stderr meanwhile: only ours are looked at.)
    assert all(o["output_type"] == "stream" and o["name"] == "stderr" for o in outputs[5])
    text = "".join(o["text"] for o in outputs[5])
    assert "UsageError: no experiment named 'no-such-exp'\n" in text
    assert text.count("UsageError") == 1 and "Traceback" not in text


def test_plots_are_vega_lite_with_an_svg_copy(executed: tuple[Path, list[list[dict]]]) -> None:
    _, outputs = executed
    (chart,) = outputs[6]
    assert chart["output_type"] == "execute_result"
    assert "application/vnd.vegalite.v5+json" in chart["data"]
    if importlib.util.find_spec("vl_convert") is not None:
        assert chart["data"]["image/svg+xml"].startswith("<svg")
