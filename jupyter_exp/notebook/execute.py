"""Execute a notebook with papermill in this process, reporting progress as events.

The steps are papermill's own (``papermill.execute_notebook``): load, inject the
parameters cell, record the paths in the notebook's metadata, run every cell with
nbclient, mark the failing cell. We call them one by one instead of the one-shot
function for three reasons: the kernel gets the stage's working directory and
environment without ``os.chdir`` of this whole process; progress, cell output and
papermill's warnings leave as events instead of tqdm bars and log lines; and failures
become :mod:`jupyter_exp.errors` with the cell, the exception and the traceback's end.

papermill, nbclient and jupyter_client are imported when a notebook runs (about half
a second once per process), never when this module is imported.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import (
    InvalidArgumentError,
    KernelNotFoundError,
    MissingDependencyError,
    NotebookCellError,
    NotebookError,
)
from ..events import EventSink, NotebookCellProgress, StageOutput, ignore_events
from . import NotebookRequest
from .params import read_params, resolve_parameters

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["DEFAULT_KERNEL", "NotebookRun", "execute_notebook"]

# The kernel for notebooks whose metadata names none (e.g. built with nbformat).
DEFAULT_KERNEL = "python3"
# nbclient skips code cells carrying this tag (its ``skip_cells_with_tag`` default).
_SKIP_TAG = "skip-execution"


class Cancellable(Protocol):
    """What a run is stopped with (:class:`~jupyter_exp.core.cancel.CancelToken`)."""

    @property
    def cancelled(self) -> bool: ...


# How many lines of the kernel's traceback the error keeps.
_TRACEBACK_LINES = 8
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class NotebookRun:
    """A notebook that ran to its end."""

    notebook: str
    output: str
    kernel: str
    parameters: dict[str, Any] = field(default_factory=dict)
    cells: int = 0
    duration: float = 0.0


def execute_notebook(
    request: NotebookRequest,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    stage: str | None = None,
    on_event: EventSink = ignore_events,
    cmd: str | None = None,
    start_timeout: float = 60.0,
    cancel: Cancellable | None = None,
) -> NotebookRun:
    """Run ``request`` with papermill; the kernel runs in ``cwd`` with ``env``.

    Paths of ``request`` are relative to ``cwd`` (default: the current directory);
    ``env`` defaults to this process's environment. Emits
    :class:`~jupyter_exp.events.NotebookCellProgress` (cell 0 of N, then after each
    code cell) and the cells' stdout/stderr as
    :class:`~jupyter_exp.events.StageOutput`. The executed notebook is written to
    ``request.output`` as cells finish, so a failed run leaves the partial notebook.

    Raises :class:`NotebookCellError` when a cell raises or the kernel dies,
    :class:`KernelNotFoundError`, :class:`ParamsFileError`/:class:`MissingParamError`
    for bad ``-p`` keys, and ``KeyboardInterrupt`` after stopping the kernel. Once
    ``cancel`` (a :class:`~jupyter_exp.core.cancel.CancelToken`) is cancelled, the
    kernel is interrupted, then killed if the cell does not stop within a grace period;
    the run then fails as a dead or interrupted kernel does.
    """
    started = time.monotonic()
    base = Path(cwd) if cwd is not None else Path.cwd()
    source = base / request.notebook
    if not source.is_file():
        if stage is not None:
            raise MissingDependencyError(request.notebook, stage=stage)
        raise InvalidArgumentError(
            f"notebook '{request.notebook}' does not exist", argument="NOTEBOOK"
        )
    facts = {"notebook": request.notebook, "stage": stage, "cmd": cmd}
    nb = _load(source, facts)
    kernel, language = _kernel_for(nb, request.kernel, facts)
    parameters: dict[str, Any] = {}
    if request.params:
        data = read_params(base / request.params_file, display=request.params_file)
        parameters = resolve_parameters(
            request.params, data, path=request.params_file, python_names=language == "python"
        )

    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.parameterize import parameterize_notebook

    with _papermill_log(on_event, stage or ""):
        if parameters:
            nb = parameterize_notebook(nb, parameters, kernel_name=kernel, language=language)
    nb = prepare_notebook_metadata(nb, request.notebook, request.output)
    nb = remove_error_markers(nb)
    target = base / request.output
    target.parent.mkdir(parents=True, exist_ok=True)
    progress = _Progress(nb, stage or "", request.notebook, on_event)
    progress.report()
    kernels: list[Any] = []  # the stage's kernel manager, once started (for cancel)
    with _stop_kernel_on_cancel(cancel, kernels):
        nb = _run(
            nb, kernel, target, base, env, progress, start_timeout, facts, request.output, kernels
        )
    from papermill.iorw import write_ipynb

    write_ipynb(nb, str(target))
    return NotebookRun(
        notebook=request.notebook,
        output=request.output,
        kernel=kernel,
        parameters=parameters,
        cells=progress.total,
        duration=time.monotonic() - started,
    )


def _load(path: Path, facts: dict[str, Any]) -> NotebookNode:
    from papermill.iorw import load_notebook_node

    try:
        return load_notebook_node(str(path))
    except Exception as exc:  # nbformat's NotJSONError, ValidationError, KeyError...
        raise NotebookError(f"is not a readable notebook: {exc}", **facts) from exc


def _kernel_for(nb: NotebookNode, requested: str | None, facts: dict[str, Any]) -> tuple[str, str]:
    """The kernel name to start and the notebook's language (for the parameters cell)."""
    from jupyter_client.kernelspec import NoSuchKernel

    spec_meta = nb.metadata.get("kernelspec", {})
    name = requested or spec_meta.get("name") or DEFAULT_KERNEL
    manager = _kernel_spec_manager()
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        raise KernelNotFoundError(name, list(manager.find_kernel_specs()), **facts) from None
    language = (
        spec_meta.get("language")
        or nb.metadata.get("language_info", {}).get("name")
        or spec.language
        or "python"
    )
    return name, str(language).lower()


class _Progress:
    """nbclient hooks: count code cells as they run and report them as events."""

    def __init__(self, nb: NotebookNode, stage: str, notebook: str, on_event: EventSink) -> None:
        self.stage = stage
        self.notebook = notebook
        self.emit = on_event
        self.order = {i: n for n, i in enumerate(_runnable(nb), start=1)}
        self.total = len(self.order)
        self.done = 0
        self.running = 0

    def report(self) -> None:
        self.emit(NotebookCellProgress(self.stage, self.notebook, self.done, self.total))

    def on_cell_execute(self, cell: Any, cell_index: int) -> None:
        self.running = self.order.get(cell_index, self.done + 1)

    def on_cell_executed(self, cell: Any, cell_index: int, execute_reply: Any) -> None:
        if (execute_reply or {}).get("content", {}).get("status") == "ok":
            self.done = self.running
            self.report()

    def output(self, stream: str) -> _EventStream:
        return _EventStream(self.stage, stream, self.emit)


def _runnable(nb: NotebookNode) -> list[int]:
    """Indexes of the cells nbclient will execute (as its ``async_execute_cell`` decides)."""
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and cell.source.strip()
        and _SKIP_TAG not in cell.metadata.get("tags", [])
    ]


class _EventStream:
    """A file-like ``write`` papermill calls with cell output: forwarded as events."""

    def __init__(self, stage: str, name: str, on_event: EventSink) -> None:
        self.stage = stage
        self.name = name
        self.emit = on_event

    def write(self, text: str) -> int:
        if text:
            self.emit(StageOutput(stage=self.stage, stream=self.name, text=text))  # type: ignore[arg-type]
        return len(text)

    def flush(self) -> None:
        pass


def _run(
    nb: NotebookNode,
    kernel: str,
    target: Path,
    cwd: Path,
    env: Mapping[str, str] | None,
    progress: _Progress,
    start_timeout: float,
    facts: dict[str, Any],
    output: str,
    kernels: list[Any],
) -> NotebookNode:
    """Execute every cell; the notebook is saved to ``target`` as it goes. The kernel
    manager is appended to ``kernels`` when its kernel has started."""
    from nbclient.exceptions import DeadKernelError
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors

    try:
        with _papermill_log(progress.emit, progress.stage):
            nb = papermill_engines.execute_notebook_with_engine(
                None,
                nb,
                kernel_name=kernel,
                output_path=str(target),
                progress_bar=False,
                log_output=False,
                start_timeout=start_timeout,
                stdout_file=progress.output("stdout"),
                stderr_file=progress.output("stderr"),
                # nbclient options papermill passes through:
                shutdown_kernel="immediate",  # graceful shutdown can stall ~3 s
                kernel_manager_class=_kernel_manager_class(cwd, env, kernels),
                on_cell_execute=progress.on_cell_execute,
                on_cell_executed=progress.on_cell_executed,
            )
        raise_for_execution_errors(nb, str(target))
    except PapermillExecutionError as exc:
        tail = _traceback_tail(exc.traceback)
        if tail:
            progress.emit(StageOutput(progress.stage, "stderr", "\n".join(tail) + "\n"))
        raise NotebookCellError(
            cell=progress.order.get(exc.cell_index, progress.running),
            total=progress.total,
            ename=exc.ename,
            evalue=exc.evalue,
            traceback=tail,
            output=output,
            **facts,
        ) from None
    except DeadKernelError as exc:
        raise NotebookCellError(
            cell=progress.running,
            total=progress.total,
            ename="DeadKernelError",
            evalue=str(exc),
            output=output,
            **facts,
        ) from None
    except RuntimeError as exc:  # e.g. "Kernel didn't respond in 60 seconds"
        raise NotebookError(f"failed: {exc}", output=output, **facts) from exc
    return nb


def _kernel_spec_manager() -> Any:
    """jupyter_client's KernelSpecManager, told where kernels are.

    Its default search path asks IPython for ``~/.ipython/kernels``, importing all of
    IPython (~0.35 s) just for that; the same folders are listed here without it.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_path

    ipython_dir = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
    return KernelSpecManager(
        kernel_dirs=[*jupyter_path("kernels"), os.path.join(ipython_dir, "kernels")]
    )


def _kernel_manager_class(
    cwd: Path, env: Mapping[str, str] | None, started: list[Any] | None = None
) -> type:
    """An AsyncKernelManager starting its kernel in ``cwd`` with ``env``; each manager
    whose kernel started is appended to ``started``.

    nbclient creates the manager from a class (and owns, hence shuts down, the kernel
    it starts), so the stage's directory and variables travel in a subclass.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    kernel_env = dict(os.environ if env is None else env)

    class StageKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> Any:
            return _kernel_spec_manager()

        if _curve_available():
            # Encrypt the kernel's sockets when its kernelspec supports it (ipykernel 7
            # warns on every start about plain TCP otherwise).
            transport_encryption = "auto"

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw.setdefault("cwd", str(cwd))
            kw.setdefault("env", dict(kernel_env))
            await super().start_kernel(**kw)
            if started is not None:
                started.append(self)

    return StageKernelManager


# How often a cancellable run looks at its token, and how long an interrupted cell may
# take to stop before its kernel is killed (seconds).
_CANCEL_POLL = 0.1
_INTERRUPT_GRACE = 3.0


@contextlib.contextmanager
def _stop_kernel_on_cancel(cancel: Cancellable | None, kernels: list[Any]) -> Iterator[None]:
    """While the body runs, a thread stops the kernels in ``kernels`` once ``cancel`` is
    cancelled: SIGINT first (the running cell raises KeyboardInterrupt), then SIGKILL
    after a grace period. nbclient then reports the failed cell or the dead kernel."""
    if cancel is None:
        yield
        return
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(_CANCEL_POLL):
            if cancel.cancelled:
                break
        else:
            return
        processes = [p for p in (_kernel_process(km) for km in kernels) if p is not None]
        for process in processes:
            with contextlib.suppress(OSError):
                process.send_signal(signal.SIGINT)
        if finished.wait(_INTERRUPT_GRACE):
            return
        for process in processes:
            with contextlib.suppress(OSError):
                process.kill()

    watcher = threading.Thread(target=watch, name="jupyter-exp-notebook-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()


def _kernel_process(manager: Any) -> Any:
    """The kernel's ``Popen`` (local kernels), or None."""
    provisioner = getattr(manager, "provisioner", None)
    process = getattr(provisioner, "process", None)
    return process if process is not None and process.poll() is None else None


def _curve_available() -> bool:
    """jupyter_client can provision CurveZMQ keys (8.10+) and libzmq supports them."""
    import zmq
    from jupyter_client.manager import KernelManager

    return hasattr(KernelManager, "transport_encryption") and bool(zmq.has("curve"))


def _traceback_tail(lines: list[str] | None) -> list[str]:
    """The end of a kernel traceback: its innermost frame and the exception, uncoloured."""
    text = _ANSI.sub("", "\n".join(lines or []))
    rows = [row.rstrip() for row in text.splitlines()]
    while rows and not rows[-1]:
        rows.pop()
    start = 0
    for i, row in enumerate(rows):
        if row.startswith(("Cell In[", "File ", "  File ")):
            start = i
    return [row for row in rows[start:] if row][-_TRACEBACK_LINES:]


class _LogToEvents(logging.Handler):
    """papermill/nbclient warnings as stderr lines of the stage, not as log output."""

    def __init__(self, stage: str, on_event: EventSink) -> None:
        super().__init__(logging.WARNING)
        self.stage = stage
        self.emit_event = on_event

    def emit(self, record: logging.LogRecord) -> None:
        text = f"papermill: {record.getMessage()}\n"
        self.emit_event(StageOutput(stage=self.stage, stream="stderr", text=text))


@contextlib.contextmanager
def _papermill_log(on_event: EventSink, stage: str) -> Iterator[None]:
    # With a handler on the logger, Python's last-resort stderr printing stays silent;
    # an application that configured logging (a Jupyter server) still gets the records.
    logger = logging.getLogger("papermill")
    handler = _LogToEvents(stage, on_event)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
