"""GET openapi.yaml: the API description shipped in the package."""

from __future__ import annotations

from importlib.resources import files

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import ExpHandler

__all__ = ["OpenAPIHandler", "openapi_text"]


def openapi_text() -> str:
    """The OpenAPI 3 document of the REST API, as YAML text."""
    return files("jupyter_exp.server").joinpath("openapi.yaml").read_text(encoding="utf-8")


class OpenAPIHandler(ExpHandler):
    """Serve ``openapi.yaml``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """No parameters."""
        self.set_header("Content-Type", "application/yaml")
        self.finish(openapi_text())
