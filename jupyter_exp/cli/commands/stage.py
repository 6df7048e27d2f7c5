"""``jupyter exp stage add``: write a stage into dvc.yaml, as ``dvc stage add``, or a
notebook stage with ``--notebook NB -p KEY...``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from ..render import UI, git_add_hint
from . import Subparsers, add_command

ADD_DESCRIPTION = """\
Add a stage to ./dvc.yaml (created if needed; comments and the other stages are kept).

As `dvc stage add` (the same dvc.yaml text):

  jupyter exp stage add -n prepare -d prepare.py -o data.csv -p prepare.seed \\
      python prepare.py

writes a stage named prepare running `python prepare.py`, and lists its cached outputs
in .gitignore files.

With --notebook, a stage running a notebook (name, command, deps, params and outs
derived from it):

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

_NOTEBOOK_ONLY = ("params_file", "kernel")
_GENERIC_ONLY = (
    ("command", "a command"),
    ("wdir", "-w/--wdir"),
    ("outs_no_cache", "-O/--outs-no-cache"),
    ("outs_persist", "--outs-persist"),
    ("outs_persist_no_cache", "--outs-persist-no-cache"),
    ("always_changed", "--always-changed"),
)


class _TaggedOut(argparse.Action):
    """``-o``/``--output`` and ``--outs`` into one list, in order, with the flag used.

    As in DVC both mean an output; with ``--notebook``, ``-o`` names the executed notebook
    and ``--outs`` adds other outputs.
    """

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        items = list(getattr(namespace, self.dest, None) or [])
        items.append(("outs" if option == "--outs" else "o", values))
        setattr(namespace, self.dest, items)


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
        help="Add a stage (or a notebook stage) to dvc.yaml.",
        description=ADD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.set_defaults(run=run_add)
    add.add_argument(
        "--notebook",
        metavar="NOTEBOOK",
        help="Add a stage executing this notebook (see above) instead of a command.",
    )
    add.add_argument(
        "-n", "--name", help="Stage name (required; with --notebook: the notebook's name)."
    )
    add.add_argument(
        "-o",
        "--output",
        "--outs",
        dest="out_items",
        action=_TaggedOut,
        default=[],
        metavar="PATH",
        help=(
            "An output (cached); repeatable. With --notebook: -o is the executed notebook "
            "(default: NOTEBOOK.out.ipynb), --outs an extra output."
        ),
    )
    add.add_argument(
        "-p",
        "--params",
        "--param",
        dest="params",
        metavar="[FILE:]KEYS",
        action="append",
        default=[],
        help=(
            "Params keys the stage depends on (comma-separated; FILE: alone for the whole "
            "file); repeatable. With --notebook: KEY[:NAME], a key to inject (as in "
            "`jupyter exp notebook`) and track."
        ),
    )
    add.add_argument(
        "--params-file", metavar="FILE", help="With --notebook: params file (params.yaml)."
    )
    add.add_argument("--kernel", metavar="NAME", help="With --notebook: Jupyter kernel to use.")
    add.add_argument(
        "-d", "--deps", action="append", default=[], metavar="PATH", help="A dependency."
    )
    add.add_argument(
        "-O",
        "--outs-no-cache",
        action="append",
        default=[],
        metavar="PATH",
        help="An output kept out of the cache.",
    )
    add.add_argument(
        "--outs-persist",
        action="append",
        default=[],
        metavar="PATH",
        help="An output not removed before the stage runs.",
    )
    add.add_argument(
        "--outs-persist-no-cache",
        action="append",
        default=[],
        metavar="PATH",
        help="An output not removed before the stage runs, kept out of the cache.",
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
    add.add_argument(
        "-w", "--wdir", metavar="PATH", help="Folder to run the command in (must exist)."
    )
    add.add_argument(
        "--always-changed", action="store_true", help="Always consider the stage changed."
    )
    add.add_argument("--desc", help="A description of the stage.")
    add.add_argument(
        "-f", "--force", action="store_true", help="Overwrite a stage of the same name."
    )
    add.add_argument(
        "command", nargs=argparse.REMAINDER, metavar="COMMAND", help="The stage's command."
    )


def _no_subcommand(args: argparse.Namespace, ui: UI) -> int:
    ui.error("missing command: jupyter exp stage add -n NAME ... COMMAND")
    return 2


def run_add(args: argparse.Namespace, ui: UI) -> int:
    """Write the stage into ./dvc.yaml and say what to ``git add``."""
    from ...core.index import Index
    from ...core.repo import Repo
    from ...errors import InvalidArgumentError
    from ...notebook.stage_add import add_stage

    repo = Repo.find(".")
    if args.notebook is not None:
        for dest, flag in _GENERIC_ONLY:
            if getattr(args, dest):
                raise InvalidArgumentError(f"{flag} cannot be used with --notebook", argument=dest)
        name, entry = _notebook_entry(args)
    else:
        for dest in _NOTEBOOK_ONLY:
            if getattr(args, dest):
                flag = "--" + dest.replace("_", "-")
                raise InvalidArgumentError(f"{flag} needs --notebook", argument=dest)
        if not args.name:
            raise InvalidArgumentError("-n/--name is required (or use --notebook)", argument="name")
        name, entry = args.name, _generic_entry(args)
    outcome = add_stage("dvc.yaml", name, entry, force=args.force, check=lambda: Index.load(repo))
    if outcome == "created":
        ui.write("Creating 'dvc.yaml'")
    verb = "Modifying" if outcome == "modified" else "Adding"
    ui.write(f"{verb} stage '{name}' in 'dvc.yaml'")
    ignores = [] if args.notebook is not None else _ignore_cached_outputs(repo, args)
    for line in git_add_hint(["dvc.yaml", *ignores]):
        ui.write(line)
    return 0


def _notebook_entry(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from ...errors import InvalidArgumentError
    from ...notebook import DEFAULT_PARAMS_FILE, NotebookRequest, ParamSpec, default_output
    from ...notebook.stage_add import default_stage_name, notebook_stage

    notebook = _posix(args.notebook)
    outputs = [_posix(p) for flag, p in args.out_items if flag == "o"]
    if len(outputs) > 1:
        raise InvalidArgumentError("with --notebook, -o names the one executed notebook")
    try:
        params = tuple(ParamSpec.parse(p) for p in args.params)
    except argparse.ArgumentTypeError as exc:
        raise InvalidArgumentError(str(exc), argument="params") from None
    request = NotebookRequest(
        notebook=notebook,
        output=outputs[0] if outputs else default_output(notebook),
        params=params,
        params_file=_posix(args.params_file) if args.params_file else DEFAULT_PARAMS_FILE,
        kernel=args.kernel,
    )
    entry = notebook_stage(
        request,
        deps=[_posix(p) for p in args.deps],
        outs=[_posix(p) for flag, p in args.out_items if flag == "outs"],
        metrics=[_posix(p) for p in args.metrics],
        metrics_no_cache=[_posix(p) for p in args.metrics_no_cache],
        plots=[_posix(p) for p in args.plots],
        plots_no_cache=[_posix(p) for p in args.plots_no_cache],
        desc=args.desc,
    )
    return args.name or default_stage_name(notebook), entry


def _generic_entry(args: argparse.Namespace) -> dict[str, Any]:
    from ...core.stage_entry import StageSpec, stage_entry
    from ...errors import InvalidArgumentError

    if args.wdir and not os.path.isdir(args.wdir):
        raise InvalidArgumentError(
            f"stage working dir '{args.wdir}' does not exist", argument="wdir"
        )
    paths = lambda items: [_posix(p) for p in items]  # noqa: E731
    return stage_entry(
        StageSpec(
            command=args.command,
            deps=paths(args.deps),
            params=list(args.params),
            outs=paths(p for _, p in args.out_items),
            outs_no_cache=paths(args.outs_no_cache),
            outs_persist=paths(args.outs_persist),
            outs_persist_no_cache=paths(args.outs_persist_no_cache),
            metrics=paths(args.metrics),
            metrics_no_cache=paths(args.metrics_no_cache),
            plots=paths(args.plots),
            plots_no_cache=paths(args.plots_no_cache),
            wdir=_posix(args.wdir) if args.wdir else ".",
            always_changed=args.always_changed,
            desc=args.desc,
        )
    )


def _ignore_cached_outputs(repo: Any, args: argparse.Namespace) -> list[str]:
    """``.gitignore`` entries for the stage's cached outputs, as ``dvc stage add`` writes.

    In DVC's order (persistent outputs, metrics, plots, then the others); as DVC, the
    first output whose folder does not exist yet ends it (repro adds the rest later).
    Returns the ``.gitignore`` files changed, relative to the current directory.
    """
    from ...core.gitignore import ensure_ignored

    wdir = args.wdir or "."
    cached = [*args.outs_persist, *args.metrics, *args.plots, *(p for _, p in args.out_items)]
    changed: list[str] = []
    for path in cached:
        repo_path = repo.relpath(os.path.join(wdir, path))
        if not repo.abspath(repo_path).parent.is_dir():
            break
        found = ensure_ignored(repo, repo_path)
        if found and found not in changed:
            changed.append(found)
    return [os.path.relpath(repo.abspath(path)) for path in changed]


def _posix(path: str) -> str:
    """Paths in dvc.yaml use '/' (as DVC writes them on every OS)."""
    return path.replace(os.sep, "/") if os.sep != "/" else path
