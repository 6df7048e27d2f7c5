"""``%%checkpoint``: run a cell, then record the workspace as the next checkpoint.

The kernel is the experiment's process: the cell runs in it (its variables, its model in
memory), and once it ends the workspace (params, metrics, outputs of ``dvc.yaml``
stages, tracked files) is recorded by :meth:`jupyter_exp.Project.exp_checkpoint` as the
next checkpoint of the notebook's current experiment. A cell that raises or is
interrupted still records what the files held when it stopped, then re-raises. Inside
the cell, and later anywhere in the kernel, :func:`jupyter_exp.make_checkpoint` records
at once (see :mod:`jupyter_exp.checkpoints`, which keeps the current experiment of each
project in the kernel's memory).
"""

from __future__ import annotations

import ast
import html
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .arguments import parse, user_errors

if TYPE_CHECKING:
    from pathlib import Path

    from ..experiments.workspace_checkpoint import CheckpointResult

__all__ = ["CheckpointMagics", "CheckpointSummary"]


@magics_class
class CheckpointMagics(Magics):
    """The ``%%checkpoint`` cell magic (the kernel's cwd project)."""

    @magic_arguments()
    @argument(
        "-n",
        "--name",
        default=None,
        help="Experiment to record into: continued when HEAD has it, else created from HEAD "
        "(default: the notebook's current experiment, or a new one with a random name).",
    )
    @argument("-m", "--message", default=None, help="Commit message of the checkpoint.")
    @argument(
        "--reset",
        action="store_true",
        help="Start a new experiment from HEAD instead of continuing the current one.",
    )
    @argument(
        "-f",
        "--force",
        action="store_true",
        help="With --reset: replace the experiment -n names if it exists.",
    )
    @cell_magic
    def checkpoint(self, line: str, cell: str) -> Any:
        """Run the cell, then record the workspace as the next checkpoint of an experiment.

        The first checkpoint creates the experiment from HEAD; running the cell again
        appends the next checkpoint to it (a commit on the same ref, as the checkpoints of
        ``jupyter exp run``). A cell that raises or is interrupted still records what the
        files held when it stopped, then re-raises. ``jupyter_exp.make_checkpoint()``
        inside the cell records at once. The cell's value is its last expression's.
        """
        __tracebackhide__ = True  # IPython shows the cell's frames, not ours
        args = parse(self.checkpoint, line)
        root = self._follow(args)
        try:
            value = self._run(cell)
        except BaseException:
            with _interrupts_deferred():
                self._record_anyway(root)
            raise
        with _interrupts_deferred():
            self._record(root)
        return value

    # --- steps ---------------------------------------------------------------------------

    @user_errors
    def _follow(self, args: Any) -> Path:
        """Choose the experiment (checked now, before the cell runs) and follow it."""
        from ..api import Project
        from ..checkpoints import current_experiment, follow_experiment

        project = Project(os.getcwd())
        wanted = args.name or (None if args.reset else current_experiment(project.root))
        name = project.exp_checkpoint_target(wanted, reset=args.reset, force=args.force)
        follow_experiment(
            project.root, name, message=args.message, reset=args.reset, force=args.force
        )
        return project.root

    def _run(self, cell: str) -> Any:
        """Execute ``cell`` as IPython would (magics, ``!``), raising what it raises.

        Its last expression's value is returned. Tracebacks name the cell as IPython's
        own (``Cell In[N], line L``).
        """
        __tracebackhide__ = True
        shell = self.shell
        assert shell is not None
        source = shell.transform_cell(cell)
        filename = shell.compile.cache(source, shell.execution_count, raw_code=cell)
        tree = shell.transform_ast(shell.compile.ast_parse(source, filename=filename))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        glob, local = shell.user_global_ns, shell.user_ns
        exec(shell.compile(tree, filename, "exec"), glob, local)
        return None if last is None else eval(shell.compile(last, filename, "eval"), glob, local)

    @user_errors
    def _record(self, root: Path) -> None:
        self._show(root)

    def _record_anyway(self, root: Path) -> None:
        """After a failed cell: record, but let the cell's own error be the one raised."""
        try:
            self._show(root, stopped=True)
        except Exception as error:  # shown, not raised: the cell's error goes up
            print(f"Checkpoint not recorded: {error}", file=sys.stderr, flush=True)

    def _show(self, root: Path, *, stopped: bool = False) -> None:
        from IPython.display import display

        from ..checkpoints import follow_experiment, record_checkpoint

        result = record_checkpoint(root)
        follow_experiment(root, result.name)  # -m, --reset and -f were for this cell only
        display(CheckpointSummary(result, stopped=stopped))


class CheckpointSummary:
    """One line about a ``%%checkpoint``: experiment, checkpoint number, sha, metrics.

    ``result`` is the :class:`~jupyter_exp.experiments.workspace_checkpoint.CheckpointResult`.
    """

    def __init__(self, result: CheckpointResult, *, stopped: bool = False) -> None:
        self.result = result
        self.stopped = stopped
        self.metrics = {
            f"{path}:{key}": value
            for path, data in result.metrics.items()
            for key, value in _flatten(data).items()
        }

    def headline(self) -> str:
        """The line without the metrics."""
        result = self.result
        where = f"{result.number} of '{result.name}' ({result.sha[:7]})"
        if not result.recorded:
            return f"No change since checkpoint {where}: nothing recorded"
        after = " after the cell stopped" if self.stopped else ""
        return f"Checkpoint {where}{after}"

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={_number(v)}" for k, v in self.metrics.items())
        return self.headline() + (f": {shown}" if shown else "")

    def _repr_html_(self) -> str:
        shown = ", ".join(
            f"<code>{html.escape(k)}</code>={html.escape(_number(v))}"
            for k, v in self.metrics.items()
        )
        text = f"<b>{html.escape(self.headline())}</b>" + (f": {shown}" if shown else "")
        return f"<div class='jupyter-exp-checkpoint'>{text}</div>"


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _number(value: Any) -> str:
    return f"{value:.5g}" if isinstance(value, float) else str(value)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl+C (kernel interrupt) back until the checkpoint is recorded, then raise it.

    Only in the main thread, where Python delivers signals.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if caught:
        raise KeyboardInterrupt
