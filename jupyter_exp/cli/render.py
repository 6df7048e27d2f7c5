"""Terminal output of the CLI: messages, engine events, status and summaries.

Two modes. When stdout is a terminal, lines are styled with rich (imported on the first
styled line, never at start-up). Otherwise (pipes, CI, tests) lines are plain text
that reads like DVC's own output. Stage output is never reformatted: each chunk is
written to our stdout/stderr as it arrives, so progress bars and prompts of the user's
command look as they would without us.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    # Types only: events are dispatched on their ``kind`` so that ``--help`` and
    # ``--version`` never pay for importing the event dataclasses.
    from rich.console import Console

    from ..events import (
        CheckpointTaken,
        DataSourceChecked,
        Event,
        HashingProgress,
        LockfileUpdated,
        NotebookCellProgress,
        StageCompleted,
        StageFailed,
        StageOutput,
        StageRestored,
        StageSkipped,
        StageStarted,
    )

UP_TO_DATE = "Data and pipelines are up to date."
EMPTY_PROJECT = (
    "There are no data or pipelines tracked in this project yet.\n"
    "Write a dvc.yaml (see `jupyter exp demo`) or track data with `jupyter exp add`."
)


def _wants_style(stream: TextIO) -> bool:
    """True for an interactive terminal that can show styles (and NO_COLOR is unset)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class UI:
    """Where the CLI writes: results to stdout, errors to stderr, ``quiet`` aware.

    ``quiet`` drops everything but errors (and a stage's own stderr); ``verbose`` is
    read by the error reporter to print tracebacks.
    """

    def __init__(
        self,
        *,
        quiet: bool = False,
        verbose: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.styled = _wants_style(self.out)
        self._console: Console | None = None
        # Did the last thing written to stdout end a line? Stage output may not.
        self._line_open = False

    # --- writing -------------------------------------------------------------------------

    def _rich(self) -> Console:
        if self._console is None:
            from rich.console import Console  # lazily: ~30 ms we only pay on a terminal

            self._console = Console(
                file=self.out, highlight=False, markup=False, emoji=False, soft_wrap=True
            )
        return self._console

    def write(self, text: str = "", *, style: str | None = None) -> None:
        """One or more lines of our own output (suppressed by ``-q``)."""
        if self.quiet:
            return
        self._close_line()
        if style and self.styled:
            self._rich().print(text, style=style)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def data(self, text: str) -> None:
        """Machine-readable output (``--json``): printed even with ``-q``, never styled."""
        self._close_line()
        self.out.write(text + "\n")
        self.out.flush()

    def stream(self, name: str, text: str) -> None:
        """A chunk of a stage's own output, written through unchanged."""
        if name == "stderr":
            self.err.write(text)
            self.err.flush()
            return
        if self.quiet:
            return
        self.out.write(text)
        self.out.flush()
        self._line_open = not text.endswith("\n")

    def _close_line(self) -> None:
        if self._line_open:
            self.out.write("\n")
            self._line_open = False

    def warn(self, text: str) -> None:
        """``WARNING: text`` on stderr (suppressed by ``-q``)."""
        if not self.quiet:
            self._close_line()
            self.out.flush()
            self.err.write(f"WARNING: {text}\n")
            self.err.flush()

    def error(self, text: str) -> None:
        """``ERROR: text`` on stderr, always."""
        self._close_line()
        self.out.flush()
        if _wants_style(self.err):
            self.err.write(f"\x1b[31mERROR\x1b[0m: {text}\n")
        else:
            self.err.write(f"ERROR: {text}\n")
        self.err.flush()

    def confirm(self, question: str) -> bool:
        """Ask ``question [y/n]`` on the terminal; end of input means no."""
        self._close_line()
        while True:
            self.out.write(f"{question} [y/n] ")
            self.out.flush()
            line = sys.stdin.readline()
            if not line:
                self.out.write("\n")
                return False
            answer = line.strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.out.write("Your response must be one of: yes, no, y, n. Please try again.\n")


def format_duration(seconds: float) -> str:
    """``0.42s``, ``12.3s``, ``2m05s``."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


class ReproRenderer:
    """An :data:`~jupyter_exp.events.EventSink` printing a reproduction like ``dvc repro``.

    DVC's own lines (``Running stage 'x':``, ``> cmd``, ``Stage 'x' didn't change,
    skipping``, ``Updating lock file 'dvc.lock'``) plus one progress line per finished
    stage: ``[2/5] Stage 'train' done in 0.42s``.
    """

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self._positions: dict[str, str] = {}
        self._gap = False  # DVC separates the block of a stage that ran from the next
        self._hashing = False

    def __call__(self, event: Event) -> None:
        handler = self._handlers.get(event.kind)
        if handler is not None:
            handler(self, event)

    # --- handlers ------------------------------------------------------------------------

    def _block(self) -> None:
        self._end_hashing()
        if self._gap:
            self.ui.write()
            self._gap = False

    def _started(self, event: StageStarted) -> None:
        self._block()
        position = f"[{event.index}/{event.total}] " if event.total else ""
        self._positions[event.stage] = position
        if self.ui.styled and position:
            self.ui.write(f"{position}Running stage '{event.stage}':", style="bold")
        else:
            self.ui.write(f"Running stage '{event.stage}':", style="bold")
        if self.ui.verbose and event.reasons:
            for reason in event.reasons:
                self.ui.write(f"  because {reason}", style="dim")
        self.ui.write(f"> {event.cmd}", style="dim")
        self._gap = True

    def _output(self, event: StageOutput) -> None:
        self._end_hashing()  # a transient progress line must not run into the output
        self.ui.stream(event.stream, event.text)

    def _skipped(self, event: StageSkipped) -> None:
        self._block()
        name = event.stage
        if event.reason in ("unchanged", "frozen", "missing-data"):
            self.ui.write(f"Stage '{name}' didn't change, skipping")
        elif event.reason == "declined":
            self.ui.write(f"Stage '{name}' skipped: declined", style="yellow")
        elif event.reason == "upstream-failed":
            self.ui.write(f"Stage '{name}' skipped: an upstream stage failed", style="yellow")
        elif event.reason == "dry":
            self.ui.write(f"Stage '{name}' would run (dry run)")

    def _restored(self, event: StageRestored) -> None:
        self._block()
        if event.source == "run-cache":
            # Said plainly: the command did NOT run, its outputs came from the run-cache.
            self.ui.write(
                f"Stage '{event.stage}' is cached - skipping run, checking out outputs",
                style="cyan",
            )
        else:
            self.ui.write(
                f"Stage '{event.stage}' didn't change, checking out its outputs from the cache",
                style="cyan",
            )
        self._gap = True

    def _completed(self, event: StageCompleted) -> None:
        position = self._positions.get(event.stage, "")
        done = f"{position}Stage '{event.stage}' done in {format_duration(event.duration)}"
        if self.ui.styled:
            self.ui.write(f"✔ {done}", style="green")
        else:
            self.ui.write(done)
        self._gap = True

    def _failed(self, event: StageFailed) -> None:
        position = self._positions.get(event.stage, "")
        self.ui.write(f"{position}Stage '{event.stage}' failed", style="bold red")
        self._gap = True

    def _source(self, event: DataSourceChecked) -> None:
        self._block()
        if event.changed:
            self.ui.write(f"Data source '{event.path}' changed, saved the new version")
            self._gap = True
        else:
            self.ui.write(f"'{event.path}' didn't change, skipping")

    def _lockfile(self, event: LockfileUpdated) -> None:
        self.ui.write(f"Updating lock file '{event.path}'")

    def _hashing_progress(self, event: HashingProgress) -> None:
        # A transient line on a terminal only; logs and pipes do not need it.
        if self.ui.quiet or not _wants_style(self.ui.err):
            return
        self.ui.err.write(f"\r\x1b[KHashing '{event.path}': {event.done}/{event.total} files")
        self.ui.err.flush()
        self._hashing = event.done < event.total
        if not self._hashing:
            self._end_hashing(force=True)

    def _end_hashing(self, force: bool = False) -> None:
        if self._hashing or force:
            self.ui.err.write("\r\x1b[K")
            self.ui.err.flush()
            self._hashing = False

    def _notebook_progress(self, event: NotebookCellProgress) -> None:
        # Like hashing: a transient line on a terminal; one line per cell with -v elsewhere.
        if self.ui.quiet:
            return
        text = f"Notebook '{event.notebook}': cell {event.cell}/{event.total}"
        if _wants_style(self.ui.err):
            self.ui.err.write(f"\r\x1b[K{text}")
            self.ui.err.flush()
            self._hashing = event.cell < event.total
            if not self._hashing:
                self._end_hashing(force=True)
        elif self.ui.verbose:
            self.ui.write(text)

    def _checkpoint(self, event: CheckpointTaken) -> None:
        self._end_hashing()
        self.ui.write(
            f"Checkpoint {event.count} of stage '{event.stage}' recorded "
            f"({format_duration(event.duration)})",
            style="cyan",
        )

    _handlers: dict[str, Any] = {
        "stage-started": _started,
        "stage-output": _output,
        "stage-skipped": _skipped,
        "stage-restored": _restored,
        "stage-completed": _completed,
        "stage-failed": _failed,
        "data-source-checked": _source,
        "lockfile-updated": _lockfile,
        "hashing-progress": _hashing_progress,
        "notebook-cell-progress": _notebook_progress,
        "checkpoint-taken": _checkpoint,
    }


# --- status ------------------------------------------------------------------------------

_STATUS_WIDTH = 20


def format_status(report: dict[str, Any]) -> list[str]:
    """``dvc status`` text layout of a ``dvc status --json`` mapping.

    ``{"train": [{"changed deps": {"params.yaml": {"train.lr": "modified"}}}]}`` gives::

        train:
        \tchanged deps:
        \t\tparams.yaml:
        \t\t\tmodified:           train.lr
    """
    lines: list[str] = []

    def show(value: Any, indent: int) -> None:
        tabs = "\t" * indent
        if isinstance(value, str):
            lines.append(tabs + value)
        elif isinstance(value, list):
            for item in value:
                show(item, indent)
        elif isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, str):
                    lines.append(f"{tabs}{(inner + ':').ljust(_STATUS_WIDTH)}{key}")
                elif inner:
                    lines.append(f"{tabs}{key}:")
                    show(inner, indent + 1)

    show(report, 0)
    return lines


def git_add_hint(paths: list[str]) -> list[str]:
    """DVC's hint after files Git should track were written."""
    return ["", "To track the changes with git, run:", "", "\tgit add " + " ".join(paths)]
