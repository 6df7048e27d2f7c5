"""``jupyter exp demo``: build the demo project and walk through it.

The walk-through is a list of small steps sharing a :class:`Demo` state, each printing
the command it stands for (``$ jupyter exp run -S train.lr=0.5``) and then its real
output: the baseline pipeline runs and is committed, two experiments with other
learning rates run (only the stages the param feeds re-run), and ``exp show`` compares
them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..render import UI, ReproRenderer
from . import Subparsers, add_command, open_project

if TYPE_CHECKING:
    from ...api import Project

# The experiments the demo runs: other learning rates, so only train and evaluate rerun.
EXPERIMENTS = (("lr-0.5", "train.lr=0.5"), ("lr-0.01", "train.lr=0.01"))


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``demo``."""
    parser = add_command(
        subparsers,
        parents,
        "demo",
        help="Create a small ML demo project, run experiments on it and compare them.",
        description=(
            "Create a small ML demo project (a Git repository with a prepare -> train ->\n"
            "evaluate pipeline in dvc.yaml), run and commit the baseline, run two\n"
            "experiments with other learning rates (only the affected stages run) and\n"
            "compare them with `exp show`."
        ),
        run=run,
    )
    parser.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="Where to create the project (missing or empty; default: a new temp dir).",
    )


@dataclass
class Demo:
    """What the steps share."""

    ui: UI
    root: Path
    project: Project

    def command(self, text: str) -> None:
        """Announce the command a step stands for."""
        self.ui.write()
        self.ui.write(f"$ {text}", style="bold cyan")

    def repro(self) -> None:
        """``jupyter exp repro`` with the usual terminal rendering."""
        self.project.repro(on_event=ReproRenderer(self.ui))


def show_pipeline(demo: Demo) -> None:
    """The stage graph."""
    demo.command("jupyter exp dag")
    demo.ui.write(demo.project.dag())


def run_baseline(demo: Demo) -> None:
    """First run: every stage executes."""
    demo.command("jupyter exp repro")
    demo.repro()


def commit_baseline(demo: Demo) -> None:
    """Record the results in Git, as a user would after a good run."""
    from ...demo import git_commit

    demo.command('git add -A && git commit -m "Baseline"')
    sha = git_commit(demo.root, "Baseline run of the demo pipeline")
    demo.ui.write(f"Committed {sha[:7]}: Baseline run of the demo pipeline")


def run_experiments(demo: Demo) -> None:
    """``exp run -S``: each experiment re-runs what its param feeds and becomes a Git ref."""
    for name, override in EXPERIMENTS:
        demo.command(f"jupyter exp run -S {override} -n {name}")
        result = demo.project.exp_run(params=[override], name=name, on_event=ReproRenderer(demo.ui))
        demo.ui.write(f"Ran experiment(s): {result.name}")


def show_experiments(demo: Demo) -> None:
    """``exp show``: the baseline and every experiment, params and metrics side by side."""
    from ..show_render import DEFAULT_PRECISION, render_terminal

    demo.command("jupyter exp show")
    # The demo hides its dependency hashes so the comparison fits a terminal.
    table = demo.project.exp_show_table(drop=["Created$", r"^(data|src)/", r"^model\.json$"])
    if not demo.ui.quiet:
        render_terminal(table, demo.ui, DEFAULT_PRECISION, pager=False)


def next_steps(demo: Demo) -> None:
    """Where the project is and what to try in it."""
    demo.ui.write()
    demo.ui.write(f"The demo project is in {demo.root}. Try:", style="bold")
    for hint in (
        f"cd {demo.root}",
        "jupyter exp show --sort-by test.accuracy --sort-order desc",
        "jupyter exp diff lr-0.01 lr-0.5",
        "jupyter exp apply lr-0.5",
        "jupyter exp dag --mermaid",
    ):
        demo.ui.write(f"  {hint}")
    demo.ui.write("Or in JupyterLab, where the Experiments sidebar shows them:", style="bold")
    demo.ui.write(f"  jupyter lab {demo.root}")
    demo.ui.write("  and in a notebook: %load_ext jupyter_exp, then %exp_show --widget")


STEPS: tuple[Callable[[Demo], None], ...] = (
    show_pipeline,
    run_baseline,
    commit_baseline,
    run_experiments,
    show_experiments,
    next_steps,
)


def run(args: argparse.Namespace, ui: UI) -> int:
    """Create the project (in DIR or a temp dir) and run every step in it."""
    from ...demo import create_demo_project

    target = args.dir or tempfile.mkdtemp(prefix="jupyter-exp-demo-")
    root = create_demo_project(target)
    ui.write(f"Created the demo project in {root}", style="bold")
    previous = os.getcwd()
    os.chdir(root)  # targets and printed paths are relative to the project, as for a user
    try:
        demo = Demo(ui=ui, root=root, project=open_project())
        for step in STEPS:
            step(demo)
    finally:
        os.chdir(previous)
    return 0
