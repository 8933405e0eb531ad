"""Request ids and the one log line per request.

Every response carries ``X-Request-Id``: the client's own value when it is sane, else a new
one. The id is kept in the request's state (version records store it) and in a context
variable (every log line written while serving the request carries it). After the response,
one line records method, route template, status, duration, organization and request id:
never a body, a header value or a query string, so no secret can reach the log.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
import sys
import time
from typing import Any, Literal

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "clarion_request_id", default=None
)
access_log = logging.getLogger("clarion.access")

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

LogFormat = Literal["json", "text"]


class RequestLog:
    """ASGI middleware: assigns the request id and writes the access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                route = state.get("route") or getattr(scope.get("route"), "path_format", None)
                access_log.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "http": {
                            "method": scope["method"],
                            "route": route or "unmatched",
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                            "organization_id": state.get("organization_id"),
                        }
                    },
                )
            request_id_var.reset(token)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return secrets.token_hex(16)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        http = getattr(record, "http", None)
        if http is not None:
            entry.update(http)
        else:
            entry["message"] = record.getMessage()
        entry["request_id"] = request_id_var.get()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = time.gmtime(record.created)
        return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """Human-readable lines, with the request id and the access fields when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        http = getattr(record, "http", None)
        if http is not None:
            line += f" route={http['route']} {http['duration_ms']}ms org={http['organization_id']}"
        request_id = request_id_var.get()
        return f"{line} request_id={request_id}" if request_id else line


def configure_logging(log_format: LogFormat) -> None:
    """Send clarion's and the server's logs to stderr in the chosen format."""
    # Nothing we log uses the caller's source line, thread or process name; the logging
    # HOWTO's "Optimization" section names these switches for skipping that work.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("clarion", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
