"""Handlers over the experiment queue: start, stop, status, logs."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidArgumentError
from .base import ExpHandler, b_bool, b_int, b_str, b_strs

__all__ = [
    "QueueKillHandler",
    "QueueLogsHandler",
    "QueueRemoveHandler",
    "QueueStartHandler",
    "QueueStatusHandler",
    "QueueStopHandler",
]


class QueueStartHandler(ExpHandler):
    """POST queue/start: start background workers (``Project.queue_start``).

    The workers are separate processes: the call returns as soon as they are started.
    """

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, jobs (>= 1), retry_failed."""
        data = self.body({"jobs", "retry_failed"})
        jobs = b_int(data, "jobs", 1, minimum=1)
        retry = b_bool(data, "retry_failed")
        path = b_str(data, "path")
        workers = await self.blocking(
            lambda: self.project(path).queue_start(jobs, retry_failed=retry)
        )
        self.reply({"workers": workers})


class QueueStopHandler(ExpHandler):
    """POST queue/stop: workers take no new entry; ``kill`` stops running ones too."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, kill."""
        data = self.body({"kill"})
        kill = b_bool(data, "kill")
        path = b_str(data, "path")
        entries = await self.blocking(lambda: self.project(path).queue_stop(kill=kill))
        self.reply({"entries": entries})


class QueueStatusHandler(ExpHandler):
    """GET queue/status: every entry with its state, and the live workers."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Query: path."""
        path = self.q_str("path")
        self.reply(await self.blocking(lambda: self.project(path).queue_status()))


class QueueLogsHandler(ExpHandler):
    """GET queue/logs?name=: the log of a queued experiment as text in JSON."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Query: path, name."""
        path, name = self.q_str("path"), self.q_str("name")
        if not name:
            raise InvalidArgumentError("name is required", argument="name")
        text = await self.blocking(lambda: self.project(path).queue_logs(name))
        self.reply({"name": name, "log": text})


class QueueKillHandler(ExpHandler):
    """POST queue/kill: stop running queued experiments (they end Failed, logs kept)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, names (non-empty)."""
        data = self.body({"names"})
        names = b_strs(data, "names")
        if not names:
            raise InvalidArgumentError("names must name at least one entry", argument="names")
        path = b_str(data, "path")
        entries = await self.blocking(lambda: self.project(path).queue_kill(names))
        self.reply({"entries": entries})


class QueueRemoveHandler(ExpHandler):
    """POST queue/remove: remove entries by name or by state (running ones refused)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Body: path, names, all, queued, success, failed."""
        data = self.body({"names", "all", "queued", "success", "failed"})
        names = b_strs(data, "names")
        flags = {k: b_bool(data, k) for k in ("all", "queued", "success", "failed")}
        if not names and not any(flags.values()):
            raise InvalidArgumentError(
                "give names, or one of all, queued, success, failed", argument="names"
            )
        path = b_str(data, "path")
        entries = await self.blocking(lambda: self.project(path).queue_remove(names, **flags))
        self.reply({"removed": entries})
