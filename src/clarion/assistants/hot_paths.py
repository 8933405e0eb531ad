"""The busiest assistant operations, served without the framework's per-request machinery.

GET one assistant, PATCH one with a JSON body, and the plain list are what dashboards, sync
jobs and every call set-up do all day. Profiled under load, FastAPI's dependency solving,
request objects and thread hops cost several times the work itself. clarion.front hands
these three calls here; they use the same authentication, service functions, validation and
rendering as the routes in clarion.assistants.routes. Any other request, or one of these in
an unusual shape (a merge patch, date filters, a query it does not know), goes on to the
FastAPI routes unchanged. The test suite runs every assistant test both ways.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope

from clarion.assistants import service
from clarion.assistants.rendered import RenderedAssistants
from clarion.assistants.repository import AssistantRecord
from clarion.assistants.schemas import (
    UpdateAssistant,
    assistant_json,
    etag,
    parse_assistant_body,
)
from clarion.auth.cache import KeyCache
from clarion.auth.dependencies import MISSING_CREDENTIALS, authenticate, bearer_token
from clarion.auth.service import Caller
from clarion.db import Database
from clarion.encryption import SecretBox
from clarion.errors import PayloadTooLarge, Unauthenticated
from clarion.web import ID_PATTERN, encode_json, parse_if_match

COLLECTION = "/v1/assistant"
ITEM_PREFIX = "/v1/assistant/"
ITEM_ROUTE = "/v1/assistant/{assistantId}"
_ID_START = len(ITEM_PREFIX)

Headers = list[tuple[bytes, bytes]]
Reply = tuple[bytes, Headers]
"""A 200 response: its JSON body and headers beyond Content-Type and Content-Length."""
Handler = Callable[[Scope, Receive], Awaitable[Reply]]


class AssistantHotPaths:
    def __init__(
        self,
        database: Database,
        key_cache: KeyCache,
        rendered: RenderedAssistants,
        secrets: SecretBox,
        max_body_bytes: int,
    ) -> None:
        self.database = database
        self.key_cache = key_cache
        self.rendered = rendered
        self.secrets = secrets
        self.max_body_bytes = max_body_bytes

    def handler_for(self, scope: Scope) -> Handler | None:
        """The handler for this request, or None when FastAPI's routes should serve it."""
        path: str = scope["path"]
        method: str = scope["method"]
        if path == COLLECTION:
            if method == "GET" and _plain_limit(scope["query_string"]) is not None:
                return self._list
            return None
        if not path.startswith(ITEM_PREFIX) or not ID_PATTERN.fullmatch(path, _ID_START):
            return None
        if method == "GET":
            return self._get
        if method == "PATCH" and _header(scope, b"content-type") in (None, b"application/json"):
            return self._patch
        return None

    async def _get(self, scope: Scope, receive: Receive) -> Reply:
        caller = await self._caller(scope, ITEM_ROUTE)
        assistant_id = int(scope["path"][_ID_START:])
        row = await self.database.transaction(service.get_assistant, caller, assistant_id)
        return _assistant(row)

    async def _patch(self, scope: Scope, receive: Receive) -> Reply:
        caller = await self._caller(scope, ITEM_ROUTE)
        assistant_id = int(scope["path"][_ID_START:])
        changes = parse_assistant_body(await self._read_body(scope, receive), UpdateAssistant)
        if_match = _header(scope, b"if-match")
        row = await self.database.write_transaction(
            service.update_assistant,
            caller,
            assistant_id,
            changes,
            self.secrets,
            if_match=None if if_match is None else parse_if_match(if_match.decode("latin-1")),
        )
        return _assistant(row)

    async def _list(self, scope: Scope, receive: Receive) -> Reply:
        caller = await self._caller(scope, COLLECTION)
        limit = _plain_limit(scope["query_string"]) or 100
        body = await self.database.transaction(
            service.list_assistants, caller, limit, None, None, self.rendered
        )
        return body, []

    async def _caller(self, scope: Scope, route: str) -> Caller:
        state = scope["state"]
        state["route"] = route
        authorization = _header(scope, b"authorization")
        token = None if authorization is None else bearer_token(authorization.decode("latin-1"))
        if token is None:
            raise Unauthenticated(MISSING_CREDENTIALS)
        caller = await authenticate(self.database, self.key_cache, token, state["request_id"])
        state["organization_id"] = caller.organization_id
        return caller

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole request body, refused with 413 beyond the limit, declared or streamed."""
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise PayloadTooLarge(self._too_large())
        chunks = []
        received = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                raise PayloadTooLarge(self._too_large())
            chunks.append(chunk)
            if not message.get("more_body"):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _too_large(self) -> str:
        return f"request body is larger than the limit of {self.max_body_bytes} bytes"


def _assistant(row: AssistantRecord) -> Reply:
    return encode_json(assistant_json(row)), [(b"etag", etag(row).encode())]


def _plain_limit(query_string: bytes) -> int | None:
    """The limit of a list request that names nothing else; 0 when there is no query."""
    if not query_string:
        return 0
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "limit" or not pairs[0][1].isdigit():
        return None
    limit = int(pairs[0][1])
    return limit if 1 <= limit <= 1000 else None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            found: bytes = value
            return found
    return None
