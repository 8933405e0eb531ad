"""HTTP routes for assistants. They parse and render; the service decides."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from clarion.assistants import service
from clarion.assistants.repository import AssistantRecord
from clarion.assistants.schemas import (
    Assistant,
    AssistantVersion,
    CreateAssistant,
    UpdateAssistant,
    assistant_json,
    etag,
    parse_assistant_body,
    parse_merge_patch,
    version_json,
)
from clarion.auth.dependencies import CallerDep, DatabaseDep
from clarion.encryption import SecretBox
from clarion.errors import Error
from clarion.idempotency import service as idempotency
from clarion.statements import Transaction
from clarion.timestamps import as_utc_bound
from clarion.web import (
    encode_json,
    if_match,
    json_response,
    media_type,
    read_json_body,
    resource_id,
)

router = APIRouter(prefix="/v1/assistant", tags=["Assistants"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "Bad request"},
    401: {"model": Error, "description": "Missing, invalid or revoked API key"},
    404: {"model": Error, "description": "Assistant not found"},
}
PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: {"model": Error, "description": "If-Match does not match the current ETag"},
}
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
Limit = Annotated[int, Query(ge=1, le=1000, description="How many to return")]

MERGE_PATCH = "application/merge-patch+json"
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
            MERGE_PATCH: {
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


def _secrets(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


def _assistant_response(row: AssistantRecord, status: int = 200) -> Response:
    return json_response(assistant_json(row), status, {"ETag": etag(row)})


@router.post(
    "",
    status_code=201,
    response_model=Assistant,
    responses={
        **ERRORS,
        201: {"headers": ETAG_HEADER},
        409: {"model": Error, "description": "Idempotency-Key reused with another body"},
    },
    openapi_extra=_CREATE_BODY,
    summary="Create Assistant",
)
async def create_assistant(
    request: Request,
    caller: CallerDep,
    database: DatabaseDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Creates an assistant in the caller's organization."""
    raw = await read_json_body(request)
    fields = parse_assistant_body(raw, CreateAssistant)
    secrets = _secrets(request)
    if idempotency_key is None:
        row = await database.write_transaction(service.create_assistant, caller, fields, secrets)
        return _assistant_response(row, 201)

    def create(session: Session) -> idempotency.StoredResponse:
        row = service.create_assistant(Transaction.of(session), caller, fields, secrets)
        return idempotency.StoredResponse(201, encode_json(assistant_json(row)), etag(row))

    stored = await idempotency.run_once(
        database,
        caller,
        "create_assistant",
        idempotency.check_key(idempotency_key),
        idempotency.request_digest(raw),
        create,
    )
    headers = {"Idempotent-Replayed": "true" if stored.replayed else "false"}
    if stored.etag:
        headers["ETag"] = stored.etag
    return Response(stored.body, stored.status, headers, media_type="application/json")


@router.get("", response_model=list[Assistant], responses=ERRORS, summary="List Assistants")
async def list_assistants(
    request: Request,
    caller: CallerDep,
    database: DatabaseDep,
    limit: Limit = 100,
    created_at_ge: Annotated[
        dt.datetime | None,
        Query(
            description="Only assistants created at or after this ISO 8601 time (UTC if no zone)"
        ),
    ] = None,
    created_at_le: Annotated[
        dt.datetime | None,
        Query(
            description="Only assistants created at or before this ISO 8601 time (UTC if no zone)"
        ),
    ] = None,
) -> Response:
    """Lists the caller's assistants, newest first (ties: highest id first)."""
    body = await database.transaction(
        service.list_assistants,
        caller,
        limit,
        as_utc_bound(created_at_ge),
        as_utc_bound(created_at_le),
        request.app.state.rendered_assistants,
    )
    return Response(body, media_type="application/json")


@router.get(
    "/{assistantId}",
    response_model=Assistant,
    responses={**ERRORS, 200: {"headers": ETAG_HEADER}},
    summary="Get Assistant",
)
async def get_assistant(
    assistant_id: AssistantId, caller: CallerDep, database: DatabaseDep
) -> Response:
    """Returns one assistant, with its ETag."""
    row = await database.transaction(
        service.get_assistant, caller, resource_id(assistant_id, "assistant")
    )
    return _assistant_response(row)


@router.patch(
    "/{assistantId}",
    response_model=Assistant,
    responses={
        **ERRORS,
        **PRECONDITION,
        200: {"description": "Assistant updated successfully", "headers": ETAG_HEADER},
    },
    openapi_extra=_UPDATE_BODY,
    summary="Update Assistant",
)
async def update_assistant(
    request: Request,
    assistant_id: AssistantId,
    caller: CallerDep,
    database: DatabaseDep,
    _if_match: IfMatch = None,
) -> Response:
    """Updates an existing assistant.

    With `application/json`, a field left out is unchanged, a field given replaces the stored
    value whole, and `null` clears an optional field; `{}` changes nothing. With
    `application/merge-patch+json` the body is an RFC 7396 merge patch: `model`, `voice` and
    `analysis_plan` are merged key by key, `null` removes a key, arrays are replaced; the merged
    result is validated as a whole. `webhook_secret` is write-only. With `If-Match`, the update
    applies only if the assistant's ETag still matches (else 412, and nothing changes).
    """
    target = resource_id(assistant_id, "assistant")
    raw = await read_json_body(request)
    merge = media_type(request) == MERGE_PATCH
    changes = parse_merge_patch(raw) if merge else parse_assistant_body(raw, UpdateAssistant)
    row = await database.write_transaction(
        service.update_assistant,
        caller,
        target,
        changes,
        _secrets(request),
        merge=merge,
        if_match=if_match(request),
    )
    return _assistant_response(row)


@router.delete(
    "/{assistantId}",
    response_model=Assistant,
    responses={**ERRORS, **PRECONDITION},
    summary="Delete Assistant",
)
async def delete_assistant(
    request: Request,
    assistant_id: AssistantId,
    caller: CallerDep,
    database: DatabaseDep,
    _if_match: IfMatch = None,
) -> Response:
    """Deletes an assistant and returns it as it was. Its version history stays readable."""
    row = await database.write_transaction(
        service.delete_assistant,
        caller,
        resource_id(assistant_id, "assistant"),
        if_match=if_match(request),
    )
    return json_response(assistant_json(row))


@router.get(
    "/{assistantId}/versions",
    response_model=list[AssistantVersion],
    responses=ERRORS,
    summary="List Assistant Versions",
)
async def list_versions(
    assistant_id: AssistantId, caller: CallerDep, database: DatabaseDep, limit: Limit = 100
) -> Response:
    """The assistant's change history, newest first: who changed what, when, and to what."""
    records = await database.transaction(
        service.list_versions, caller, resource_id(assistant_id, "assistant"), limit
    )
    return json_response([version_json(record) for record in records])


@router.get(
    "/{assistantId}/versions/{version}",
    response_model=AssistantVersion,
    responses=ERRORS,
    summary="Get Assistant Version",
)
async def get_version(
    assistant_id: AssistantId, version: VersionNumber, caller: CallerDep, database: DatabaseDep
) -> Response:
    """One version record."""
    record = await database.transaction(
        service.get_version,
        caller,
        resource_id(assistant_id, "assistant"),
        resource_id(version, "version"),
    )
    return json_response(version_json(record))


@router.post(
    "/{assistantId}/versions/{version}/restore",
    response_model=Assistant,
    responses={**ERRORS, **PRECONDITION, 200: {"headers": ETAG_HEADER}},
    summary="Restore Assistant Version",
)
async def restore_version(
    request: Request,
    assistant_id: AssistantId,
    version: VersionNumber,
    caller: CallerDep,
    database: DatabaseDep,
    _if_match: IfMatch = None,
) -> Response:
    """Makes a recorded configuration current again, as a new version.

    The webhook secret is never recorded and stays as it is. Restoring a version of a deleted
    assistant brings it back under its old id (without a webhook secret).
    """
    row = await database.write_transaction(
        service.restore_version,
        caller,
        resource_id(assistant_id, "assistant"),
        resource_id(version, "version"),
        if_match=if_match(request),
    )
    return _assistant_response(row)
