"""Turn anything a command raised into one line on stderr and an exit code.

=====================================  =========================================
what                                   exit code
=====================================  =========================================
:class:`~jupyter_exp.errors.JupyterExpError`  its ``exit_code`` (a failed stage: the
                                       command's own status)
``KeyboardInterrupt`` (Ctrl+C)         130
argparse usage error                   2 (argparse itself)
anything else (a bug)                  255, and a hint to re-run with ``-v``
=====================================  =========================================

Tracebacks are printed only with ``-v``.
"""

from __future__ import annotations

import os
import sys

from ..errors import JupyterExpError
from .render import UI

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
EXIT_UNEXPECTED = 255


def report_error(error: BaseException, ui: UI) -> int:
    """Print ``error`` as one ``ERROR:`` line (with a traceback if verbose); return the code."""
    if isinstance(error, BrokenPipeError):
        return _broken_pipe()
    if ui.verbose:
        import traceback  # only with -v: it costs a few ms at start-up

        traceback.print_exception(error, file=ui.err)
    if isinstance(error, JupyterExpError):
        ui.error(str(error))
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        ui.error("interrupted by the user")
        return EXIT_INTERRUPTED
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    hint = "" if ui.verbose else " (re-run with -v to see the traceback)"
    ui.error(f"unexpected error: {detail}{hint}")
    return EXIT_UNEXPECTED


def _broken_pipe() -> int:
    """The reader went away (``jupyter exp dag | head``): stop quietly, as a shell tool."""
    # Point stdout at /dev/null so the interpreter's final flush does not raise again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE
