"""Errors the services raise, and the one place that turns any failure into the Error body.

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
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

log = logging.getLogger("clarion.errors")


class Error(BaseModel):
    """The error body of every failed request."""

    error: int = Field(description="The HTTP status code", json_schema_extra={"format": "int32"})
    message: str = Field(description="What went wrong, naming the offending field or parameter")


class ApiError(Exception):
    """A failure the client can act on. ``status`` is the HTTP status it is reported with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ApiError):
    status = 400


class Unauthenticated(ApiError):
    status = 401


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PreconditionFailed(ApiError):
    status = 412


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class ServiceUnavailable(ApiError):
    status = 503


def error_body(status: int, message: str) -> bytes:
    return orjson.dumps({"error": status, "message": message})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
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


async def render_error(request: Request, exc: Exception) -> Response:
    """The one exception handler: every failure becomes the Error body."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message)
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
    # The traceback goes to the server log only; the client learns nothing internal.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal server error")


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
    for kind in (ApiError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(kind, render_error)
