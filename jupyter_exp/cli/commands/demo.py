"""``jupyter exp demo``: build the demo project and walk through it.

The walk-through is a list of small steps sharing a :class:`Demo` state, each printing
the command it stands for (``$ jupyter exp repro``) and then its real output. When
experiments arrive, "change a param and repro" becomes an ``exp run -S`` step and the
metrics comparison an ``exp show`` step, without touching the others.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..render import UI, ReproRenderer, format_status
from . import Subparsers, add_command, open_project

if TYPE_CHECKING:
    from ...api import Project

# The one change the demo makes: a larger learning rate, so only train and evaluate rerun.
CHANGED_PARAM = ("train.lr", 0.5)


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``demo``."""
    parser = add_command(
        subparsers,
        parents,
        "demo",
        help="Create a small ML demo project and run its pipeline.",
        description=(
            "Create a small ML demo project (a Git repository with a prepare -> train ->\n"
            "evaluate pipeline in dvc.yaml), reproduce it, change a param, reproduce\n"
            "again (only the affected stages run) and compare the metrics."
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
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

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
    from ...demo import read_metrics

    demo.command("jupyter exp repro")
    demo.repro()
    demo.metrics[_label(demo)] = read_metrics(demo.root)


def commit_baseline(demo: Demo) -> None:
    """Record the results in Git, as a user would after a good run."""
    from ...demo import git_commit

    demo.command('git add -A && git commit -m "Baseline"')
    sha = git_commit(demo.root, "Baseline run of the demo pipeline")
    demo.ui.write(f"Committed {sha[:7]}: Baseline run of the demo pipeline")


def change_param(demo: Demo) -> None:
    """Edit params.yaml: only the stages that use the param become stale."""
    from ...demo import set_param

    key, value = CHANGED_PARAM
    previous = set_param(demo.root, key, value)
    demo.command(f"edit params.yaml: {key}: {previous} -> {value}")


def show_status(demo: Demo) -> None:
    """What changed since the last run."""
    demo.command("jupyter exp status")
    for line in format_status(demo.project.status()):
        demo.ui.write(line)


def rerun(demo: Demo) -> None:
    """Second run: prepare is skipped, train and evaluate run."""
    from ...demo import read_metrics

    demo.command("jupyter exp repro")
    demo.repro()
    demo.metrics[_label(demo)] = read_metrics(demo.root)


def compare_metrics(demo: Demo) -> None:
    """Metrics of every recorded run side by side."""
    demo.command("compare metrics")
    for line in metrics_table(demo.metrics):
        demo.ui.write(line)


def next_steps(demo: Demo) -> None:
    """Where the project is and what to try in it."""
    demo.ui.write()
    demo.ui.write(f"The demo project is in {demo.root}. Try:", style="bold")
    for hint in (
        f"cd {demo.root}",
        "jupyter exp status",
        "jupyter exp repro --force train",
        "jupyter exp dag --mermaid",
    ):
        demo.ui.write(f"  {hint}")


STEPS: tuple[Callable[[Demo], None], ...] = (
    show_pipeline,
    run_baseline,
    commit_baseline,
    change_param,
    show_status,
    rerun,
    compare_metrics,
    next_steps,
)


def _label(demo: Demo) -> str:
    from ...core.yamlio import load_yaml

    path = demo.root / "params.yaml"
    params: dict[str, Any] = load_yaml(path.read_text(), str(path)) or {}
    key = CHANGED_PARAM[0]
    section, _, name = key.partition(".")
    return f"{key}={params.get(section, {}).get(name)}"


def metrics_table(runs: dict[str, dict[str, float]]) -> list[str]:
    """A plain-text table: one row per metric, one column per run."""
    names = list(dict.fromkeys(name for values in runs.values() for name in values))
    header = ["metric", *runs]
    rows = [[name, *(_number(values.get(name)) for values in runs.values())] for name in names]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


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
