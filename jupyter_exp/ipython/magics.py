"""IPython magics: ``%exp_run``, ``%exp_show`` and the other ``jupyter exp`` verbs.

Each magic parses its line with IPython's ``magic_arguments`` (so ``%exp_run?`` shows
the flags), calls :class:`jupyter_exp.Project` for the project containing the kernel's
working directory, and displays or returns what comes back. A
:class:`~jupyter_exp.errors.JupyterExpError` becomes a one-line ``UsageError`` with the
message the CLI prints: no traceback from our code for a user's mistake.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .arguments import REPRO_FLAGS, parse, repro_flags, rev_selection, say, user_errors

if TYPE_CHECKING:
    from ..api import Project

__all__ = ["ExperimentMagics"]


@magics_class
class ExperimentMagics(Magics):
    """``%exp_*`` magics over :class:`jupyter_exp.Project` (the kernel's cwd project)."""

    def project(self, on_event: Any = None) -> Project:
        """The project containing the current working directory."""
        from ..api import Project

        return Project(os.getcwd(), on_event=on_event)

    # --- exp run -------------------------------------------------------------------------

    @magic_arguments()
    @argument("targets", nargs="*", metavar="TARGET", help="Stages to run (default: all).")
    @repro_flags()
    @argument(
        "-S",
        "--set-param",
        action="append",
        default=[],
        metavar="[<filename>:]<override>",
        help="Set a param (key=value, +key=value, ~key); repeatable. -S lr=$lr uses a variable.",
    )
    @argument("-n", "--name", default=None, help="Name of the experiment.")
    @argument("-m", "--message", default=None, help="Commit message.")
    @argument("--temp", action="store_true", help="Run in a temporary worktree.")
    @argument(
        "-C",
        "--copy-paths",
        action="append",
        default=[],
        metavar="<path>",
        help="Untracked path to copy into the temporary worktree (--temp, --queue).",
    )
    @argument("--queue", action="store_true", help="Queue the experiment instead of running it.")
    @argument("--run-all", action="store_true", help="Run every queued experiment and wait.")
    @argument("-j", "--jobs", type=int, default=1, help="Queued experiments run at once.")
    @argument("--reset", action="store_true", help="Checkpoint stages start over.")
    @argument("-r", "--rev", default=None, help="Checkpoint a --temp or --queue run resumes.")
    @argument("--no-run-cache", action="store_true", help="Never restore from the run-cache.")
    @line_magic
    @user_errors
    def exp_run(self, line: str) -> Any:
        """Run an experiment (``jupyter exp run``); stage output streams into the cell.

        Returns a summary (name, changed params, metrics) that displays as the cell's
        result; ``--queue``/``--run-all`` return the queue entries.
        """
        from .display import QueueSummary, RunSummary
        from .events import CellProgress

        args = parse(self.exp_run, line)
        sink = CellProgress()
        options: dict[str, Any] = {
            name.lstrip("-").replace("-", "_"): getattr(args, name.lstrip("-").replace("-", "_"))
            for _short, name, _text in REPRO_FLAGS
        }
        options["interactive"] = _confirm if args.interactive else None
        project = self.project()
        if args.queue or args.run_all:
            entries: list[Any] = []
            if args.queue:
                entries = project.exp_run(
                    args.targets,
                    params=args.set_param,
                    name=args.name,
                    message=args.message,
                    copy_paths=args.copy_paths,
                    queue=True,
                    rev=args.rev,
                    run_cache=not args.no_run_cache,
                    **options,
                )
                if not args.run_all:
                    return QueueSummary(entries, f"Queued {len(entries)} experiment(s).")
            finished = project.exp_run(run_all=True, jobs=args.jobs, on_event=sink)
            return QueueSummary(finished, "Queue run finished.")
        result = project.exp_run(
            args.targets,
            params=args.set_param,
            name=args.name,
            message=args.message,
            temp=args.temp,
            copy_paths=args.copy_paths,
            reset=args.reset,
            rev=args.rev,
            run_cache=not args.no_run_cache,
            on_event=sink,
            **options,
        )
        return RunSummary(result, dry=args.dry)

    # --- exp show ------------------------------------------------------------------------

    @magic_arguments()
    @rev_selection("Show")
    @argument("-a", "--all-branches", action="store_true", help="Experiments of every branch.")
    @argument("-T", "--all-tags", action="store_true", help="Experiments of tags.")
    @argument("--only-changed", action="store_true", help="Only columns that differ.")
    @argument("--include-metrics", action="append", default=[], metavar="GLOBS")
    @argument("--exclude-metrics", action="append", default=[], metavar="GLOBS")
    @argument("--include-params", action="append", default=[], metavar="GLOBS")
    @argument("--exclude-params", action="append", default=[], metavar="GLOBS")
    @argument("--drop", action="append", default=[], metavar="REGEX", help="Columns to hide.")
    @argument("--keep", action="append", default=[], metavar="REGEX", help="Columns to keep.")
    @argument("--param-deps", action="store_true", help="Only params stages depend on.")
    @argument("--sort-by", default=None, metavar="METRIC_OR_PARAM", help="Sort by this column.")
    @argument("--sort-order", choices=("asc", "desc"), default="asc", help="Sort order.")
    @argument("--sha", action="store_true", help="Commit shas instead of branch/tag names.")
    @argument("--hide-failed", action="store_true", help="Hide failed experiments.")
    @argument("--hide-queued", action="store_true", help="Hide queued experiments.")
    @argument("--hide-workspace", action="store_true", help="Hide the workspace row.")
    @argument("--no-timestamp", action="store_true", help="Leave the Created column out.")
    @argument("-f", "--force", action="store_true", help="Accepted for DVC (nothing cached).")
    @argument(
        "--widget",
        action="store_true",
        help="An interactive table (sort, search, select; apply, diff, plot, queue...).",
    )
    @line_magic
    @user_errors
    def exp_show(self, line: str) -> Any:
        """Experiments as a DataFrame (``jupyter exp show``), displayed styled.

        ``df = %exp_show --sort-by acc`` keeps it; metrics are grouped apart from params,
        the best value of each metric is highlighted, queued/running/failed rows marked.
        ``--widget`` returns a :class:`jupyter_exp.widgets.ExperimentsTable` instead.
        """
        from .display import show_frame

        args = parse(self.exp_show, line)
        options = dict(
            revs=args.rev,
            num=args.num,
            param_deps=args.param_deps,
            all_branches=args.all_branches,
            all_tags=args.all_tags,
            all_commits=args.all_commits,
            hide_workspace=args.hide_workspace,
            hide_queued=args.hide_queued,
            hide_failed=args.hide_failed,
            sha_only=args.sha,
            include_metrics=args.include_metrics,
            exclude_metrics=args.exclude_metrics,
            include_params=args.include_params,
            exclude_params=args.exclude_params,
            keep=args.keep,
            drop=[*args.drop, *(["Created$"] if args.no_timestamp else [])],
            only_changed=args.only_changed,
            sort_by=args.sort_by,
            sort_order=args.sort_order,
        )
        if args.widget:
            from ..widgets import ExperimentsTable

            return ExperimentsTable(self.project(), **options)
        return show_frame(self.project().exp_show_table(**options))

    # --- exp plots -----------------------------------------------------------------------

    @magic_arguments()
    @argument(
        "metrics",
        nargs="*",
        help="Metrics to plot (default: every numeric metric); "
        "'dvc [PLOT...]' draws the plots: of dvc.yaml (all, or those named) instead.",
    )
    @argument("--steps", action="store_true", help="Against the checkpoint step, per experiment.")
    @argument(
        "--parallel",
        action="store_true",
        help="Parallel coordinates of the params against the first metric.",
    )
    @argument("--param", action="append", default=[], help="A param for --parallel (repeatable).")
    @rev_selection("Plot")
    @argument("-a", "--all-branches", action="store_true", help="Experiments of every branch.")
    @argument("--hide-workspace", action="store_true", help="Leave the workspace out.")
    @line_magic
    @user_errors
    def exp_plots(self, line: str) -> Any:
        """Metrics across experiments as a Vega-Lite chart (SVG copy with vl-convert).

        Bars per experiment by default; ``--steps`` lines over checkpoint steps;
        ``--parallel`` parallel coordinates of params against a metric. ``dvc`` draws
        the ``plots:`` of ``dvc.yaml`` (``dvc loss.csv`` only that one), a chart per plot
        with a line per selected experiment; ``charts = %exp_plots dvc`` keeps them.
        """
        from IPython.core.error import UsageError

        from .display import show_frame
        from .plots import Chart, Charts, choose_chart

        args = parse(self.exp_plots, line)
        project = self.project()
        frame = show_frame(
            project.exp_show_table(
                revs=args.rev,
                num=args.num,
                all_commits=args.all_commits,
                all_branches=args.all_branches,
                hide_workspace=args.hide_workspace,
                hide_queued=True,
            )
        )
        if args.metrics[:1] == ["dvc"]:
            # One line per experiment (a checkpoint chain draws its last checkpoint).
            shown = frame[~frame["State"].isin(["Failed", "Running", "Queued"])]
            names = [
                row["Experiment"] if isinstance(row["Experiment"], str) else row["rev"]
                for _, row in shown.iterrows()
            ]
            plots = project.exp_plots(list(dict.fromkeys(names)), "dvc", targets=args.metrics[1:])
            if not plots:
                say("No plot of dvc.yaml has data in the selected experiments.")
            return Charts(Chart.from_plot(plot) for plot in plots)
        try:
            return choose_chart(
                frame,
                frame.attrs["column_kinds"],
                args.metrics,
                steps=args.steps,
                parallel=args.parallel,
                params=args.param,
            )
        except ValueError as error:
            raise UsageError(str(error)) from None

    # --- exp diff, apply, branch, remove, save -------------------------------------------

    @magic_arguments()
    @argument("a", nargs="?", default=None, help="Old revision or experiment (default HEAD).")
    @argument("b", nargs="?", default=None, help="New revision or experiment (workspace).")
    @argument("--all", action="store_true", help="Keep unchanged values too.")
    @argument("--param-deps", action="store_true", help="Only params stages depend on.")
    @line_magic
    @user_errors
    def exp_diff(self, line: str) -> Any:
        """What differs between two experiments/revisions, as a DataFrame (one row per change)."""
        args = parse(self.exp_diff, line)
        diff = self.project().exp_diff(args.a, args.b, all=args.all, param_deps=args.param_deps)
        return diff.to_dataframe()

    @magic_arguments()
    @argument("experiment", help="Experiment name, ref or commit.")
    @argument("--force", action="store_true", help="Overwrite conflicting uncommitted changes.")
    @line_magic
    @user_errors
    def exp_apply(self, line: str) -> None:
        """Put an experiment's files and outputs into the workspace (``jupyter exp apply``)."""
        args = parse(self.exp_apply, line)
        result = self.project().exp_apply(args.experiment, force=args.force)
        say(f"Changes for experiment '{result.name}' have been applied to your workspace.")

    @magic_arguments()
    @argument("experiment", help="Experiment name, ref or commit.")
    @argument("branch", nargs="?", default=None, help="Branch name (default <name>-branch).")
    @line_magic
    @user_errors
    def exp_branch(self, line: str) -> None:
        """Create a Git branch at an experiment (``jupyter exp branch``)."""
        args = parse(self.exp_branch, line)
        result = self.project().exp_branch(args.experiment, args.branch)
        say(f"Git branch '{result.branch}' has been created from experiment '{result.experiment}'.")

    @magic_arguments()
    @argument("experiments", nargs="*", help="Experiments to remove.")
    @rev_selection("Remove")
    @argument("-g", "--git-remote", default=None, help="Remove them on this Git remote.")
    @argument("--keep", action="store_true", help="Remove all but the selected experiments.")
    @line_magic
    @user_errors
    def exp_remove(self, line: str) -> list[str]:
        """Remove experiments (``jupyter exp remove``); returns the names removed."""
        args = parse(self.exp_remove, line)
        removed = self.project().exp_remove(
            args.experiments,
            rev=args.rev or (),
            num=args.num,
            all_commits=args.all_commits,
            git_remote=args.git_remote,
            keep=args.keep,
        )
        say(f"Removed experiments: {', '.join(removed)}" if removed else "Nothing removed.")
        return removed

    @magic_arguments()
    @argument("targets", nargs="*", help="Stages to commit first (default all).")
    @argument("-n", "--name", default=None, help="Name of the experiment.")
    @argument("-m", "--message", default=None, help="Commit message.")
    @argument("-f", "--force", action="store_true", help="Replace an experiment of that name.")
    @argument("-I", "--include-untracked", action="append", default=[], metavar="PATH")
    @argument("-R", "--recursive", action="store_true", help="Targets are directories.")
    @line_magic
    @user_errors
    def exp_save(self, line: str) -> None:
        """Record the workspace as an experiment without running anything."""
        args = parse(self.exp_save, line)
        result = self.project().exp_save(
            args.targets,
            name=args.name,
            message=args.message,
            force=args.force,
            include_untracked=args.include_untracked,
            recursive=args.recursive,
        )
        if result.recorded:
            say(f"Experiment has been saved as: {result.name}")
        else:
            say(f"The workspace is identical to '{result.identical_to}': nothing saved.")


def _confirm(address: str) -> bool:
    """``-i``: ask in the cell (the kernel forwards ``input`` to the front end)."""
    answer = input(f"Going to reproduce stage: '{address}'. Are you sure you want to continue? ")
    return answer.strip().lower() in ("y", "yes")
