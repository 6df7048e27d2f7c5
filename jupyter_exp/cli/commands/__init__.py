"""The registry of ``jupyter exp`` commands: one module per command (or command group).

A command module defines ``register(subparsers, parents)``, which adds its parser and
sets ``run=`` to a function ``run(args, ui) -> int``. Adding a command is: write the
module, add its name to :data:`COMMANDS`. Modules import the engine inside ``run`` so
building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...api import Project
    from ...events import EventSink

# In the order `jupyter exp --help` lists them.
COMMANDS: tuple[str, ...] = (
    "init",
    "add",
    "repro",
    "status",
    "dag",
    "notebook",
    "stage",
    "run",
    "queue",
    "save",
    "show",
    "notebooks",
    "diff",
    "apply",
    "branch",
    "remove",
    "push",
    "pull",
    "ls",  # the `list` command (a module named list would shadow the builtin here)
    "demo",
)

Subparsers = Any  # argparse's private _SubParsersAction
RunFunction = Callable[[argparse.Namespace, Any], int]


# Commands whose module has another name (`list` would shadow the built-in here).
MODULE_OF: dict[str, str] = {"list": "ls"}


def command_names() -> list[str]:
    """Every command as the user types it, in :data:`COMMANDS` order."""
    typed = {module: command for command, module in MODULE_OF.items()}
    return [typed.get(module, module) for module in COMMANDS]


def module_for(command: str) -> str | None:
    """The module defining ``command`` (as typed by the user), None if unknown."""
    module = MODULE_OF.get(command, command)
    return module if module in COMMANDS else None


def register_all(
    subparsers: Subparsers,
    parents: Sequence[argparse.ArgumentParser],
    only: str | None = None,
) -> None:
    """Add every command of :data:`COMMANDS` to ``subparsers`` (or just module ``only``).

    Building every parser costs tens of milliseconds; a run that names its command
    builds that one alone.
    """
    for name in (only,) if only else COMMANDS:
        import_module(f"{__name__}.{name}").register(subparsers, parents)


def add_command(
    subparsers: Subparsers,
    parents: Sequence[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    run: RunFunction,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """Add a sub-command parser with the shared options and formatting."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        parents=list(parents),
        help=help,
        description=description or help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def open_project(on_event: EventSink | None = None) -> Project:
    """The project containing the current directory (imports the engine)."""
    from ...api import Project

    return Project(".", on_event=on_event)


def cwd_relative(project: Project, repo_paths: Sequence[str]) -> list[str]:
    """Repo-relative paths as the user would type them from the current directory."""
    root = Path(project.root)
    return [os.path.relpath(root / p) for p in repo_paths]
