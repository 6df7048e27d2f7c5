"""The Jupyter Server extension: a REST API under ``/jupyter-exp/api/`` over
:class:`jupyter_exp.Project` (see ``openapi.yaml`` and docs/server-api.md).

Enabled by ``jupyter-config/jupyter_server_config.d/jupyter_exp.json`` when installed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Where Jupyter Server finds the extension."""
    return [{"module": "jupyter_exp.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the handlers and the job manager on the server's web app."""
    from .base import JOBS_SETTING
    from .handlers import routes
    from .jobs import JobManager

    web_app = serverapp.web_app
    web_app.settings[JOBS_SETTING] = JobManager()
    web_app.add_handlers(".*$", routes(web_app.settings["base_url"]))
    serverapp.log.info("jupyter-exp server extension loaded: /jupyter-exp/api/")
