"""Entry point of ``jupyter exp`` / ``jupyter-exp``: parse, dispatch, map errors.

Start-up time is part of the interface (a no-op ``repro`` should feel instant), so this
module imports only the standard library's argparse plus our small command modules;
the engine is imported by the command that needs it, and rich only when a styled line
is printed on a terminal.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from .._version import __version__
from ..lean_imports import skip_unused_imports
from .commands import module_for, register_all
from .errors import report_error
from .render import UI

PROG = "jupyter exp"

DESCRIPTION = """\
Experiment versioning for Jupyter on DVC 3's formats: reproduce dvc.yaml pipelines,
check their status, draw their graph and track data, in any DVC project.
"""


def add_global_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``-v``/``-q``, accepted both before and after the command name.

    On sub-commands the defaults are suppressed, so ``jupyter exp -v repro`` is not
    reset to non-verbose by the sub-parser (an argparse pitfall).
    """
    default: object = False if top_level else argparse.SUPPRESS
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="Show tracebacks and why each stage runs.",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="Print nothing but errors (and the stages' own stderr).",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``jupyter exp`` parser with every registered command (or module ``only``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'jupyter exp COMMAND --help' for the options of a command.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"jupyter-exp {__version__}")
    add_global_options(parser, top_level=True)
    common = argparse.ArgumentParser(add_help=False)
    add_global_options(common, top_level=False)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    register_all(subparsers, [common], only)
    return parser


def _command_module(argv: Sequence[str]) -> str | None:
    """The module of the command ``argv`` names, when it can be told without parsing.

    Global options take no values, so the first word not starting with ``-`` is the
    command. Anything unusual (no command, unknown name) gets the full parser, whose
    help and error messages list every command.
    """
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return module_for(word)
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl+C so a running stage's process group is stopped too."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jupyter exp ARGV`` and return the exit status (see :mod:`.errors`)."""
    words = sys.argv[1:] if argv is None else list(argv)
    if argv is None:  # our own process (not main() called from someone's Python)
        skip_unused_imports()
    parser = build_parser(_command_module(words))
    try:
        args = parser.parse_args(words)
    except SystemExit as done:  # --help, --version, or a usage error (status 2)
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    ui = UI(quiet=args.quiet, verbose=args.verbose)
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (main() embedded in a server): leave it be
        previous = None
    try:
        return int(args.run(args, ui) or 0)
    except Terminated:
        ui.error("terminated")
        return 128 + signal.SIGTERM
    except (Exception, KeyboardInterrupt) as error:
        return report_error(error, ui)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
