"""Request ids, the one access line per request, and the format of every other log line.

Every response carries ``X-Request-Id``: the client's own value when it is sane, else a new
one. The id is kept in the request's state (version records store it) and in a context
variable (every log line written while serving the request carries it). After the response,
one access line records method, route template, status, duration, organization and request
id: never a body, a header value or a query string, so no secret can reach the log.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import secrets
import sys
import time
import traceback
from types import TracebackType
from typing import IO, Any, Literal

import orjson
from starlette.types import Scope

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "clarion_request_id", default=None
)

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

LogFormat = Literal["json", "text"]


def request_id_of(scope: Scope) -> str:
    """The client's ``X-Request-Id`` when it is sane, else a new random one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return _new_request_id()


_fresh_ids: list[str] = []


def _new_request_id() -> str:
    # 32 hex characters of os.urandom; one system call makes 256 of them.
    if not _fresh_ids:
        pool = secrets.token_hex(16 * 256)
        _fresh_ids.extend(pool[start : start + 32] for start in range(0, len(pool), 32))
    return _fresh_ids.pop()


class AccessLog:
    """Writes the access line of every request to a byte stream (stderr when served).

    It does not go through :mod:`logging`: a record, its handler lock and a formatter cost a
    large share of a fast request (the README's performance section has the figures). Lines
    written in one turn of the event loop reach the stream together, flushed before the next
    turn.
    """

    def __init__(self, stream: IO[bytes] | None, log_format: LogFormat = "json") -> None:
        self._stream = stream
        self._text = log_format == "text"
        self._flush_pending = False
        self._second = -1
        self._second_text = ""

    def write(
        self,
        method: str,
        path: str,
        route: str | None,
        status: int,
        duration_ms: float,
        organization_id: int | None,
        request_id: str,
    ) -> None:
        """Write one request's access line; the stream is flushed at the next turn of the loop."""
        if self._stream is None:
            return
        if self._text:
            line = (
                f"{self._now(' ', ',')} INFO clarion.access: {method} {path} {status}"
                f" route={route or 'unmatched'} {duration_ms}ms org={organization_id}"
                f" request_id={request_id}\n"
            ).encode()
        else:
            line = orjson.dumps(
                {
                    "time": self._now("T", "."),
                    "level": "info",
                    "logger": "clarion.access",
                    "method": method,
                    "route": route or "unmatched",
                    "status": status,
                    "duration_ms": duration_ms,
                    "organization_id": organization_id,
                    "request_id": request_id,
                },
                option=orjson.OPT_APPEND_NEWLINE,
            )
        self._stream.write(line)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if self._stream is not None:
            self._stream.flush()

    def _now(self, date_separator: str, fraction_separator: str) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:  # formatting a date is the costly part; once a second
            self._second = second
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        text = self._second_text.replace(" ", date_separator)
        milliseconds = int((now - second) * 1000)
        suffix = "Z" if date_separator == "T" else ""
        return f"{text}{fraction_separator}{milliseconds:03d}{suffix}"


def stderr_access_log(log_format: LogFormat) -> AccessLog:
    """The access log the server writes: lines to stderr in the chosen format."""
    # sys.stderr.buffer is unbuffered (a raw FileIO: one system call per line); lines go
    # through a buffer of their own, which AccessLog flushes once per turn of the event loop.
    return AccessLog(open(sys.stderr.fileno(), "wb", closefd=False), log_format)


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def exception_without_messages(ei: ExcInfo) -> str:
    """A traceback that names each exception's type and where it was raised, never its
    message or arguments: they may quote what a patient said, or a statement's values."""
    error, parts, seen = ei[1], [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        kind = type(error)
        frames = "".join(traceback.format_tb(error.__traceback__))
        parts.append(
            f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}"
        )
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "\n\nwhich was raised while handling\n\n".join(parts)


class _Formatter(logging.Formatter):
    """What both formats share: tracebacks without exception messages."""

    def formatException(self, ei: ExcInfo) -> str:
        """The traceback without any exception's message (see exception_without_messages)."""
        return exception_without_messages(ei)


class JsonFormatter(_Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON object: time, level, logger, message, request id, exception."""
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """ISO 8601 in UTC with milliseconds and a ``Z``, as the access lines write it."""
        moment = time.gmtime(record.created)
        return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{int(record.msecs):03d}Z"


class TextFormatter(_Formatter):
    """Human-readable lines, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The usual line, with ``request_id=`` added while a request is being served."""
        line = super().format(record)
        request_id = request_id_var.get()
        return f"{line} request_id={request_id}" if request_id else line


# What the server's WebSocket layer logs on that logger: its line for each WebSocket (with the
# query string, where a web call's token is) and, at DEBUG, the request line and every frame
# ("< TEXT ...", "> TEXT ..."), which carry the token and what the patient says.
_WEBSOCKET_LINES = ('%s - "WebSocket %s"', "< ", "> ", "= ", "! ", "x ")


def _without_websocket_lines(record: logging.LogRecord) -> bool:
    """Drop the server's own WebSocket lines; the access line (without the query string) is
    written instead."""
    return not str(record.msg).startswith(_WEBSOCKET_LINES)


def keep_tokens_out_of_server_lines() -> None:
    """Filter uvicorn's WebSocket lines out at their logger, whatever handlers the process
    configured (``clarion serve``'s, or those of whoever serves the app otherwise)."""
    logging.getLogger("uvicorn.error").addFilter(_without_websocket_lines)


def configure_logging(log_format: LogFormat) -> None:
    """Send clarion's and the server's logs to stderr in the chosen format."""
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
    keep_tokens_out_of_server_lines()
    # The pool logs a traceback for every connection it fails to reset or close while the
    # database is away; the request or loop that met the failure has already logged it once.
    logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL)
