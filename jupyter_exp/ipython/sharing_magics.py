"""Magics that share experiments and run the queue: ``%exp_push``, ``%exp_pull``,
``%exp_queue``. Same conventions as :mod:`jupyter_exp.ipython.magics`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .arguments import parse, rev_selection, say, user_errors

if TYPE_CHECKING:
    from ..api import Project

__all__ = ["SharingMagics"]


@magics_class
class SharingMagics(Magics):
    """``%exp_push``, ``%exp_pull`` and ``%exp_queue`` (the kernel's cwd project)."""

    def project(self) -> Project:
        """The project containing the current working directory."""
        from ..api import Project

        return Project(os.getcwd())

    # --- exp push, pull ------------------------------------------------------------------

    @magic_arguments()
    @argument("git_remote", help="Git remote name or URL.")
    @argument("experiments", nargs="*", help="Experiments (default: those of HEAD).")
    @rev_selection("Push")
    @argument("-f", "--force", action="store_true", help="Replace diverged remote experiments.")
    @argument("--no-cache", action="store_true", help="Do not push cached outputs.")
    @argument("-r", "--remote", default=None, help="DVC remote for the outputs.")
    @argument("--run-cache", action="store_true", help="Push the run-cache too.")
    @line_magic
    @user_errors
    def exp_push(self, line: str) -> None:
        """Push experiments to a Git remote (``jupyter exp push``)."""
        args = parse(self.exp_push, line)
        result = self.project().exp_push(
            args.git_remote,
            args.experiments,
            all_commits=args.all_commits,
            rev=args.rev or (),
            num=args.num,
            force=args.force,
            push_cache=not args.no_cache,
            dvc_remote=args.remote,
            run_cache=args.run_cache,
        )
        say(_transfer_line("Pushed", result.pushed, result.up_to_date, result.diverged))

    @magic_arguments()
    @argument("git_remote", help="Git remote name or URL.")
    @argument("experiments", nargs="*", help="Experiments (default: those of HEAD).")
    @rev_selection("Pull")
    @argument("-f", "--force", action="store_true", help="Replace diverged local experiments.")
    @argument("--no-cache", action="store_true", help="Do not fetch cached outputs.")
    @argument("-r", "--remote", default=None, help="DVC remote for the outputs.")
    @argument("--run-cache", action="store_true", help="Pull the run-cache too.")
    @line_magic
    @user_errors
    def exp_pull(self, line: str) -> None:
        """Fetch experiments from a Git remote (``jupyter exp pull``)."""
        args = parse(self.exp_pull, line)
        result = self.project().exp_pull(
            args.git_remote,
            args.experiments,
            all_commits=args.all_commits,
            rev=args.rev or (),
            num=args.num,
            force=args.force,
            pull_cache=not args.no_cache,
            dvc_remote=args.remote,
            run_cache=args.run_cache,
        )
        say(_transfer_line("Pulled", result.pulled, result.up_to_date, result.diverged))

    # --- exp queue -----------------------------------------------------------------------

    @magic_arguments()
    @argument(
        "verb", choices=("start", "status", "logs", "stop", "kill", "remove"), help="What to do."
    )
    @argument("names", nargs="*", help="Experiment names or task ids (logs, kill, remove).")
    @argument("-j", "--jobs", type=int, default=1, help="start: experiments run at once.")
    @argument("--scheduler", default=None, help="start: a Dask scheduler tcp://HOST:PORT.")
    @argument("--cluster", choices=("local",), default=None, help="start: a Dask LocalCluster.")
    @argument("--retry-failed", action="store_true", help="start: requeue failed entries.")
    @argument("-f", "--follow", action="store_true", help="logs: until the experiment ends.")
    @argument("--kill", action="store_true", help="stop: also stop running experiments.")
    @argument("--all", action="store_true", help="remove: every entry not running.")
    @argument("--queued", action="store_true", help="remove: entries still waiting.")
    @argument("--success", action="store_true", help="remove: entries that succeeded.")
    @argument("--failed", action="store_true", help="remove: entries that failed.")
    @line_magic
    @user_errors
    def exp_queue(self, line: str) -> Any:
        """The experiment queue: ``start``, ``status``, ``logs``, ``stop``, ``kill``, ``remove``."""
        from .display import QueueSummary

        args = parse(self.exp_queue, line)
        project = self.project()
        if args.verb == "start":
            started = project.queue_start(
                args.jobs,
                scheduler=args.scheduler,
                cluster=args.cluster,
                retry_failed=args.retry_failed,
            )
            for worker in started:
                say(f"Started worker '{worker.id}' (pid {worker.pid}).")
            if not started:
                say("No experiment to run (or enough workers running already).")
            return None
        if args.verb == "status":
            status = project.queue_status()
            title = f"Worker status: {status.active} active, {status.idle} idle"
            return QueueSummary(status.entries, title)
        if args.verb == "logs":
            if len(args.names) != 1:
                raise UsageError("%exp_queue logs takes one experiment name")
            chunks = project.queue_logs(args.names[0], follow=args.follow)
            for text in [chunks] if isinstance(chunks, str) else chunks:
                print(text, end="", flush=True)
            return None
        if args.verb == "stop":
            stopping = project.queue_stop(kill=args.kill)
            say("Workers will take no new experiment.")
            for entry in stopping:
                say(f"Stopping experiment '{entry.name}'.")
            return None
        if args.verb == "kill":
            for entry in project.queue_kill(args.names):
                say(f"Stopping experiment '{entry.name}' ({entry.short}).")
            return None
        removed = project.queue_remove(
            args.names, all=args.all, queued=args.queued, success=args.success, failed=args.failed
        )
        say("Removed: " + ", ".join(e.name for e in removed) if removed else "Nothing removed.")
        return None


def _transfer_line(verb: str, done: list[str], same: list[str], diverged: list[str]) -> str:
    parts = [f"{verb}: {', '.join(done)}" if done else f"{verb}: nothing"]
    if same:
        parts.append(f"up to date: {', '.join(same)}")
    if diverged:
        parts.append(f"diverged (use -f): {', '.join(diverged)}")
    return "; ".join(parts)
