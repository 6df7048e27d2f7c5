"""GET notebooks: an experiment's executed notebooks, written where JupyterLab opens them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import ExpHandler, check_relative
from .errors import BadRequest

__all__ = ["NotebooksHandler"]


class NotebooksHandler(ExpHandler):
    """GET notebooks?path=&experiment=NAME[&stage=STAGE] (``Project.exp_notebook``).

    Copies the experiment's executed notebooks out of the cache into the project's
    ``jupyter-exp-notebooks/<experiment>/`` folder and answers ``{"notebooks": [{"stage",
    "path", "md5", "open_path"}]}``, ``open_path`` relative to the server root (what the
    file browser and ``docmanager:open`` take). It writes files, so the authorizer is
    asked for ``write`` although the request is a GET; the copy is idempotent.
    """

    @web.authenticated
    @authorized(action="write")
    async def get(self) -> None:
        """Query: path, experiment (required), stage."""
        path, experiment = self.q_str("path"), self.q_str("experiment")
        stage = self.q_str("stage") or None
        if not experiment:
            raise BadRequest("experiment is required", argument="experiment")
        if stage is not None:
            check_relative(stage, "stage")
        project = self.project(path)
        root = Path(self.root_dir).resolve()

        def work() -> list[dict[str, Any]]:
            recorded = project.exp_recorded_notebooks(experiment, stage)
            written = project.exp_notebook(experiment, stage)
            return [
                {**notebook.to_dict(), "open_path": target.resolve().relative_to(root).as_posix()}
                for notebook, target in zip(recorded, written, strict=True)
            ]

        self.reply({"notebooks": await self.blocking(work)})
