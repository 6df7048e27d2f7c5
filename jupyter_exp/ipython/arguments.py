"""Argument helpers shared by the magics: flag groups, parsing, errors, output."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument
from IPython.utils.process import arg_split

from ..errors import JupyterExpError

__all__ = [
    "REPRO_FLAGS",
    "arguments",
    "flag",
    "parse",
    "repro_flags",
    "rev_selection",
    "say",
    "user_errors",
]

F = Callable[..., Any]

# `jupyter exp repro`'s flags, shared by %exp_run (as `dvc exp run` shares them).
REPRO_FLAGS = (
    ("-f", "--force", "Reproduce even if dependencies were not changed."),
    ("-i", "--interactive", "Ask for confirmation before reproducing each stage."),
    ("-s", "--single-item", "Reproduce only single data item without recursive check."),
    ("-p", "--pipeline", "Reproduce the whole pipeline that the targets belong to."),
    ("-P", "--all-pipelines", "Reproduce all pipelines in the repo."),
    ("-R", "--recursive", "Reproduce all stages in the specified directory."),
    (None, "--downstream", "Start from the specified stages when reproducing pipelines."),
    (None, "--force-downstream", "Reproduce all descendants of a changed stage."),
    (None, "--allow-missing", "Skip stages with missing data but no other changes."),
    (None, "--dry", "Only print the commands that would be executed."),
    ("-k", "--keep-going", "Continue executing, skipping stages depending on failed ones."),
    (None, "--ignore-errors", "Ignore errors from stages."),
)


def arguments(*specs: tuple[tuple[str, ...], dict[str, Any]]) -> Callable[[F], F]:
    """Apply several ``@argument`` decorators (in the order given, as help shows them)."""

    def decorate(func: F) -> F:
        for names, kwargs in reversed(specs):
            func = argument(*names, **kwargs)(func)
        return func

    return decorate


def flag(*names: str, help: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    return names, {"action": "store_true", "default": False, "help": help}


def repro_flags() -> Callable[[F], F]:
    return arguments(
        *(flag(*[n for n in (short, long) if n], help=text) for short, long, text in REPRO_FLAGS)
    )


def rev_selection(verb: str) -> Callable[[F], F]:
    """``-A/--all-commits``, ``--rev``, ``-n/--num`` as ``jupyter exp show/remove/push``."""
    return arguments(
        flag("-A", "--all-commits", help=f"{verb} experiments of every commit."),
        (
            ("--rev",),
            {"action": "append", "default": None, "metavar": "COMMIT", "help": "Baseline(s)."},
        ),
        (
            ("-n", "--num"),
            {"type": int, "default": 1, "metavar": "NUM", "help": "First-parent commits back."},
        ),
    )


def user_errors(func: F) -> F:
    """Our errors become one-line ``UsageError``s (IPython prints them without traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JupyterExpError as error:
            raise UsageError(str(error)) from None

    return wrapper


def parse(magic: F, line: str) -> argparse.Namespace:
    """Parse ``line`` with shell quoting (``-S 'msg=a b'``); a bad option is a ``UsageError``.

    magic_arguments' own ``parse_argstring`` keeps the quotes in the values.
    """
    return magic.parser.parse_args(arg_split(line, posix=True))


def say(text: str) -> None:
    print(text, flush=True)
