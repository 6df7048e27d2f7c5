"""Notebooks as pipeline stages: ``jupyter exp notebook NOTEBOOK [-o OUT] [-p KEY[:NAME]]...``.

The command is defined once, here: the CLI adds these arguments to its ``notebook``
sub-command, and the engine parses a stage's ``cmd`` with the same definition to
decide whether it can run the notebook in-process (:func:`parse_command`). A command
that does not parse exactly is left to the shell, where the CLI gives the same result.

Nothing here imports papermill; :mod:`.execute` does, when a notebook runs.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_PARAMS_FILE",
    "NotebookRequest",
    "ParamSpec",
    "add_arguments",
    "default_output",
    "parse_command",
    "request_from_args",
]

DEFAULT_PARAMS_FILE = "params.yaml"

# The command words that name our notebook command in a stage's ``cmd``.
PROGRAMS: tuple[tuple[str, ...], ...] = (
    ("jupyter", "exp", "notebook"),
    ("jupyter-exp", "notebook"),
)

# A dotted params key (``train.lr``, ``layers.0``), optionally ``:NAME``.
_SPEC = re.compile(r"^(?P<key>[^.:\s]+(?:\.[^.:\s]+)*)(?::(?P<name>[^.:\s]+))?$")


@dataclass(frozen=True)
class ParamSpec:
    """One ``-p KEY[:NAME]``: inject params key ``key`` as the notebook variable ``name``.

    Without ``name`` a scalar goes in under the key's last part (``train.lr`` -> ``lr``)
    and a section (a mapping) goes in as one variable per key of the section.
    """

    key: str
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> ParamSpec:
        """``"train.lr:learning_rate"`` -> ``ParamSpec("train.lr", "learning_rate")``.

        Raises :class:`argparse.ArgumentTypeError` (it is an argparse ``type=``).
        """
        match = _SPEC.match(text)
        if match is None:
            raise argparse.ArgumentTypeError(
                f"'{text}' is not KEY or KEY:NAME (a dotted params key, e.g. train.lr:lr)"
            )
        return cls(match["key"], match["name"])

    def __str__(self) -> str:
        return f"{self.key}:{self.name}" if self.name else self.key


@dataclass(frozen=True)
class NotebookRequest:
    """What ``jupyter exp notebook`` was asked to do; paths relative to its cwd."""

    notebook: str
    output: str
    params: tuple[ParamSpec, ...] = ()
    params_file: str = DEFAULT_PARAMS_FILE
    kernel: str | None = None

    def argv(self) -> list[str]:
        """The arguments after ``notebook`` that reproduce this request (defaults left out)."""
        args = [self.notebook]
        if self.output != default_output(self.notebook):
            args += ["-o", self.output]
        for spec in self.params:
            args += ["-p", str(spec)]
        if self.params_file != DEFAULT_PARAMS_FILE:
            args += ["--params-file", self.params_file]
        if self.kernel:
            args += ["--kernel", self.kernel]
        return args

    def command(self) -> str:
        """The shell command line, ``jupyter exp notebook ...``, quoted where needed."""
        return shlex.join(["jupyter", "exp", "notebook", *self.argv()])


def default_output(notebook: str) -> str:
    """``train.ipynb`` -> ``train.out.ipynb`` (next to the notebook)."""
    stem, ext = posixpath.splitext(notebook)
    return f"{stem}.out{ext}" if ext == ".ipynb" else f"{notebook}.out.ipynb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``jupyter exp notebook`` (shared by the CLI and the engine)."""
    parser.add_argument("notebook", metavar="NOTEBOOK", help="The notebook to execute.")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        default=None,
        help="Where to write the executed notebook (default: NOTEBOOK.out.ipynb).",
    )
    parser.add_argument(
        "-p",
        "--param",
        dest="params",
        metavar="KEY[:NAME]",
        action="append",
        type=ParamSpec.parse,
        default=[],
        help=(
            "Inject the current value of params key KEY into the notebook's parameters "
            "cell, as its last part (train.lr -> lr) or as NAME; a section (train) injects "
            "each of its keys. Repeatable."
        ),
    )
    parser.add_argument(
        "--params-file",
        metavar="FILE",
        default=DEFAULT_PARAMS_FILE,
        help=f"Params file the keys are read from (default: {DEFAULT_PARAMS_FILE}).",
    )
    parser.add_argument(
        "--kernel",
        metavar="NAME",
        default=None,
        help="Jupyter kernel to run the notebook with (default: the notebook's own).",
    )


def request_from_args(args: argparse.Namespace) -> NotebookRequest:
    """The request from arguments parsed with :func:`add_arguments`."""
    return NotebookRequest(
        notebook=args.notebook,
        output=args.output or default_output(args.notebook),
        params=tuple(args.params),
        params_file=args.params_file,
        kernel=args.kernel,
    )


class _Refused(Exception):
    """The command is not exactly ours; leave it to the shell."""


class _StrictParser(argparse.ArgumentParser):
    """An argparse parser that raises instead of printing and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Refused(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise _Refused(message or "")


_STRICT: _StrictParser | None = None

# Anything the shell would expand or treat as an operator: such commands keep their
# shell semantics (quoted or not, to stay on the safe side).
_SHELL_SPECIAL = frozenset("$`\\;&|<>(){}*?[]~!#\n\r")


def parse_command(cmd: str) -> NotebookRequest | None:
    """The request if ``cmd`` is exactly ``jupyter exp notebook ...`` (or ``jupyter-exp``).

    None for anything else: other programs, shell syntax (pipes, ``&&``, variables,
    globs, redirections), options this command does not take, ``--help``.
    """
    if not cmd or _SHELL_SPECIAL.intersection(cmd):
        return None
    try:
        words = shlex.split(cmd)
    except ValueError:
        return None
    for program in PROGRAMS:
        if tuple(words[: len(program)]) == program:
            return _parse_args(words[len(program) :])
    return None


def _parse_args(args: Sequence[str]) -> NotebookRequest | None:
    global _STRICT
    if _STRICT is None:
        _STRICT = _StrictParser(prog="jupyter exp notebook", add_help=True)
        add_arguments(_STRICT)
    try:
        return request_from_args(_STRICT.parse_args(list(args)))
    except _Refused:
        return None
