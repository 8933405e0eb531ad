"""The busiest assistant operations, served without the framework's per-request machinery.

GET one assistant, PATCH one with a JSON body, and the plain list are what dashboards, sync
jobs and every call set-up do all day. Profiled under load, FastAPI's dependency solving,
request objects and thread hops cost several times the work itself. This middleware answers
those three calls directly, with the same authentication, service functions, validation and
rendering as the routes in clarion.assistants.routes; any other request, or one of these in
an unusual shape (a merge patch, date filters, a query it does not know), goes on to the
FastAPI routes unchanged. The test suite runs every assistant test both ways.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from clarion.assistants import service
from clarion.assistants.repository import AssistantRecord
from clarion.assistants.schemas import UpdateAssistant, assistant_json, etag, parse_assistant_body
from clarion.auth.cache import KeyCache
from clarion.auth.dependencies import MISSING_CREDENTIALS, authenticate, bearer_token
from clarion.auth.service import Caller
from clarion.db import Database
from clarion.encryption import SecretBox
from clarion.errors import ApiError, Unauthenticated, error_response
from clarion.web import ID_PATTERN, encode_json, parse_if_match

COLLECTION = "/v1/assistant"
ITEM_PREFIX = "/v1/assistant/"
ITEM_ROUTE = "/v1/assistant/{assistantId}"
_JSON = (b"content-type", b"application/json")


class AssistantHotPaths:
    def __init__(
        self, app: ASGIApp, database: Database, key_cache: KeyCache, secrets: SecretBox
    ) -> None:
        self.app = app
        self.database = database
        self.key_cache = key_cache
        self.secrets = secrets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self._handler_for(scope)
            if handler is not None:
                try:
                    await handler(scope, receive, send)
                except ApiError as exc:
                    await error_response(exc.status, exc.message)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _handler_for(self, scope: Scope) -> Any:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == COLLECTION:
            if method == "GET" and _plain_limit(scope["query_string"]) is not None:
                return self._list
            return None
        if not path.startswith(ITEM_PREFIX) or not ID_PATTERN.fullmatch(path[len(ITEM_PREFIX) :]):
            return None
        if method == "GET":
            return self._get
        if method == "PATCH" and _header(scope, b"content-type") in (None, "application/json"):
            return self._patch
        return None

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = await self._caller(scope, ITEM_ROUTE)
        assistant_id = int(scope["path"][len(ITEM_PREFIX) :])
        row = await self.database.transaction(service.get_assistant, caller, assistant_id)
        await _send_assistant(send, row)

    async def _patch(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = await self._caller(scope, ITEM_ROUTE)
        assistant_id = int(scope["path"][len(ITEM_PREFIX) :])
        changes = parse_assistant_body(await _read_body(receive), UpdateAssistant)
        row = await self.database.write_transaction(
            service.update_assistant,
            caller,
            assistant_id,
            changes,
            self.secrets,
            if_match=parse_if_match(_header(scope, b"if-match")),
        )
        await _send_assistant(send, row)

    async def _list(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = await self._caller(scope, COLLECTION)
        limit = _plain_limit(scope["query_string"]) or 100
        rows = await self.database.transaction(service.list_assistants, caller, limit, None, None)
        await _send_json(send, encode_json([assistant_json(row) for row in rows]), [])

    async def _caller(self, scope: Scope, route: str) -> Caller:
        state = scope.setdefault("state", {})
        state["route"] = route
        token = bearer_token(_header(scope, b"authorization"))
        if token is None:
            raise Unauthenticated(MISSING_CREDENTIALS)
        caller = await authenticate(self.database, self.key_cache, token, state.get("request_id"))
        state["organization_id"] = caller.organization_id
        return caller


def _plain_limit(query_string: bytes) -> int | None:
    """The limit of a list request that names nothing else; 0 when there is no query."""
    if not query_string:
        return 0
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "limit" or not pairs[0][1].isdigit():
        return None
    limit = int(pairs[0][1])
    return limit if 1 <= limit <= 1000 else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_assistant(send: Send, row: AssistantRecord) -> None:
    await _send_json(send, encode_json(assistant_json(row)), [(b"etag", etag(row).encode())])


async def _send_json(send: Send, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [_JSON, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
