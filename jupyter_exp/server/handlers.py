"""The URL table of the REST API under ``/jupyter-exp/api/`` (see ``openapi.yaml``)."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from .handlers_experiments import (
    ApplyHandler,
    BranchHandler,
    DiffHandler,
    ExperimentsHandler,
    JobHandler,
    JobsHandler,
    PlotsHandler,
    PullHandler,
    PushHandler,
    RemoveHandler,
    RunHandler,
    SaveHandler,
)
from .handlers_notebooks import NotebooksHandler
from .handlers_plots import PlotSpecsHandler
from .handlers_queue import (
    QueueKillHandler,
    QueueLogsHandler,
    QueueRemoveHandler,
    QueueStartHandler,
    QueueStatusHandler,
    QueueStopHandler,
)
from .openapi import OpenAPIHandler

__all__ = ["API_PREFIX", "routes"]

API_PREFIX = "jupyter-exp/api"

_ROUTES: list[tuple[str, Any]] = [
    ("experiments", ExperimentsHandler),
    ("plots", PlotsHandler),
    ("plots/specs", PlotSpecsHandler),
    ("diff", DiffHandler),
    ("notebooks", NotebooksHandler),
    ("run", RunHandler),
    ("jobs", JobsHandler),
    (r"jobs/([0-9a-f]{32})", JobHandler),
    ("apply", ApplyHandler),
    ("branch", BranchHandler),
    ("remove", RemoveHandler),
    ("push", PushHandler),
    ("pull", PullHandler),
    ("save", SaveHandler),
    ("queue/start", QueueStartHandler),
    ("queue/stop", QueueStopHandler),
    ("queue/status", QueueStatusHandler),
    ("queue/logs", QueueLogsHandler),
    ("queue/kill", QueueKillHandler),
    ("queue/remove", QueueRemoveHandler),
    ("openapi.yaml", OpenAPIHandler),
]


def routes(base_url: str) -> list[tuple[str, Any]]:
    """``(pattern, handler)`` pairs for ``web_app.add_handlers``."""
    return [(url_path_join(base_url, API_PREFIX, path), handler) for path, handler in _ROUTES]
