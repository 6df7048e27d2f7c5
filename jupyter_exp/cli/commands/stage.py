"""``jupyter exp stage add --notebook NB -p KEY...``: write a notebook stage into dvc.yaml."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ...notebook import ParamSpec
from ..render import UI, git_add_hint
from . import Subparsers, add_command

ADD_DESCRIPTION = """\
Add a stage running a notebook to ./dvc.yaml (created if needed; comments and the
other stages are kept):

  stages:
    train:
      cmd: jupyter exp notebook train.ipynb -p train
      deps:
      - train.ipynb
      params:
      - train
      outs:
      - train.out.ipynb

The command is a plain one, so DVC runs the stage as well; `jupyter exp repro` runs
it in-process. Paths are relative to the current directory."""


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``stage`` and its sub-command ``add``."""
    parser = add_command(
        subparsers,
        parents,
        "stage",
        help="Add stages to dvc.yaml.",
        description="Add stages to dvc.yaml.",
        run=_no_subcommand,
    )
    actions = parser.add_subparsers(title="stage commands", metavar="COMMAND", dest="action")
    add = actions.add_parser(
        "add",
        parents=list(parents),
        help="Add a notebook stage to dvc.yaml.",
        description=ADD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.set_defaults(run=run_add)
    add.add_argument(
        "--notebook",
        required=True,
        metavar="NOTEBOOK",
        help="The notebook the stage executes (required).",
    )
    add.add_argument("-n", "--name", help="Stage name (default: the notebook's name).")
    add.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        help="The executed notebook, an output of the stage (default: NOTEBOOK.out.ipynb).",
    )
    add.add_argument(
        "-p",
        "--param",
        dest="params",
        metavar="KEY[:NAME]",
        action="append",
        type=ParamSpec.parse,
        default=[],
        help="A params key to inject (as in `jupyter exp notebook`) and track. Repeatable.",
    )
    add.add_argument("--params-file", metavar="FILE", help="Params file (default: params.yaml).")
    add.add_argument("--kernel", metavar="NAME", help="Jupyter kernel to use.")
    add.add_argument(
        "-d", "--deps", action="append", default=[], metavar="PATH", help="Extra dependency."
    )
    add.add_argument(
        "--outs", action="append", default=[], metavar="PATH", help="Extra output (cached)."
    )
    add.add_argument(
        "-m", "--metrics", action="append", default=[], metavar="PATH", help="Metrics file."
    )
    add.add_argument(
        "-M",
        "--metrics-no-cache",
        action="append",
        default=[],
        metavar="PATH",
        help="Metrics file kept in Git, not in the cache (e.g. dvclive/metrics.json).",
    )
    add.add_argument("--plots", action="append", default=[], metavar="PATH", help="Plots file.")
    add.add_argument(
        "--plots-no-cache",
        action="append",
        default=[],
        metavar="PATH",
        help="Plots file or folder kept in Git (e.g. dvclive/plots).",
    )
    add.add_argument("--desc", help="A description of the stage.")
    add.add_argument(
        "-f", "--force", action="store_true", help="Overwrite a stage of the same name."
    )


def _no_subcommand(args: argparse.Namespace, ui: UI) -> int:
    ui.error("missing command: jupyter exp stage add --notebook NOTEBOOK ...")
    return 2


def run_add(args: argparse.Namespace, ui: UI) -> int:
    """Write the stage into ./dvc.yaml and say what to ``git add``."""
    from ...core.index import Index
    from ...core.repo import Repo
    from ...notebook import DEFAULT_PARAMS_FILE, NotebookRequest, default_output
    from ...notebook.stage_add import add_stage, default_stage_name, notebook_stage

    repo = Repo.find(".")
    notebook = _posix(args.notebook)
    request = NotebookRequest(
        notebook=notebook,
        output=_posix(args.output) if args.output else default_output(notebook),
        params=tuple(args.params),
        params_file=_posix(args.params_file) if args.params_file else DEFAULT_PARAMS_FILE,
        kernel=args.kernel,
    )
    entry = notebook_stage(
        request,
        deps=[_posix(p) for p in args.deps],
        outs=[_posix(p) for p in args.outs],
        metrics=[_posix(p) for p in args.metrics],
        metrics_no_cache=[_posix(p) for p in args.metrics_no_cache],
        plots=[_posix(p) for p in args.plots],
        plots_no_cache=[_posix(p) for p in args.plots_no_cache],
        desc=args.desc,
    )
    name = args.name or default_stage_name(notebook)
    outcome = add_stage("dvc.yaml", name, entry, force=args.force, check=lambda: Index.load(repo))
    if outcome == "created":
        ui.write("Creating 'dvc.yaml'")
    verb = "Modifying" if outcome == "modified" else "Adding"
    ui.write(f"{verb} stage '{name}' in 'dvc.yaml'")
    for line in git_add_hint(["dvc.yaml"]):
        ui.write(line)
    return 0


def _posix(path: str) -> str:
    """Paths in dvc.yaml use '/' (as DVC writes them on every OS)."""
    return path.replace(os.sep, "/") if os.sep != "/" else path
