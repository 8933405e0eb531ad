"""Errors the services raise, and the one place that turns any failure into the Error body.

Every response that is not a success has the body ``{"error": <HTTP status>, "message": ...}``,
whether it comes from our code, from the framework (unknown route, wrong method), or from a
bug; no stack trace, SQL or secret ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar, TypeVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clarion.database.failures import unavailability

log = logging.getLogger("clarion.api.errors")


class Error(BaseModel):
    """The error body of every failed request."""

    error: int = Field(description="The HTTP status code", json_schema_extra={"format": "int32"})
    message: str = Field(description="What went wrong, naming the offending field or parameter")


class ApiError(Exception):
    """A failure the client can act on. ``status`` is the HTTP status it is reported with."""

    status = 400
    headers: ClassVar[Mapping[str, str]] = {}
    """Headers the response carries besides the body (Retry-After, say)."""

    def __init_subclass__(cls, status: int = 400) -> None:
        cls.status = status

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ApiError, status=400):
    """The request names a field or parameter with a value the API does not accept."""


class Unauthenticated(ApiError, status=401):
    """No API key, or one that is unknown or revoked."""


class Forbidden(ApiError, status=403):
    """The request's own credential (a web call's token) does not open what it names."""


class NotFound(ApiError, status=404):
    """Not there, or another organization's: the two are told apart nowhere."""


class Conflict(ApiError, status=409):
    """The request contradicts what the server already holds."""


class PreconditionFailed(ApiError, status=412):
    """If-Match names a version that is no longer current."""


class TooManyRequests(ApiError, status=429):
    """Over a limit the server keeps per organization."""


class Unavailable(ApiError, status=503):
    """The server cannot take this now (it is shutting down, say); try again shortly."""

    headers: ClassVar[Mapping[str, str]] = {"Retry-After": "5"}


class PayloadTooLarge(ApiError, status=413):
    """The body is over the server's limit."""


class UnsupportedMediaType(ApiError, status=415):
    """The body is not in a media type the operation reads."""


T = TypeVar("T")


def found(value: T | None, message: str) -> T:
    """``value``, or NotFound with ``message`` when there is none."""
    if value is None:
        raise NotFound(message)
    return value


def error_body(status: int, message: str) -> bytes:
    """The Error body's bytes."""
    return orjson.dumps({"error": status, "message": message})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The Error body as a framework response."""
    return Response(error_body(status, message), status, headers, media_type="application/json")


def describe_validation_error(error: ValidationError | RequestValidationError) -> str:
    """One sentence naming the first offending field, for a 400 message."""
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ())]
    # FastAPI prefixes the source ("query", "path", "body"); the field name is what users know.
    if location and location[0] in {"query", "path", "body", "header"}:
        source, location = location[0], location[1:]
    else:
        source = "body"
    field = _dotted(location)
    kind = first.get("type", "")
    if kind == "missing":
        return f"{field} is required" if field else "a request body is required"
    if kind == "extra_forbidden":
        return f"unknown field {field!r}"
    message = str(first.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    what = f"query parameter {field!r}" if source == "query" else (field or "the request body")
    return f"{what}: {message}"


def _dotted(location: list[str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text


_REASONS = {
    401: "authentication required",
    413: "request body too large",
}


RETRY_AFTER_SECONDS = "5"


def failure(exc: Exception, method: str, path: str) -> tuple[int, str, dict[str, str]]:
    """The status, message and headers of a request that raised ``exc``, logged if it must be.

    The one place a failure becomes a response: a client error as it was raised, the database
    being away as 503 (one warning line, no traceback), anything else as 500 (one error line
    with the traceback, for the server log only).
    """
    if isinstance(exc, ApiError):
        return exc.status, exc.message, dict(exc.headers)
    reason = unavailability(exc)
    if reason is not None:
        log.warning("database unavailable on %s %s: %s", method, path, reason)
        message = "the database is unavailable; try again shortly"
        return 503, message, {"Retry-After": RETRY_AFTER_SECONDS}
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return 500, "internal server error", {}


async def render_error(request: Request, exc: Exception) -> Response:
    """The framework's exception handler: every failure becomes the Error body."""
    if isinstance(exc, RequestValidationError):
        return error_response(400, describe_validation_error(exc))
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            message = f"no route for {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
            return error_response(405, message, {"Allow": _allowed_methods(request)})
        else:
            detail = exc.detail if isinstance(exc.detail, str) else None
            message = detail or _REASONS.get(exc.status_code, "request failed")
        return error_response(exc.status_code, message, exc.headers)
    status, message, headers = failure(exc, request.method, request.url.path)
    return error_response(status, message, headers)


class RenderUnhandled:
    """Renders what no handler caught, instead of Starlette's outermost middleware, which
    answers in plain text and raises it again for the server to log a second time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            status, message, headers = failure(exc, scope["method"], scope["path"])
            if not started:
                await error_response(status, message, headers)(scope, receive, send)


def _allowed_methods(request: Request) -> str:
    # The router names only the first route that matched the path: ask every route about
    # every method instead.
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure of the framework's routes the Error body."""
    for kind in (ApiError, RequestValidationError, HTTPException):
        app.add_exception_handler(kind, render_error)
    app.add_middleware(RenderUnhandled)
