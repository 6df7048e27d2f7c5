"""The base handler: authentication, authorization, JSON errors, parameter parsing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler

from ..api import Project
from ..errors import JupyterExpError
from .errors import BadRequest, error_payload, http_error
from .jobs import JobManager
from .paths import project_for
from .serialize import to_data

__all__ = ["AUTH_RESOURCE", "JOBS_SETTING", "ExpHandler"]

# The resource name Jupyter's authorizer sees (``@authorized`` on every method).
AUTH_RESOURCE = "jupyter_exp"
JOBS_SETTING = "jupyter_exp_jobs"

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ExpHandler(APIHandler):
    """An API handler over the project that contains the request's ``path``."""

    auth_resource = AUTH_RESOURCE

    # --- errors --------------------------------------------------------------------------

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error answers JSON ``{"error", "message", ...}`` (see ``errors.py``)."""
        exc_info = kwargs.get("exc_info")
        if exc_info and exc_info[1] is not None:
            status, body = error_payload(exc_info[1])
        else:
            status, body = status_code, {"error": self._reason, "message": self._reason}
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Our own errors are answers, not server faults: no traceback in the log."""
        if isinstance(value, JupyterExpError):
            self.log.info("jupyter-exp %s: %s", type(value).__name__, value)
            return
        super().log_exception(typ, value, tb)

    # --- the project and the work --------------------------------------------------------

    @property
    def root_dir(self) -> str:
        """The server's root dir: no path outside it is ever used."""
        return str(self.settings.get("server_root_dir") or self.serverapp.root_dir)

    @property
    def jobs(self) -> JobManager:
        """The extension's job manager."""
        return self.settings[JOBS_SETTING]

    def project(self, path: str | None) -> Project:
        """The project containing ``path`` (403/404 as :func:`project_for` decides)."""
        return project_for(self.root_dir, path)

    def api_path(self, project: Project) -> str:
        """The project's root as the API names it: relative to the server root, ``/``."""
        relative = project.root.resolve().relative_to(Path(self.root_dir).resolve())
        return relative.as_posix()

    async def blocking(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in a thread so the event loop stays free."""
        return await asyncio.to_thread(fn)

    def reply(self, data: Any, status: int = 200) -> None:
        """Answer ``data`` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(to_data(data)))

    # --- query parameters ----------------------------------------------------------------

    def q_str(self, name: str, default: str | None = None) -> str | None:
        """A query parameter as text."""
        return self.get_query_argument(name, default)

    def q_list(self, name: str) -> list[str]:
        """A repeatable query parameter (``?rev=a&rev=b``)."""
        return self.get_query_arguments(name)

    def q_bool(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter (``1/0``, ``true/false``, ``yes/no``); else 400."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        return _parse_bool(name, raw.strip().lower())

    def q_int(self, name: str, default: int, minimum: int = 0) -> int:
        """An integer query parameter ``>= minimum``; else 400."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"{name} must be an integer, got {raw!r}", argument=name) from None
        if value < minimum:
            raise BadRequest(f"{name} must be at least {minimum}", argument=name)
        return value

    # --- JSON bodies ---------------------------------------------------------------------

    def body(self, allowed: set[str]) -> dict[str, Any]:
        """The JSON object body; malformed JSON, a non-object or unknown keys are 400."""
        raw = self.request.body or b"{}"
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("the request body must be a JSON object")
        unknown = sorted(set(data) - allowed - {"path"})
        if unknown:
            raise BadRequest(f"unknown field(s): {', '.join(unknown)}", argument=unknown[0])
        return data


def _parse_bool(name: str, raw: str) -> bool:
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadRequest(f"{name} must be true or false, got {raw!r}", argument=name)


def b_str(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """A text field of a JSON body (400 if of another type or missing when required)."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name} is required", argument=name)
        return None
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"{name} must be a non-empty string", argument=name)
    return value


def b_bool(data: dict[str, Any], name: str, default: bool = False) -> bool:
    """A boolean field of a JSON body."""
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false", argument=name)
    return value


def b_int(data: dict[str, Any], name: str, default: int, minimum: int = 0) -> int:
    """An integer field of a JSON body ``>= minimum``."""
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadRequest(f"{name} must be an integer >= {minimum}", argument=name)
    return value


def b_strs(data: dict[str, Any], name: str) -> list[str]:
    """A list-of-strings field of a JSON body (a single string is not accepted)."""
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} must be a list of strings", argument=name)
    return value


def b_relpaths(data: dict[str, Any], name: str) -> list[str]:
    """A list of repository-relative paths (or stage names): no absolute path, no ``..``.

    The engine refuses such paths too; checking here keeps the answer a plain 400 that
    names no server path.
    """
    values = b_strs(data, name)
    for value in values:
        check_relative(value, name)
    return values


def check_relative(value: str, name: str) -> None:
    """400 unless ``value`` is a relative path without ``..`` components."""
    pure = PurePosixPath(value.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (len(value) > 1 and value[1] == ":"):
        raise BadRequest(f"{name} must be relative to the project, got {value!r}", argument=name)


def raise_not_found(message: str) -> None:
    """A 404 with a message."""
    raise http_error(404, message)
