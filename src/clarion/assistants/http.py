"""The assistant API's HTTP edge, shared by its routes and its fast lane: how a change arrives
(JSON or merge patch, with If-Match), and how assistants leave (JSON bytes with an ETag, the
list written out from representations already rendered)."""

from __future__ import annotations

from starlette.types import Scope

from clarion.api.requests import if_match
from clarion.api.responses import Reply, encode_json, json_array, with_etag
from clarion.assistants import service
from clarion.assistants.bodies import parse_assistant_body, parse_merge_patch
from clarion.assistants.models import AssistantRecord
from clarion.assistants.rendered import RenderedAssistants
from clarion.assistants.representation import (
    assistant_json,
    etag,
    expected_versions,
    stale_as_etag,
)
from clarion.assistants.schemas import UpdateAssistant
from clarion.assistants.service import StaleVersion
from clarion.auth.service import Caller
from clarion.database import Unit
from clarion.database.windows import Window
from clarion.services import Services

PREFIX = "/v1/assistant"
ITEM = "/{assistantId}"
MERGE_PATCH = "application/merge-patch+json"


def assistant_reply(record: AssistantRecord) -> Reply:
    """An assistant's JSON, with its ETag."""
    return with_etag(encode_json(assistant_json(record)), etag(record))


async def update(
    services: Services, caller: Caller, assistant_id: int, body: bytes, media: str, scope: Scope
) -> Reply:
    """Apply a PATCH body (``media``: JSON or a merge patch), honouring If-Match."""
    merge = media == MERGE_PATCH
    changes = parse_merge_patch(body) if merge else parse_assistant_body(body, UpdateAssistant)
    try:
        record = await services.database.write(
            service.update_assistant,
            caller,
            assistant_id,
            changes,
            services.secrets,
            max_document_bytes=services.settings.max_body_bytes,
            merge=merge,
            expected=expected_versions(if_match(scope)),
        )
    except StaleVersion as stale:
        raise stale_as_etag(stale) from None
    return assistant_reply(record)


async def list_reply(services: Services, caller: Caller, window: Window) -> Reply:
    """The caller's assistants, newest first, as one JSON array."""
    body = await services.database.read(_listed, caller, window, services.rendered_assistants)
    return body, []


def _listed(unit: Unit, caller: Caller, window: Window, rendered: RenderedAssistants) -> bytes:
    # Which assistants, at which versions; when every one is already rendered, that is all
    # the database is asked. Both reads share the unit's snapshot.
    keys = service.list_current_versions(unit, caller, window)
    bodies = rendered.all_of(keys)
    if bodies is None:
        shown = service.list_assistants(unit, caller, window)
        bodies = [rendered.render(key, representation) for key, representation in shown]
    return json_array(bodies)
