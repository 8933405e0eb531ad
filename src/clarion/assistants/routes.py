"""HTTP routes for assistants. They parse and render; the service decides."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from clarion.assistants import service
from clarion.assistants.schemas import (
    Assistant,
    CreateAssistant,
    UpdateAssistant,
    parse_assistant_body,
)
from clarion.auth.dependencies import CallerDep, DatabaseDep
from clarion.encryption import SecretBox
from clarion.errors import Error
from clarion.web import json_response, read_json_body, resource_id

router = APIRouter(prefix="/v1/assistant", tags=["Assistants"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "Bad request"},
    401: {"model": Error, "description": "Missing, invalid or revoked API key"},
    404: {"model": Error, "description": "Assistant not found"},
}

AssistantId = Annotated[
    str, Path(alias="assistantId", description="ID of the assistant (a positive integer)")
]


def _json_body(schema_name: str, description: str) -> dict[str, Any]:
    # Bodies are parsed by parse_assistant_body (it keeps unknown nested keys as sent and
    # names the offending field), so the framework is only told what to document.
    return {
        "requestBody": {
            "description": description,
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
            },
        }
    }


def _secrets(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


@router.post(
    "",
    status_code=201,
    response_model=Assistant,
    responses=ERRORS,
    openapi_extra=_json_body("CreateAssistant", "The new assistant"),
    summary="Create Assistant",
)
async def create_assistant(request: Request, caller: CallerDep, database: DatabaseDep) -> Response:
    """Creates an assistant in the caller's organization."""
    fields = parse_assistant_body(await read_json_body(request), CreateAssistant)
    body = await database.write(service.create_assistant, caller, fields, _secrets(request))
    return json_response(body, 201)


@router.get("", response_model=list[Assistant], responses=ERRORS, summary="List Assistants")
async def list_assistants(
    caller: CallerDep,
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many to return")] = 100,
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
    body = await database.read(
        service.list_assistants, caller, limit, _as_utc(created_at_ge), _as_utc(created_at_le)
    )
    return json_response(body)


@router.get("/{assistantId}", response_model=Assistant, responses=ERRORS, summary="Get Assistant")
async def get_assistant(
    assistant_id: AssistantId, caller: CallerDep, database: DatabaseDep
) -> Response:
    """Returns one assistant."""
    body = await database.read(
        service.get_assistant, caller, resource_id(assistant_id, "assistant")
    )
    return json_response(body)


@router.patch(
    "/{assistantId}",
    response_model=Assistant,
    responses={**ERRORS, 200: {"description": "Assistant updated successfully"}},
    openapi_extra=_json_body("UpdateAssistant", "Assistant properties to update"),
    summary="Update Assistant",
)
async def update_assistant(
    request: Request, assistant_id: AssistantId, caller: CallerDep, database: DatabaseDep
) -> Response:
    """Updates an existing assistant.

    A field left out is unchanged, a field given replaces the stored value whole, and `null`
    clears an optional field. `{}` changes nothing. `webhook_secret` is write-only.
    """
    target = resource_id(assistant_id, "assistant")
    changes = parse_assistant_body(await read_json_body(request), UpdateAssistant)
    body = await database.write(
        service.update_assistant, caller, target, changes, _secrets(request)
    )
    return json_response(body)


@router.delete(
    "/{assistantId}", response_model=Assistant, responses=ERRORS, summary="Delete Assistant"
)
async def delete_assistant(
    assistant_id: AssistantId, caller: CallerDep, database: DatabaseDep
) -> Response:
    """Deletes an assistant and returns it as it was."""
    body = await database.write(
        service.delete_assistant, caller, resource_id(assistant_id, "assistant")
    )
    return json_response(body)


def _as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)
