"""The outermost ASGI app: request ids, the access line, and the hot paths ahead of FastAPI.

Every HTTP request gets its ``X-Request-Id`` and its access line here. The assistant API's
busiest calls (clarion.assistants.hot_paths) are answered here directly; everything else,
and the lifespan, goes to the FastAPI application. Doing this in front of FastAPI rather than
as its middleware keeps Starlette's middleware stack (each layer wraps ``send`` again) off
those calls; failures on them are rendered exactly as clarion.errors renders them.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from clarion.assistants.hot_paths import AssistantHotPaths, Headers
from clarion.errors import error_body, failure
from clarion.request_log import AccessLog, request_id_of, request_id_var

_JSON = (b"content-type", b"application/json")


class Front:
    def __init__(
        self, framework: FastAPI, hot_paths: AssistantHotPaths | None, access_log: AccessLog
    ) -> None:
        self.framework = framework
        self.hot_paths = hot_paths
        self.access_log = access_log

    @property
    def state(self) -> Any:
        """The application's state (settings, database, ...), as FastAPI's ``app.state``."""
        return self.framework.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.framework(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        status = 500
        try:
            handler = None if self.hot_paths is None else self.hot_paths.handler_for(scope)
            if handler is None:
                status = await self._through_framework(scope, receive, send, request_id)
            else:
                try:
                    body, headers = await handler(scope, receive)
                    status = 200
                except Exception as exc:
                    status, message, extra = failure(exc, scope["method"], scope["path"])
                    body = error_body(status, message)
                    headers = [(name.encode(), value.encode()) for name, value in extra.items()]
                await _respond(send, status, body, headers, request_id)
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

    async def _through_framework(
        self, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> int:
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.framework(scope, receive, send_with_id)
        return status


async def _respond(send: Send, status: int, body: bytes, headers: Headers, request_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                _JSON,
                (b"content-length", b"%d" % len(body)),
                (b"x-request-id", request_id.encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
