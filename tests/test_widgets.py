"""``ExperimentsTable`` in-process on a real experiment project, and ``%exp_show --widget``
in a real kernel (nbclient).

Selections are made by setting the ITable's ``selected_rows`` (what the front end sends),
buttons pressed with ``button.click()``; the assertions read the project (files, refs,
queue) rather than the widget alone.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

import pytest
import yaml
from exp_project import FILES, exp_refs, git_out

from jupyter_exp import Project
from jupyter_exp.widgets import ExperimentsTable, LiveRefresh

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
VEGALITE_MIME = "application/vnd.vegalite.v5+json"


@pytest.fixture
def project(make_project: Any) -> Project:
    """The two-stage project with experiments e1 (lr 0.2, acc 0.7) and e2 (lr 0.3, acc 0.8)."""
    project = Project(make_project(FILES))
    project.exp_run(params=["train.lr=0.2"], name="e1")
    project.exp_run(params=["train.lr=0.3"], name="e2")
    return project


@pytest.fixture
def widget(project: Project) -> Any:
    table = ExperimentsTable(project, refresh_interval=0.2)
    yield table
    table.close()


def select(widget: ExperimentsTable, *keys: str) -> None:
    """Select rows as a click in the front end does: by position in the data."""
    positions = [widget.shown.keys().index(key) for key in keys]
    widget.table.selected_rows = positions


def output_html(widget: ExperimentsTable) -> str:
    return "".join(o["data"].get("text/html", "") for o in widget.output.outputs)


def test_rows_are_the_experiments_with_params_and_metrics(widget: ExperimentsTable) -> None:
    frame = widget.table.df
    # Workspace, baseline, then its experiments (newest first: e1 and e2 may share a second).
    assert list(frame["Experiment"])[:2] == ["workspace", "main"]
    assert sorted(frame["Experiment"][2:]) == ["e1", "e2"]
    assert {"Rev", "State", "Created", "acc", "train.lr", "train.epochs"} <= set(frame.columns)
    assert not any(name.endswith(".py") for name in frame.columns)  # no dep hashes
    by_name = frame.set_index("Experiment")
    assert (by_name.loc["e1", "train.lr"], by_name.loc["e1", "acc"]) == (0.2, 0.7)
    assert by_name.loc["e2", "State"] == "Success"
    assert by_name.loc["main", "acc"] == ""  # missing: empty, so the column sorts as numbers
    args = widget.table._dt_args
    assert args["select"] == {"style": "multi"} and args["layout"]["topEnd"] == "search"
    classes = {d["className"]: d["targets"] for d in args["columnDefs"] if "className" in d}
    columns = list(frame.columns)
    assert classes["jupyter-exp-metric"] == [columns.index("acc")]
    assert {columns[i] for i in classes["jupyter-exp-param"]} == {"train.lr", "train.epochs"}


def test_buttons_follow_the_selection(widget: ExperimentsTable) -> None:
    assert widget.buttons["apply"].disabled and widget.buttons["diff"].disabled
    select(widget, "e1")
    assert not widget.buttons["apply"].disabled and widget.buttons["diff"].disabled
    select(widget, "e1", "e2")
    assert widget.buttons["apply"].disabled and not widget.buttons["diff"].disabled
    assert sorted(widget.selected_keys()) == ["e1", "e2"]


def test_apply_puts_the_experiment_in_the_workspace(
    widget: ExperimentsTable, project: Project
) -> None:
    select(widget, "e1")
    widget.buttons["apply"].click()
    # The workspace holds e2's results: asked before they are overwritten.
    assert widget.prompt is not None and "params.yaml" in widget.prompt.children[0].value
    assert yaml.safe_load((project.root / "params.yaml").read_text())["train"]["lr"] == 0.3
    widget.prompt.ok.click()
    assert yaml.safe_load((project.root / "params.yaml").read_text())["train"]["lr"] == 0.2
    assert json.loads((project.root / "metrics.json").read_text())["acc"] == 0.7
    assert not widget.failed and "'e1' have been applied" in widget.message
    assert widget.prompt is None and "To undo:" in widget.message
    # Applying again finds nothing to overwrite: no question.
    widget.buttons["apply"].click()
    assert widget.prompt is None and not widget.failed
    # The workspace row was re-read, and e1 is still the selection.
    assert widget.table.df.set_index("Experiment").loc["workspace", "train.lr"] == 0.2
    assert widget.selected_keys() == ["e1"]


def test_branch_asks_a_name_then_creates_it(widget: ExperimentsTable, project: Project) -> None:
    select(widget, "e2")
    widget.buttons["branch"].click()
    assert widget.prompt is not None and widget.prompt.fields["branch"].placeholder == "e2-branch"
    widget.prompt.fields["branch"].value = "best-lr"
    widget.prompt.ok.click()
    e2 = next(sha for ref, sha in exp_refs(project.root).items() if ref.endswith("/e2"))
    assert git_out(project.root, "rev-parse", "refs/heads/best-lr") == e2
    assert widget.prompt is None and "'best-lr'" in widget.message
    # The same name again: our error, as one line in the status, the prompt stays open.
    widget.buttons["branch"].click()
    widget.prompt.fields["branch"].value = "best-lr"
    widget.prompt.ok.click()
    assert widget.failed and "best-lr" in widget.message and "\n" not in widget.message
    assert widget.prompt is not None
    widget.prompt.cancel.click()
    assert widget.prompt is None and widget.prompt_area.children == ()


def test_remove_asks_then_removes_the_refs(widget: ExperimentsTable, project: Project) -> None:
    select(widget, "e1", "e2")
    widget.buttons["remove"].click()
    assert exp_refs(project.root)  # nothing removed before the answer
    assert "e1" in widget.prompt.children[0].value and "e2" in widget.prompt.children[0].value
    widget.prompt.ok.click()
    assert exp_refs(project.root) == {}
    assert list(widget.table.df["Experiment"]) == ["workspace", "main"]
    assert widget.selected_keys() == [] and widget.message.startswith("Removed: ")
    assert sorted(widget.message[len("Removed: ") : -1].split(", ")) == ["e1", "e2"]


def test_remove_refuses_the_workspace(widget: ExperimentsTable, project: Project) -> None:
    select(widget, "workspace", "e1")
    widget.buttons["remove"].click()
    assert widget.failed and widget.prompt is None
    assert len(exp_refs(project.root)) == 2


def test_diff_of_two_rows_shows_the_changed_param(widget: ExperimentsTable) -> None:
    select(widget, "e1", "e2")
    widget.buttons["diff"].click()
    html = output_html(widget)
    # The lower row (older) is compared with the upper one.
    old, new = reversed(widget.selected_keys())
    assert f"Diff {old} → {new}" in html
    assert "train.lr" in html and "0.2" in html and "0.3" in html
    assert "acc" in html
    assert widget.message == f"Diff {old} → {new}: 4 change(s)."


def test_diff_of_workspace_and_baseline(widget: ExperimentsTable, project: Project) -> None:
    select(widget, "workspace", "main")  # the workspace holds e2's results
    widget.buttons["diff"].click()
    assert not widget.failed, widget.message
    assert "train.lr" in output_html(widget) and "Diff main → workspace" in widget.message


def test_apply_without_an_experiment_is_a_status_message(widget: ExperimentsTable) -> None:
    select(widget, "workspace")
    widget.buttons["apply"].click()
    assert widget.failed and "workspace" in widget.message
    widget.table.selected_rows = []
    widget.buttons["diff"].click()
    assert widget.failed and "two rows" in widget.message


def test_plot_of_the_selection_is_vega_lite(widget: ExperimentsTable) -> None:
    select(widget, "e1", "e2")
    widget.buttons["plot"].click()
    (bundle,) = [o["data"] for o in widget.output.outputs]
    spec = bundle[VEGALITE_MIME]
    experiments = {record["experiment"] for record in spec["data"]["values"]}
    assert experiments == {"e1", "e2"}
    widget.plot_kind.value = "parallel"
    widget.table.selected_rows = []  # nothing selected: every row
    widget.buttons["plot"].click()
    assert "parallel coordinates" in widget.message
    widget.plot_kind.value = "steps"
    widget.buttons["plot"].click()  # no checkpoint experiment: said, not raised
    assert widget.failed and widget.message.startswith("Cannot plot")


def test_queue_a_copy_with_edited_params(widget: ExperimentsTable, project: Project) -> None:
    select(widget, "e1")
    widget.buttons["queue_copy"].click()
    fields = widget.prompt.fields
    assert (fields["train.lr"].value, fields["train.epochs"].value) == ("0.2", "2")
    fields["train.lr"].value = "0.05"
    fields["experiment name"].value = "copy"
    widget.prompt.ok.click()
    assert not widget.failed, widget.message
    (entry,) = project.queue_status().entries
    assert (entry.name, entry.state) == ("copy", "Queued")
    assert sorted(entry.overrides) == ["train.epochs=2", "train.lr=0.05"]
    shown = widget.table.df.set_index("Experiment")
    assert shown.loc["copy", "State"] == "Queued" and shown.loc["copy", "train.lr"] == 0.05
    # No worker: nothing will change, so no live refresh polls for it.
    assert not widget.live.running


def test_refresh_picks_up_a_new_experiment_and_keeps_the_selection(
    widget: ExperimentsTable, project: Project
) -> None:
    select(widget, "e1")
    before = widget.table._dt_args
    widget.buttons["refresh"].click()
    assert widget.table._dt_args is before  # same data: no re-render (sort order kept)
    project.exp_run(params=["train.lr=0.4"], name="e3")
    widget.buttons["refresh"].click()
    assert "e3" in list(widget.table.df["Experiment"])
    assert widget.selected_keys() == ["e1"]
    assert widget.table.selected_rows == [widget.shown.keys().index("e1")]


@pytest.mark.slow
def test_live_refresh_follows_the_queue_then_stops(
    widget: ExperimentsTable, project: Project
) -> None:
    project.exp_run(params=["train.lr=0.15"], name="queued-one", queue=True)
    widget.refresh()
    select(widget, "queued-one", "e2")
    widget.jobs.value = 1
    widget.buttons["start"].click()
    assert "Started 1 queue worker" in widget.message
    assert widget.live.running
    deadline = time.monotonic() + 120
    while widget.live.running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not widget.live.running, "live refresh still polling after the queue emptied"
    assert widget.live.polls >= 1
    shown = widget.table.df.set_index("Experiment")
    assert shown.loc["queued-one", "State"] == "Success"
    assert shown.loc["queued-one", "acc"] == pytest.approx(0.65)
    assert sorted(widget.selected_keys()) == ["e2", "queued-one"]


def test_close_stops_the_live_refresh(project: Project) -> None:
    widget = ExperimentsTable(project, refresh_interval=0.05)
    polled = threading.Event()
    widget.live.poll = lambda: polled.set() or True  # a queue that never empties
    widget.live.start()
    assert polled.wait(10)
    widget.close()
    assert not widget.live.running


def test_live_refresh_reports_a_failed_poll_and_ends() -> None:
    errors: list[Exception] = []

    def poll() -> bool:
        raise RuntimeError("boom")

    live = LiveRefresh(poll, 0.01, on_error=errors.append)
    assert live.start()
    live._thread.join(10)
    assert not live.running and [str(e) for e in errors] == ["boom"]


def test_exp_show_widget_magic_returns_the_table(project: Project, in_dir: Any) -> None:
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    in_dir(project.root)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_exp")
    try:
        table = shell.run_line_magic("exp_show", "--widget --hide-workspace --sort-by acc")
        assert isinstance(table, ExperimentsTable)
        assert list(table.table.df["Experiment"]) == ["main", "e1", "e2"]  # acc 0.7 < 0.8
        table.close()
        with pytest.raises(UsageError, match="nope"):
            shell.run_line_magic("exp_show", "--widget --rev nope")
    finally:
        shell.run_line_magic("unload_ext", "jupyter_exp")


@pytest.mark.slow
def test_exp_show_widget_in_a_real_kernel(project: Project) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(code)
        for code in (
            "%load_ext jupyter_exp",
            "%exp_show --widget",
            # Live refresh in the kernel: widget updates sent from the polling thread.
            "w = %exp_show --widget\n"
            "w.project.exp_run(params=['train.lr=0.15'], name='q', queue=True)\n"
            "w.refresh()\n"
            "w.buttons['start'].click()\n"
            "print('polling:', w.live.running)",
            "import time\n"
            "deadline = time.monotonic() + 120\n"
            "while w.live.running and time.monotonic() < deadline:\n"
            "    time.sleep(0.1)\n"
            "states = dict(zip(w.table.df['Experiment'], w.table.df['State']))\n"
            "print('polling:', w.live.running, states)",
        )
    ]
    NotebookClient(
        nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(project.root)}}
    ).execute()
    assert nb.cells[2].outputs[0]["text"] == "polling: True\n"
    (ended,) = nb.cells[3].outputs
    assert ended["name"] == "stdout" and ended["text"].startswith("polling: False")
    assert "'q': 'Success'" in ended["text"]
    (output,) = nb.cells[1].outputs
    view = output["data"][WIDGET_MIME]
    assert view["model_id"]
    # The saved widget state holds the table's rows (front ends render from it).
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    dt_args = [m["state"]["_dt_args"] for m in state.values() if "_dt_args" in m["state"]]
    shown = [{row[0] for row in json.loads(args["data_json"])} for args in dt_args]
    assert {"workspace", "main", "e1", "e2"} in shown  # the first table
    assert {"workspace", "main", "e1", "e2", "q"} in shown  # the second, after the queue ran


def test_notebook_cells_have_their_own_progress_bar() -> None:
    from jupyter_exp.events import NotebookCellProgress, StageCompleted, StageFailed, StageStarted
    from jupyter_exp.ipython.events import CellProgress

    sink = CellProgress(widgets=True)
    sink(StageStarted(stage="train", cmd="jupyter exp notebook t.ipynb", index=1, total=1))
    for cell in range(4):
        sink(NotebookCellProgress(stage="train", notebook="t.ipynb", cell=cell, total=3))
        assert (sink._cell_bar.value, sink._cell_bar.max) == (min(cell, 3), 3)
    assert sink._cell_bar.description == "cell 3/3" and sink._cell_bar.bar_style == "success"
    assert "t.ipynb: cell 3/3" in sink._cell_label.value
    assert sink._bar.max == 1 and sink._bar.value == 0  # the stage bar keeps counting stages
    assert len(sink._box.children) == 2  # stage row, then cells row
    sink(StageCompleted(stage="train", duration=1.0))
    assert sink._bar.value == 1 and sink._bar.bar_style == "success"
    # A second notebook resets the cells bar; a failure leaves it red where it stopped.
    sink(StageStarted(stage="eval", cmd="jupyter exp notebook e.ipynb", index=2, total=2))
    sink(NotebookCellProgress(stage="eval", notebook="e.ipynb", cell=1, total=5))
    assert sink._cell_bar.bar_style == "" and sink._cell_bar.max == 5
    sink(StageFailed(stage="eval", returncode=1, message="cell 2 raised"))
    assert sink._cell_bar.bar_style == "danger" and sink._cell_bar.value == 1


def test_notebook_cells_without_widgets_say_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_exp.events import NotebookCellProgress
    from jupyter_exp.ipython.events import CellProgress

    sink = CellProgress(widgets=False)
    for cell in range(3):
        sink(NotebookCellProgress(stage="train", notebook="t.ipynb", cell=cell, total=2))
    assert capsys.readouterr().out == "Executing t.ipynb (2 code cells)\n"


def test_live_refresh_keeps_watching_while_asked_then_ends() -> None:
    watching = threading.Event()
    watching.set()
    polls: list[float] = []

    def poll() -> bool:
        polls.append(time.monotonic())
        return False  # never any work: only keep_watching keeps it going

    live = LiveRefresh(poll, 0.01, keep_watching=watching.is_set, idle_interval=0.05)
    assert live.start()
    deadline = time.monotonic() + 10
    while len(polls) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.running and len(polls) >= 4
    # Idle polls come at the idle pace, not the busy one.
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert min(gaps) >= 0.04
    watching.clear()
    live._thread.join(10)
    assert not live.running


def test_start_wakes_an_idle_thread_at_once() -> None:
    polled = threading.Event()
    calls = 0

    def poll() -> bool:
        nonlocal calls
        calls += 1
        if calls > 1:
            polled.set()
        return False

    live = LiveRefresh(poll, 0.01, keep_watching=lambda: True, idle_interval=60)
    live.start()
    deadline = time.monotonic() + 10
    while calls < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.start() is False  # already running: woken instead
    assert polled.wait(5), "the idle thread was not woken"
    live.stop(timeout=5)
    assert not live.running


@pytest.mark.slow
def test_a_shown_table_follows_a_queue_started_elsewhere(
    widget: ExperimentsTable, project: Project
) -> None:
    widget.live.idle_interval = 0.2
    widget._view_count = 1  # what a front end reports when it displays the table
    assert widget.live.running
    project.exp_run(params=["train.lr=0.15"], name="from-elsewhere", queue=True)
    project.queue_start(jobs=1)  # not through the widget
    deadline = time.monotonic() + 120
    state = None
    while time.monotonic() < deadline:
        frame = widget.table.df.set_index("Experiment")
        state = frame["State"].get("from-elsewhere")
        if state == "Success":
            break
        time.sleep(0.1)
    assert state == "Success"
    widget._view_count = 0  # the cell was re-run: its view is gone
    widget.live._thread.join(30)
    assert not widget.live.running
