"""``jupyter exp notebook``: execute a notebook with papermill, parameters from params files."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ...notebook import add_arguments
from ..render import UI, ReproRenderer, format_duration
from . import Subparsers, add_command

DESCRIPTION = """\
Execute a notebook with papermill, injecting the current value of params keys into
its 'parameters' cell (papermill adds an 'injected-parameters' cell after it).

  -p train.lr              sets lr from the key train.lr of params.yaml
  -p train.lr:rate         sets rate instead
  -p train                 sets one variable per key of the section train

Used as a stage's cmd in dvc.yaml, with the notebook in deps, the keys in params and
the executed notebook in outs, the stage runs under `dvc repro` too; `jupyter exp repro`
runs it in-process (see `jupyter exp stage add --notebook`)."""


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``notebook``."""
    parser = add_command(
        subparsers,
        parents,
        "notebook",
        help="Execute a notebook with papermill, with parameters from params files.",
        description=DESCRIPTION,
        run=run,
    )
    add_arguments(parser)


def run(args: argparse.Namespace, ui: UI) -> int:
    """Execute the notebook, streaming its cells' output; a failing cell raises."""
    from ...notebook import request_from_args
    from ...notebook.execute import execute_notebook

    request = request_from_args(args)
    done = execute_notebook(request, on_event=ReproRenderer(ui))
    ui.write(
        f"Executed '{done.notebook}' ({done.cells} cells) in "
        f"{format_duration(done.duration)}: '{done.output}'"
    )
    return 0
