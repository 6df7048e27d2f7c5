"""The one mapping from errors to JSON HTTP answers for the server extension.

A :class:`~jupyter_exp.errors.JupyterExpError` becomes ``{"error", "message", ...fields}``
with its ``http_status``; a :class:`tornado.web.HTTPError` raised by the handlers (bad
parameters, forbidden paths) becomes ``{"error", "message"}`` with its status.
"""

from __future__ import annotations

from http import HTTPStatus

from tornado.web import HTTPError

from ..errors import JupyterExpError

__all__ = ["BadRequest", "error_payload", "http_error"]


def http_error(status: int, message: str, *, argument: str | None = None) -> HTTPError:
    """An :class:`HTTPError` whose JSON answer carries ``message`` (and ``argument``)."""
    # No format args: tornado then treats the message as literal text (``%`` is safe).
    error = HTTPError(status, message, reason=_phrase(status))
    error.argument = argument  # type: ignore[attr-defined]
    return error


def BadRequest(message: str, *, argument: str | None = None) -> HTTPError:
    """A 400 for a bad request parameter (``argument`` names it)."""
    return http_error(400, message, argument=argument)


def error_payload(exc: BaseException) -> tuple[int, dict[str, object]]:
    """``(status, body)`` of the JSON answer for ``exc`` (500 for anything unexpected)."""
    if isinstance(exc, JupyterExpError):
        return exc.http_status, exc.to_dict()
    if isinstance(exc, HTTPError):
        status = exc.status_code
        get_message = getattr(exc, "get_message", None)  # tornado >= 6.5
        text = get_message() if callable(get_message) else exc.log_message
        body: dict[str, object] = {
            "error": exc.reason or _phrase(status),
            "message": text or exc.reason or _phrase(status),
        }
        argument = getattr(exc, "argument", None)
        if argument is not None:
            body["argument"] = argument
        return status, body
    # Unexpected: say what it was, never a traceback (that goes to the server log).
    return 500, {"error": type(exc).__name__, "message": str(exc) or type(exc).__name__}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
