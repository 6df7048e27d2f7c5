"""Every line magic in one real Jupyter kernel (nbclient), on a project with a bare Git
remote: run, save, diff, branch, queue (start, status, logs, remove, stop), push, remove,
pull, apply, show and plots. ``%%checkpoint`` has its own kernel tests
(tests/test_checkpoint_magic.py). Each cell's outputs are checked, and the repository
afterwards.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import git, write_tree
from exp_project import FILES, exp_refs
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

WAIT_FOR_QUEUE = """\
import time
from jupyter_exp import Project
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    states = {e.state for e in Project('.').queue_status().entries}
    if not states & {'Queued', 'Running'}:
        break
    time.sleep(0.2)
print('queue states:', sorted(states))"""

CELLS = {
    "load": "%load_ext jupyter_exp",
    "run": "%exp_run -n a1 -S train.lr=0.2",
    "save": "open('notes.txt', 'w').write('a note')\n%exp_save -n saved1 -I notes.txt",
    "diff": "%exp_diff HEAD a1",
    "branch": "%exp_branch a1 promoted",
    "queue": "%exp_run --queue -n q1 -S train.lr=0.4",
    "status": "%exp_queue status",
    "start": "%exp_queue start -j 1",
    "wait": WAIT_FOR_QUEUE,
    "logs": "%exp_queue logs q1",
    "queue_remove": "%exp_queue remove --success",
    "push": "%exp_push origin a1",
    "remove": "removed = %exp_remove a1\nremoved",
    "pull": "%exp_pull origin a1",
    "apply": "%exp_apply a1 --force",
    "show": "%exp_show --no-timestamp --sort-by acc",
    "plots": "%exp_plots acc",
    "stop": "%exp_queue stop",
}


def text_of(outputs: list[dict[str, Any]]) -> str:
    """Every text the outputs carry (streams, text/plain, text/html, error values)."""
    parts = []
    for output in outputs:
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts.extend(str(data.get(key, "")) for key in ("text/plain", "text/html"))
        if output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[dict]]]:
    base = tmp_path_factory.mktemp("every-magic")
    remote = base / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    root = base / "project"
    root.mkdir()
    write_tree(root, FILES)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "baseline")
    git(root, "remote", "add", "origin", str(remote))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS.values()]
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(root)}},
        shutdown_kernel="immediate",
    ).execute()  # no allow_errors: any cell raising fails the test
    outputs = {name: cell.outputs for name, cell in zip(CELLS, nb.cells, strict=True)}
    return root, outputs


def test_every_cell_ran_without_an_error(executed: tuple[Path, dict[str, list[dict]]]) -> None:
    _, outputs = executed
    errors = {name: text_of(out) for name, out in outputs.items() if "UsageError" in text_of(out)}
    assert errors == {}


def test_run_save_diff_and_branch(executed: tuple[Path, dict[str, list[dict]]]) -> None:
    root, outputs = executed
    assert "Ran experiment 'a1'" in text_of(outputs["run"])
    assert "saved1" in text_of(outputs["save"])
    assert "notes.txt" in git(root, "ls-tree", "--name-only", _ref(root, "saved1"))
    diff = text_of(outputs["diff"])
    assert "train.lr" in diff and "0.2" in diff
    assert (
        git(root, "rev-parse", "promoted").strip()
        == git(root, "rev-parse", _ref(root, "a1")).strip()
    )


def test_the_queue_from_the_kernel(executed: tuple[Path, dict[str, list[dict]]]) -> None:
    root, outputs = executed
    assert "q1" in text_of(outputs["queue"])
    assert "q1" in text_of(outputs["status"]) and "Queued" in text_of(outputs["status"])
    assert "worker" in text_of(outputs["start"]).lower()
    assert "queue states: ['Success']" in text_of(outputs["wait"])
    assert text_of(outputs["logs"]).strip()  # the run's log
    assert "q1" in text_of(outputs["queue_remove"])
    assert any(ref.endswith("/q1") for ref in exp_refs(root))


def test_push_remove_pull_apply(executed: tuple[Path, dict[str, list[dict]]]) -> None:
    root, outputs = executed
    remote = root.parent / "remote.git"
    pushed = git(remote, "for-each-ref", "--format=%(refname)", "refs/exps/").split()
    assert [ref for ref in pushed if ref.endswith("/a1")]
    assert "a1" in text_of(outputs["remove"])
    assert "a1" in text_of(outputs["pull"])
    assert any(ref.endswith("/a1") for ref in exp_refs(root))  # back from the remote
    assert "train:\n  lr: 0.2" in (root / "params.yaml").read_text()  # applied


def test_show_and_plots(executed: tuple[Path, dict[str, list[dict]]]) -> None:
    _, outputs = executed
    (shown,) = [o for o in outputs["show"] if o["output_type"] == "execute_result"]
    html = shown["data"]["text/html"]
    for name in ("a1", "saved1", "q1"):
        assert name in html
    (chart,) = [o for o in outputs["plots"] if o["output_type"] == "execute_result"]
    assert "application/vnd.vegalite.v5+json" in chart["data"]
    assert "Workers will take no new experiment." in text_of(outputs["stop"])


def _ref(root: Path, name: str) -> str:
    (ref,) = [ref for ref in exp_refs(root) if ref.endswith(f"/{name}")]
    return ref
