"""How failures are reported over HTTP: the status of each domain error (clarion.errors), and
the one place that turns any failure into the Error body.

Every response that is not a success has the body ``{"error": <HTTP status>, "message": ...}``,
whether it comes from our code, from the framework (unknown route, wrong method), or from a
bug; no stack trace, SQL or secret ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clarion.database.failures import unavailability
from clarion.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
    describe_validation_error,
)

log = logging.getLogger("clarion.api.errors")


class Error(BaseModel):
    """The error body of every failed request."""

    error: int = Field(description="The HTTP status code", json_schema_extra={"format": "int32"})
    message: str = Field(description="What went wrong, naming the offending field or parameter")


# The one mapping from the domain's errors to HTTP statuses. An error raised as a subclass of
# one of these (StaleVersion, say) is reported as its nearest class here.
STATUSES: Mapping[type[DomainError], int] = {
    DomainError: 400,
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    Unavailable: 503,
}


def status_of(error: DomainError) -> int:
    """The HTTP status ``error`` is reported with: its class's, or its nearest base's."""
    return next(STATUSES[kind] for kind in type(error).__mro__ if kind in STATUSES)


def headers_of(error: DomainError) -> dict[str, str]:
    """Headers the response carries besides the body: Retry-After when the server asks for
    a wait."""
    if isinstance(error, Unavailable | TooManyRequests) and error.retry_after_seconds:
        return {"Retry-After": str(error.retry_after_seconds)}
    return {}


def error_body(status: int, message: str) -> bytes:
    """The Error body's bytes."""
    return orjson.dumps({"error": status, "message": message})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The Error body as a framework response."""
    return Response(error_body(status, message), status, headers, media_type="application/json")


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
    if isinstance(exc, DomainError):
        return status_of(exc), exc.message, headers_of(exc)
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
    for kind in (DomainError, RequestValidationError, HTTPException):
        app.add_exception_handler(kind, render_error)
    app.add_middleware(RenderUnhandled)
