"""``jupyter exp add``: track files or directories with DVC (``*.dvc`` files)."""

from __future__ import annotations

import argparse
import os
import posixpath
from collections.abc import Sequence

from ..render import UI, git_add_hint
from . import Subparsers, add_command, cwd_relative, open_project


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``add``."""
    parser = add_command(
        subparsers,
        parents,
        "add",
        help="Track data files or directories with DVC.",
        description=(
            "Track data files or directories with DVC: save them in the cache, write\n"
            "PATH.dvc next to each and ignore PATH in Git, as `dvc add` does."
        ),
        run=run,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="Files or directories to track.")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Track ``args.paths`` and print what to ``git add``."""
    project = open_project()
    # The user typed paths relative to where they stand, not to the project root.
    written = project.add([os.path.abspath(p) for p in args.paths])
    to_stage = list(written)
    for dvcfile in written:
        # `add` ignores the data in the .gitignore next to it; Git should track that too.
        gitignore = posixpath.join(posixpath.dirname(dvcfile), ".gitignore")
        if (project.root / gitignore).exists() and gitignore not in to_stage:
            to_stage.append(gitignore)
    for line in git_add_hint(cwd_relative(project, to_stage))[1:]:
        ui.write(line)
    return 0
