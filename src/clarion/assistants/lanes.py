"""The assistant API's fast lane: GET one assistant, PATCH one with a JSON body, the plain list.

These are what dashboards, sync jobs and every call set-up do all day, and under load the
framework's dependency solving and request objects cost several times the work itself. The
lane answers them ahead of FastAPI with the routes' own pieces: the same caller lookup, body
reader, media-type rule and list limit (clarion.api), the same service functions and the
same edge (clarion.assistants.http). A request in any other shape (date filters, an id that
is not one) goes on to the routes.
"""

from __future__ import annotations

from starlette.types import Receive, Scope

from clarion.api.dependencies import caller_from
from clarion.api.front import Handler
from clarion.api.requests import ID_PATTERN, json_media_type, only_limit
from clarion.api.responses import Reply
from clarion.assistants import http, service
from clarion.database.windows import Window
from clarion.people.roles import Role
from clarion.services import Services

COLLECTION = http.PREFIX
ITEM_ROUTE = http.PREFIX + http.ITEM
_ITEM_START = len(http.PREFIX) + 1


class AssistantLane:
    """Takes GET and PATCH of ``/v1/assistant/{id}`` and ``GET /v1/assistant[?limit=n]``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def handler_for(self, scope: Scope) -> Handler | None:
        """The handler for this request, or None to leave it to the routes."""
        path: str = scope["path"]
        method: str = scope["method"]
        if path == COLLECTION:
            if method == "GET" and only_limit(scope["query_string"]) is not None:
                return self._list
            return None
        if path[_ITEM_START - 1 : _ITEM_START] != "/" or not path.startswith(COLLECTION):
            return None
        if not ID_PATTERN.fullmatch(path, _ITEM_START):
            return None
        if method == "GET":
            return self._get
        if method == "PATCH":
            return self._patch
        return None

    async def _get(self, scope: Scope, receive: Receive) -> Reply:
        scope["state"]["route"] = ITEM_ROUTE
        caller = await caller_from(scope, self.services, Role.VIEWER)
        assistant_id = int(scope["path"][_ITEM_START:])
        record = await self.services.database.read(service.get_assistant, caller, assistant_id)
        return http.assistant_reply(record)

    async def _patch(self, scope: Scope, receive: Receive) -> Reply:
        scope["state"]["route"] = ITEM_ROUTE
        caller = await caller_from(scope, self.services, Role.EDITOR)
        assistant_id = int(scope["path"][_ITEM_START:])
        media = json_media_type(scope)
        body = await self.services.body_limit.read(scope, receive)
        return await http.update(self.services, caller, assistant_id, body, media, scope)

    async def _list(self, scope: Scope, receive: Receive) -> Reply:
        scope["state"]["route"] = COLLECTION
        caller = await caller_from(scope, self.services, Role.VIEWER)
        limit = only_limit(scope["query_string"])
        assert limit is not None  # noqa: S101 - handler_for checked it
        return await http.list_reply(self.services, caller, Window(limit))
