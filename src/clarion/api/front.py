"""The outermost ASGI app: request ids, the access line, and fast lanes ahead of FastAPI.

Every HTTP request gets its ``X-Request-Id`` and its access line here, and every answer of
the API (under ``/v1/``) ``Cache-Control: no-store``; the front knows no resource. A resource
package may register a fast lane (clarion.assistants.lanes) for a call a benchmark showed the
framework's per-request machinery to slow down: it is built from the same pieces as the
routes (clarion.api.requests, clarion.api.dependencies), and its failures become the Error
body through the same function (clarion.api.errors.failure). Everything else, WebSockets and
the lifespan go to the FastAPI application.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from clarion.api.access_log import (
    AccessLog,
    keep_tokens_out_of_server_lines,
    request_id_of,
    request_id_var,
)
from clarion.api.errors import error_body, failure
from clarion.api.responses import Headers, Reply

Handler = Callable[[Scope, Receive], Awaitable[Reply]]
"""A fast lane's handler: the 200 reply, or an exception that failure() renders."""


class Lane(Protocol):
    """A resource's fast lane: the handler for the requests it takes, None for the rest."""

    def handler_for(self, scope: Scope) -> Handler | None:
        """The handler for this request, or None to leave it to the framework's routes."""
        ...


_JSON = (b"content-type", b"application/json")
_API = "/v1/"
# Transcripts, one-time passwords, new API keys and CSRF tokens come in the API's answers: no
# browser or proxy keeps any of them. An ETag still works: If-Match needs no stored copy.
_NO_STORE = (b"cache-control", b"no-store")


class Front:
    """The application as the server sees it: FastAPI behind request ids, access lines and
    the fast lanes."""

    def __init__(self, framework: FastAPI, lanes: Sequence[Lane], access_log: AccessLog) -> None:
        self.framework = framework
        self.lanes = tuple(lanes)
        self.access_log = access_log
        # The server's own WebSocket lines show the query string, where a web call's token is.
        keep_tokens_out_of_server_lines()

    @property
    def state(self) -> Any:
        """The application's state (settings, database, ...), as FastAPI's ``app.state``."""
        return self.framework.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.framework(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        status = 500
        added = [(b"x-request-id", request_id.encode())]
        if scope["path"].startswith(_API):
            added.append(_NO_STORE)
        try:
            handler = None
            for lane in self.lanes:
                handler = lane.handler_for(scope)
                if handler is not None:
                    break
            if handler is None:
                status = await self._through_framework(scope, receive, send, added)
            else:
                try:
                    body, headers = await handler(scope, receive)
                    status = 200
                except Exception as exc:
                    status, message, extra = failure(exc, scope["method"], scope["path"])
                    body = error_body(status, message)
                    headers = [(name.encode(), value.encode()) for name, value in extra.items()]
                await _respond(send, status, body, [*added, *headers])
        finally:
            route = state.get("route") or getattr(scope.get("route"), "path_format", None)
            self.access_log.write(
                scope["method"],
                scope["path"],
                route,
                status,
                round((time.perf_counter() - started) * 1000, 3),
                state.get("organization_id"),
                request_id,
            )
            request_id_var.reset(token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket, with an access line when it closes: 101 if it was accepted, else the
        status it was refused with. The line names the path only, never the query string
        (where a web call's token is)."""
        started = time.perf_counter()
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        status = 500

        async def send_tracked(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "websocket.accept":
                status = 101
            elif kind == "websocket.http.response.start":
                status = message["status"]
            elif kind == "websocket.close" and status == 500:
                status = 403  # closed before accepting: the server answers 403
            await send(message)

        try:
            await self.framework(scope, receive, send_tracked)
        finally:
            route = getattr(scope.get("route"), "path_format", None)
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            self.access_log.write("GET", scope["path"], route, status, elapsed, None, request_id)
            request_id_var.reset(token)

    async def _through_framework(
        self, scope: Scope, receive: Receive, send: Send, added: Headers
    ) -> int:
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        await self.framework(scope, receive, send_with_headers)
        return status


async def _respond(send: Send, status: int, body: bytes, headers: Headers) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", b"%d" % len(body)), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
