"""Handlers over experiments: show, plots data, diff, run (as a job), apply, branch,
remove, push; and the jobs they start."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..api import Project
from ..core.cancel import CancelToken
from ..errors import InvalidArgumentError
from ..git import Git
from .base import (
    ExpHandler,
    b_bool,
    b_int,
    b_relpaths,
    b_str,
    b_strs,
    check_relative,
    raise_not_found,
)
from .errors import http_error

__all__ = [
    "ApplyHandler",
    "BranchHandler",
    "DiffHandler",
    "ExperimentsHandler",
    "JobHandler",
    "JobsHandler",
    "PlotsHandler",
    "PullHandler",
    "PushHandler",
    "RemoveHandler",
    "RunHandler",
    "SaveHandler",
    "configured_remote",
]

_SORT_ORDERS = ("asc", "desc")
# Seconds DELETE jobs/{id} waits for the stage to stop (SIGINT, SIGTERM, SIGKILL take <= 5).
CANCEL_WAIT = 10.0


def configured_remote(project: Project, remote: str | None) -> str | None:
    """``remote`` if it names a Git remote of the project; URLs and paths are refused.

    Git accepts a URL or a folder as a remote; through the server that would read or
    write outside the server's root, so only the repository's configured names pass.
    """
    if remote is not None and remote not in Git.find(project.root).remotes():
        raise InvalidArgumentError(
            f"git_remote must name a remote of the repository (URLs and paths are not "
            f"accepted by the server): {remote!r}",
            argument="git_remote",
        )
    return remote


def _overrides(items: list[str]) -> list[str]:
    """``-S`` overrides, parsed once here so a bad one or a file outside is a 400."""
    from ..core.overrides import parse_overrides

    for override in parse_overrides(items):  # raises InvalidArgumentError (400)
        if override.file is not None:
            check_relative(override.file, "params")
    return items


class ExperimentsHandler(ExpHandler):
    """GET experiments: the ``exp show`` table as JSON (``Project.exp_show_data``), and
    ``project``: the repository's root relative to the server's root dir (``""`` when it
    is the root), so a client that sent a file's path knows which project answered."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Query: path, rev (repeatable), num, all_branches, all_tags, all_commits,
        hide_workspace, hide_queued, hide_failed, sha_only, only_changed, sort_by,
        sort_order, notebooks (each row's executed notebooks)."""
        kwargs, path = self._show_kwargs(), self.q_str("path")

        def show() -> dict[str, Any]:
            project = self.project(path)
            root = self.api_path(project)
            return project.exp_show_data(**kwargs) | {"project": "" if root == "." else root}

        self.reply(await self.blocking(show))

    def _show_args(self) -> Any:
        kwargs, path = self._show_kwargs(), self.q_str("path")
        return lambda: self.project(path).exp_show_data(**kwargs)

    def _show_kwargs(self) -> dict[str, Any]:
        sort_order = self.q_str("sort_order", "asc")
        if sort_order not in _SORT_ORDERS:
            raise InvalidArgumentError("sort_order must be asc or desc", argument="sort_order")
        revs = self.q_list("rev")
        kwargs: dict[str, Any] = {
            "revs": revs or None,
            "num": self.q_int("num", 1, minimum=1),
            "sort_by": self.q_str("sort_by"),
            "sort_order": sort_order,
        }
        for flag in (
            "all_branches",
            "all_tags",
            "all_commits",
            "hide_workspace",
            "hide_queued",
            "hide_failed",
            "sha_only",
            "only_changed",
            "notebooks",
        ):
            kwargs[flag] = self.q_bool(flag)
        return kwargs


class PlotsHandler(ExperimentsHandler):
    """GET plots: the metrics of every experiment, as series for charts.

    ``{"metrics": [column...], "experiments": [{"id", "Experiment", "rev", "typ",
    "baseline", "values": {metric: value}}...]}`` (same query as experiments).
    """

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Query: as GET experiments."""
        table = await self.blocking(self._show_args())
        metrics = [c for c in table["columns"] if c.get("kind") == "metric"]
        names = {c["name"] for c in metrics}
        rows = [
            {
                **{k: row.get(k) for k in ("id", "Experiment", "rev", "typ", "baseline")},
                "values": {k: v for k, v in row.get("values", {}).items() if k in names},
            }
            for row in table["rows"]
        ]
        self.reply({"metrics": metrics, "experiments": rows})


class DiffHandler(ExpHandler):
    """GET diff?a=&b=: params, metrics, deps, outs that differ (``Project.exp_diff``)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Query: path, a (default HEAD), b (default the workspace), all, param_deps."""
        path, a, b = self.q_str("path"), self.q_str("a"), self.q_str("b")
        show_all, param_deps = self.q_bool("all"), self.q_bool("param_deps")
        diff = await self.blocking(
            lambda: self.project(path).exp_diff(
                a or None, b or None, all=show_all, param_deps=param_deps
            )
        )
        self.reply(diff)


class RunHandler(ExpHandler):
    """POST run: run an experiment as a job (202), or queue it (200 with the entries)."""

    FIELDS = {"params", "name", "message", "queue", "targets", "force", "temp"}

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, params (``-S`` overrides), name, message, queue, targets, force,
        temp."""
        data = self.body(self.FIELDS)
        kwargs: dict[str, Any] = {
            "params": _overrides(b_strs(data, "params")),
            "targets": b_relpaths(data, "targets"),
            "name": b_str(data, "name"),
            "message": b_str(data, "message"),
            "force": b_bool(data, "force"),
            "temp": b_bool(data, "temp"),
        }
        queue = b_bool(data, "queue")
        # The project is found now, so a bad path is a 403/404 answer, not a failed job.
        project = await self.blocking(lambda: self.project(b_str(data, "path")))
        if queue:
            entries = await self.blocking(lambda: project.exp_run(queue=True, **kwargs))
            self.reply({"queued": entries})
            return
        token = CancelToken()
        job = self.jobs.submit(
            "run",
            self.api_path(project),
            lambda sink: project.exp_run(on_event=sink, cancel=token, **kwargs),
            cancel=token,
        )
        self.set_header("Location", self.base_url.rstrip("/") + f"/jupyter-exp/api/jobs/{job.id}")
        self.reply({"job": self.jobs.snapshot(job)}, status=202)


class JobsHandler(ExpHandler):
    """GET jobs: every job kept (without their events)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """No parameters."""
        jobs = [self.jobs.snapshot(j) | {"events": []} for j in self.jobs.list()]
        self.reply({"jobs": jobs})


class JobHandler(ExpHandler):
    """GET jobs/{id}?since=N: a job's status, result or error, and its events from N;
    DELETE jobs/{id}: cancel it."""

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        """Query: since (index of the first event wanted)."""
        since = self.q_int("since", 0)
        job = self.jobs.get(job_id)
        if job is None:
            raise_not_found(f"no job {job_id!r}")
            return
        self.reply(self.jobs.snapshot(job, since))

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        """Cancel the job: 200 with it once it has stopped (``cancelled``), 202 if its
        stage is still stopping after ``CANCEL_WAIT`` seconds, 409 if it has ended."""
        job = self.jobs.get(job_id)
        if job is None:
            raise_not_found(f"no job {job_id!r}")
            return
        if not self.jobs.cancel(job):
            raise http_error(409, f"job {job_id} cannot be cancelled: it is {job.status}")
        deadline = asyncio.get_running_loop().time() + CANCEL_WAIT
        while not job.done and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        self.reply(self.jobs.snapshot(job), status=200 if job.done else 202)


class ApplyHandler(ExpHandler):
    """POST apply: put an experiment into the workspace (``Project.exp_apply``)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, experiment, force."""
        data = self.body({"experiment", "force"})
        name = b_str(data, "experiment", required=True)
        force = b_bool(data, "force")
        path = b_str(data, "path")
        result = await self.blocking(lambda: self.project(path).exp_apply(name, force=force))
        self.reply(result)


class BranchHandler(ExpHandler):
    """POST branch: a Git branch at an experiment (``Project.exp_branch``)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, experiment, branch (default ``<name>-branch``)."""
        data = self.body({"experiment", "branch"})
        name = b_str(data, "experiment", required=True)
        branch = b_str(data, "branch")
        path = b_str(data, "path")
        result = await self.blocking(lambda: self.project(path).exp_branch(name, branch))
        self.reply(result)


class RemoveHandler(ExpHandler):
    """POST remove: remove experiments (``Project.exp_remove``)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, names, rev, num, all_commits, git_remote, keep."""
        data = self.body({"names", "rev", "num", "all_commits", "git_remote", "keep"})
        names, rev = b_strs(data, "names"), b_strs(data, "rev")
        all_commits = b_bool(data, "all_commits")
        if not (names or rev or all_commits):
            raise InvalidArgumentError(
                "give names, rev or all_commits: nothing selected", argument="names"
            )
        kwargs: dict[str, Any] = {
            "rev": rev,
            "num": b_int(data, "num", 1, minimum=1),
            "all_commits": all_commits,
            "git_remote": b_str(data, "git_remote"),
            "keep": b_bool(data, "keep"),
        }
        path = b_str(data, "path")

        def remove() -> list[str]:
            project = self.project(path)
            configured_remote(project, kwargs["git_remote"])
            return project.exp_remove(names, **kwargs)

        self.reply({"removed": await self.blocking(remove)})


class PushHandler(ExpHandler):
    """POST push: push experiments to a Git remote (``Project.exp_push``)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, git_remote, names, rev, num, all_commits, force, push_cache,
        dvc_remote, run_cache."""
        fields = {"git_remote", "names", "rev", "num", "all_commits", "force"}
        data = self.body(fields | {"push_cache", "dvc_remote", "run_cache"})
        remote = b_str(data, "git_remote", required=True)
        names = b_strs(data, "names")
        kwargs: dict[str, Any] = {
            "rev": b_strs(data, "rev"),
            "num": b_int(data, "num", 1, minimum=1),
            "all_commits": b_bool(data, "all_commits"),
            "force": b_bool(data, "force"),
            "push_cache": b_bool(data, "push_cache", True),
            "dvc_remote": b_str(data, "dvc_remote"),
            "run_cache": b_bool(data, "run_cache"),
        }
        path = b_str(data, "path")

        def push() -> Any:
            project = self.project(path)
            return project.exp_push(configured_remote(project, remote) or "", names, **kwargs)

        self.reply(await self.blocking(push))


class PullHandler(ExpHandler):
    """POST pull: fetch experiments from a Git remote (``Project.exp_pull``)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, git_remote, names, rev, num, all_commits, force, pull_cache,
        dvc_remote, run_cache."""
        fields = {"git_remote", "names", "rev", "num", "all_commits", "force"}
        data = self.body(fields | {"pull_cache", "dvc_remote", "run_cache"})
        remote = b_str(data, "git_remote", required=True)
        names = b_strs(data, "names")
        kwargs: dict[str, Any] = {
            "rev": b_strs(data, "rev"),
            "num": b_int(data, "num", 1, minimum=1),
            "all_commits": b_bool(data, "all_commits"),
            "force": b_bool(data, "force"),
            "pull_cache": b_bool(data, "pull_cache", True),
            "dvc_remote": b_str(data, "dvc_remote"),
            "run_cache": b_bool(data, "run_cache"),
        }
        path = b_str(data, "path")

        def pull() -> Any:
            project = self.project(path)
            return project.exp_pull(configured_remote(project, remote) or "", names, **kwargs)

        self.reply(await self.blocking(pull))


class SaveHandler(ExpHandler):
    """POST save: record the workspace as an experiment (``Project.exp_save``)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, name, message, force, targets."""
        data = self.body({"name", "message", "force", "targets"})
        kwargs: dict[str, Any] = {
            "targets": b_relpaths(data, "targets"),
            "name": b_str(data, "name"),
            "message": b_str(data, "message"),
            "force": b_bool(data, "force"),
        }
        path = b_str(data, "path")
        self.reply(await self.blocking(lambda: self.project(path).exp_save(**kwargs)))
