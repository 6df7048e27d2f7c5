"""An :data:`~jupyter_exp.events.EventSink` that shows a run live in the notebook cell.

Stage output is written to the cell's stdout/stderr as it arrives (ipykernel streams
those to the front end). In a kernel with ``ipywidgets`` a progress bar and a label
follow the stages, and a second bar follows the cells of a notebook stage (cell N of M);
elsewhere (terminal IPython, no ipywidgets) plain lines say which stage starts and ends.
Queue runs (``--run-all``) report per experiment.
"""

from __future__ import annotations

import html
import sys
import threading
from typing import Any

from ..events import (
    Event,
    NotebookCellProgress,
    StageCompleted,
    StageFailed,
    StageOutput,
    StageRestored,
    StageSkipped,
    StageStarted,
)

__all__ = ["CellProgress", "widgets_available"]


def widgets_available() -> bool:
    """True inside a Jupyter kernel with ipywidgets importable (a front end can draw them)."""
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class CellProgress:
    """Render engine events into the running cell.

    ``widgets`` forces (True) or forbids (False) the ipywidgets progress bar; by default
    it is used when :func:`widgets_available`. ``lines`` collects every status line
    written, for callers that want a record of the run.
    """

    def __init__(self, *, widgets: bool | None = None) -> None:
        self.use_widgets = widgets_available() if widgets is None else widgets
        self.lines: list[str] = []
        self._bar: Any = None
        self._label: Any = None
        self._box: Any = None  # what is displayed: the stage row, then the cells row
        self._cell_bar: Any = None
        self._cell_label: Any = None
        self._notebook = ""  # the notebook the cells bar follows
        self._current = 0
        # Stage output may come from reader threads; keep writes whole.
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    # --- dispatch ------------------------------------------------------------------------

    def _handle(self, event: Event) -> None:
        if isinstance(event, StageOutput):
            stream = sys.stderr if event.stream == "stderr" else sys.stdout
            stream.write(event.text)
            stream.flush()
        elif isinstance(event, StageStarted):
            # index is 1-based over all stages: the ones before it are done or skipped.
            self._current = event.index
            self._progress(event.index - 1, event.total, f"Running stage '{event.stage}'")
            self._status(f"Running stage '{event.stage}':\n> {event.cmd}")
        elif isinstance(event, StageCompleted):
            self._advance(f"Stage '{event.stage}' done ({event.duration:.1f} s)")
        elif isinstance(event, StageSkipped):
            self._status(f"Stage '{event.stage}' didn't change, skipping")
        elif isinstance(event, StageRestored):
            self._status(f"Stage '{event.stage}' is cached - skipping run, checking out outputs")
        elif isinstance(event, StageFailed):
            if self._cell_bar is not None and self._cell_bar.value < self._cell_bar.max:
                self._cell_bar.bar_style = "danger"  # the notebook stopped at that cell
            self._advance(f"Stage '{event.stage}' failed: {event.message}", style="danger")
        elif isinstance(event, NotebookCellProgress):
            self._cells(event)
        else:
            self._queue_event(event)

    def _queue_event(self, event: Event) -> None:
        """``exp run --run-all``: the queue's entries and their logs."""
        kind = event.kind
        if kind == "queue-log-output":
            text = getattr(event, "text", "")
            name = getattr(event, "name", "")
            prefixed = "".join(f"[{name}] {line}" for line in text.splitlines(keepends=True))
            sys.stdout.write(prefixed)
            sys.stdout.flush()
        elif kind == "queue-entry-changed":
            name, state = getattr(event, "name", ""), getattr(event, "state", "")
            detail = getattr(event, "exp_name", None) or getattr(event, "error", None)
            self._status(f"[{name}] {state}" + (f": {detail}" if detail else ""))

    # --- rendering -----------------------------------------------------------------------

    def _status(self, text: str) -> None:
        self.lines.append(text)
        if self.use_widgets and self._label is not None:
            self._label.value = f"<code>{html.escape(text.splitlines()[0])}</code>"
        else:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def _progress(self, index: int, total: int, text: str) -> None:
        """Create the bar on first use, then move it to ``index`` of ``total``."""
        if not self.use_widgets:
            return
        import ipywidgets
        from IPython.display import display

        if self._bar is None:
            self._bar = ipywidgets.IntProgress(min=0, max=max(total, 1), value=0)
            self._label = ipywidgets.HTML()
            self._box = ipywidgets.VBox([ipywidgets.HBox([self._bar, self._label])])
            display(self._box)
        self._bar.max = max(total, 1)
        self._bar.value = max(0, min(index, self._bar.max))
        self._bar.description = f"{index}/{total}" if total else ""
        self._label.value = text

    def _advance(self, text: str, style: str = "success") -> None:
        if self.use_widgets and self._bar is not None:
            self._bar.value = min(self._current, self._bar.max)
            self._bar.description = f"{self._bar.value}/{self._bar.max}"
            if style == "danger":
                self._bar.bar_style = "danger"
            elif self._bar.value == self._bar.max and self._bar.bar_style != "danger":
                self._bar.bar_style = "success"
        self._status(text)

    def _cells(self, event: NotebookCellProgress) -> None:
        """A notebook stage: ``cell`` of ``total`` code cells done, on a bar of its own
        under the stage bar (a new notebook resets it)."""
        where = f"{event.notebook}: cell {event.cell}/{event.total}"
        if not self.use_widgets:
            if event.cell == 0:
                self._status(f"Executing {event.notebook} ({event.total} code cells)")
            return
        import ipywidgets
        from IPython.display import display

        if self._cell_bar is None:
            self._cell_bar = ipywidgets.IntProgress(min=0, max=1, value=0)
            self._cell_label = ipywidgets.HTML()
            row = ipywidgets.HBox([self._cell_bar, self._cell_label])
            if self._box is None:  # a notebook run outside a pipeline: no stage bar
                self._box = ipywidgets.VBox([row])
                display(self._box)
            else:
                self._box.children = (*self._box.children, row)
        if event.notebook != self._notebook:
            self._notebook = event.notebook
            self._cell_bar.bar_style = ""
        self._cell_bar.max = max(event.total, 1)
        self._cell_bar.value = max(0, min(event.cell, self._cell_bar.max))
        self._cell_bar.description = f"cell {event.cell}/{event.total}"
        if event.total and event.cell >= event.total:
            self._cell_bar.bar_style = "success"
        self._cell_label.value = f"<code>{html.escape(where)}</code>"
