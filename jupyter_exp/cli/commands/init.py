"""``jupyter exp init``: create ``.dvc/`` in the current Git repository."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``init``."""
    add_command(
        subparsers,
        parents,
        "init",
        help="Initialize a DVC project (.dvc/) in the current Git repository.",
        description=(
            "Initialize a DVC project (.dvc/) in the current Git repository, as `dvc init`\n"
            "does. Other commands create .dvc/ on first use, so this is optional.\n"
            "Running it again is harmless."
        ),
        run=run,
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    """Create ``.dvc/`` (config, .gitignore, tmp/) if it does not exist."""
    project = open_project()
    if project.init():
        ui.write("Initialized DVC repository.")
        ui.write()
        ui.write("You can now commit the changes to git.")
    else:
        ui.write(f"'{project.root / '.dvc'}' already exists, nothing to do.")
    return 0
