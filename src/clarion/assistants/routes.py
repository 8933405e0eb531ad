"""HTTP routes for assistants. They parse and render; the service decides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.responses import Response

from clarion.api.dependencies import EditorDep, JsonBody, ViewerDep
from clarion.api.openapi import body_error_responses, error_response, error_responses
from clarion.api.requests import LIST_LIMIT_DEFAULT, Limit, if_match, json_media_type, resource_id
from clarion.api.responses import encode_json, json_response, reply_response
from clarion.api.timestamps import IsoDateTime, as_utc_bound
from clarion.assistants import http, service
from clarion.assistants.bodies import parse_assistant_body
from clarion.assistants.representation import (
    assistant_json,
    etag,
    expected_versions,
    stale_as_etag,
    version_json,
)
from clarion.assistants.schemas import Assistant, AssistantVersion, CreateAssistant
from clarion.assistants.service import StaleVersion
from clarion.database import Unit
from clarion.database.windows import Window
from clarion.idempotency import service as idempotency

router = APIRouter(prefix=http.PREFIX, tags=["Assistants"])

ERRORS = error_responses(not_found="Assistant not found")
BODY_ERRORS = body_error_responses()
PRECONDITION = error_response(412, "If-Match does not match the current ETag")
ETAG_HEADER = {"ETag": {"description": "Changes with every version", "schema": {"type": "string"}}}

AssistantId = Annotated[
    str, Path(alias="assistantId", description="ID of the assistant (a positive integer)")
]
VersionNumber = Annotated[str, Path(description="Version number (1, 2, 3, ...)")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="Apply only if the assistant's ETag is one of these (or `*`); else 412",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying with the same key and body within 24 hours replays the first "
        "response instead of creating a second assistant; another body is a 409",
    ),
]
_UPDATE_BODY = {
    "requestBody": {
        "description": "Assistant properties to update",
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/UpdateAssistant"},
                "example": {
                    "first_message": "Hello, this is Northside Clinic.",
                    "model": {"provider": "openai", "model": "gpt-4o", "temperature": 0.3},
                    "voicemail_message": None,
                },
            },
            http.MERGE_PATCH: {
                "schema": {"$ref": "#/components/schemas/AssistantMergePatch"},
                "example": {"model": {"temperature": 0.5, "max_tokens": None}},
            },
        },
    }
}
_CREATE_BODY = {
    "requestBody": {
        "description": "The new assistant",
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CreateAssistant"}}
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=Assistant,
    responses={
        **ERRORS,
        **BODY_ERRORS,
        201: {"headers": ETAG_HEADER},
        **error_response(409, "Idempotency-Key reused with another body"),
    },
    openapi_extra=_CREATE_BODY,
    summary="Create Assistant",
)
async def create_assistant(
    raw: JsonBody, auth: EditorDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """Creates an assistant in the caller's organization."""
    fields = parse_assistant_body(raw, CreateAssistant)

    def create(unit: Unit) -> idempotency.StoredResponse:
        record = service.create_assistant(
            unit,
            auth.caller,
            fields,
            auth.services.secrets,
            max_document_bytes=auth.services.settings.max_body_bytes,
        )
        return idempotency.StoredResponse(201, encode_json(assistant_json(record)), etag(record))

    if idempotency_key is None:
        stored = await auth.database.write(create)
    else:
        request = idempotency.KeyedRequest(
            auth.caller,
            "create_assistant",
            idempotency.check_key(idempotency_key),
            idempotency.request_digest(raw),
        )
        stored = await idempotency.run_once(auth.database, request, create)
    headers = {"ETag": stored.etag} if stored.etag else {}
    if idempotency_key is not None:
        headers["Idempotent-Replayed"] = "true" if stored.replayed else "false"
    return Response(stored.body, stored.status, headers, media_type="application/json")


@router.get(
    "",
    response_model=list[Assistant],  # type: ignore[valid-type] # a model made from the field table
    responses=ERRORS,
    summary="List Assistants",
)
async def list_assistants(
    auth: ViewerDep,
    limit: Limit = LIST_LIMIT_DEFAULT,
    created_at_ge: Annotated[
        IsoDateTime | None,
        Query(
            description="Only assistants created at or after this ISO 8601 time (UTC if no zone)"
        ),
    ] = None,
    created_at_le: Annotated[
        IsoDateTime | None,
        Query(
            description="Only assistants created at or before this ISO 8601 time (UTC if no zone)"
        ),
    ] = None,
) -> Response:
    """Lists the caller's assistants, newest first (ties: highest id first)."""
    window = Window(limit, as_utc_bound(created_at_ge), as_utc_bound(created_at_le))
    return reply_response(await http.list_reply(auth.services, auth.caller, window))


@router.get(
    http.ITEM,
    response_model=Assistant,
    responses={**ERRORS, 200: {"headers": ETAG_HEADER}},
    summary="Get Assistant",
)
async def get_assistant(assistant_id: AssistantId, auth: ViewerDep) -> Response:
    """Returns one assistant, with its ETag."""
    record = await auth.database.read(
        service.get_assistant, auth.caller, resource_id(assistant_id, "assistant")
    )
    return reply_response(http.assistant_reply(record))


@router.patch(
    http.ITEM,
    response_model=Assistant,
    responses={
        **ERRORS,
        **BODY_ERRORS,
        **PRECONDITION,
        200: {"description": "Assistant updated successfully", "headers": ETAG_HEADER},
    },
    openapi_extra=_UPDATE_BODY,
    summary="Update Assistant",
)
async def update_assistant(
    request: Request,
    assistant_id: AssistantId,
    raw: JsonBody,
    auth: EditorDep,
    _if_match: IfMatch = None,
) -> Response:
    """Updates an existing assistant.

    With `application/json`, a field left out is unchanged, a field given replaces the stored
    value whole, and `null` clears an optional field; `{}` changes nothing. With
    `application/merge-patch+json` the body is an RFC 7396 merge patch: `model`, `voice`,
    `transcriber` and `analysis_plan` are merged key by key, `null` removes a key, arrays are
    replaced; the merged result is validated as a whole. `webhook_secret` is write-only. With
    `If-Match`, the update applies only if the assistant's ETag still matches (else 412, and
    nothing changes).
    """
    target = resource_id(assistant_id, "assistant")
    media = json_media_type(request.scope)
    reply = await http.update(auth.services, auth.caller, target, raw, media, request.scope)
    return reply_response(reply)


@router.delete(
    http.ITEM,
    response_model=Assistant,
    responses={**ERRORS, **PRECONDITION},
    summary="Delete Assistant",
)
async def delete_assistant(
    request: Request,
    assistant_id: AssistantId,
    auth: EditorDep,
    _if_match: IfMatch = None,
) -> Response:
    """Deletes an assistant and returns it as it was. Its version history stays readable."""
    try:
        record = await auth.database.write(
            service.delete_assistant,
            auth.caller,
            resource_id(assistant_id, "assistant"),
            expected=expected_versions(if_match(request.scope)),
        )
    except StaleVersion as stale:
        raise stale_as_etag(stale) from None
    return json_response(assistant_json(record))


@router.get(
    http.ITEM + "/versions",
    response_model=list[AssistantVersion],
    responses=ERRORS,
    summary="List Assistant Versions",
)
async def list_versions(
    assistant_id: AssistantId,
    auth: ViewerDep,
    limit: Limit = LIST_LIMIT_DEFAULT,
) -> Response:
    """The assistant's change history, newest first: who changed what, when, and to what."""
    records = await auth.database.read(
        service.list_versions, auth.caller, resource_id(assistant_id, "assistant"), limit
    )
    return json_response([version_json(record) for record in records])


@router.get(
    http.ITEM + "/versions/{version}",
    response_model=AssistantVersion,
    responses=ERRORS,
    summary="Get Assistant Version",
)
async def get_version(
    assistant_id: AssistantId, version: VersionNumber, auth: ViewerDep
) -> Response:
    """One version record."""
    record = await auth.database.read(
        service.get_version,
        auth.caller,
        resource_id(assistant_id, "assistant"),
        resource_id(version, "version"),
    )
    return json_response(version_json(record))


@router.post(
    http.ITEM + "/versions/{version}/restore",
    response_model=Assistant,
    responses={
        **ERRORS,
        **PRECONDITION,
        **error_response(413, "The restored assistant would be larger than the server accepts"),
        200: {"headers": ETAG_HEADER},
    },
    summary="Restore Assistant Version",
)
async def restore_version(
    request: Request,
    assistant_id: AssistantId,
    version: VersionNumber,
    auth: EditorDep,
    _if_match: IfMatch = None,
) -> Response:
    """Makes a recorded configuration current again, as a new version.

    The webhook secret is never recorded and stays as it is. Restoring a version of a deleted
    assistant brings it back under its old id (without a webhook secret).
    """
    try:
        record = await auth.database.write(
            service.restore_version,
            auth.caller,
            resource_id(assistant_id, "assistant"),
            resource_id(version, "version"),
            max_document_bytes=auth.services.settings.max_body_bytes,
            expected=expected_versions(if_match(request.scope)),
        )
    except StaleVersion as stale:
        raise stale_as_etag(stale) from None
    return reply_response(http.assistant_reply(record))
