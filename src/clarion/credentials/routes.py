"""HTTP routes for provider credentials. They parse and render; the service decides."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from clarion.api.dependencies import EditorDep, JsonBody
from clarion.api.openapi import body_error_responses, error_responses
from clarion.api.requests import LIST_LIMIT_DEFAULT, Limit, resource_id
from clarion.api.responses import json_response
from clarion.api.secret_resources import request_body
from clarion.credentials import service
from clarion.credentials.bodies import read_body
from clarion.credentials.reachability import unreachable
from clarion.credentials.schemas import (
    CreateCredential,
    Credential,
    UpdateCredential,
    credential_json,
)

router = APIRouter(prefix="/v1/credential", tags=["Provider credentials"])

ERRORS = error_responses(not_found="Credential not found")
BODY_ERRORS = body_error_responses()
ITEM = "/{credentialId}"
ONE: dict[str, Any] = {"response_model": Credential, "responses": ERRORS}
"""What every operation on one credential answers."""

CredentialId = Annotated[
    str, Path(alias="credentialId", description="ID of the credential (a positive integer)")
]


@router.post(
    "",
    status_code=201,
    response_model=Credential,
    responses={**ERRORS, **BODY_ERRORS},
    openapi_extra=request_body(CreateCredential, "The new credential"),
    summary="Create Credential",
)
async def create_credential(auth: EditorDep, raw: JsonBody) -> Response:
    """Stores an API key for a language-model or speech provider in the caller's organization.

    `api_key` is write-only: it is stored encrypted and never returned, only its last 4
    characters (`api_key_hint`) for a key of 16 characters or more.
    """
    fields = read_body(raw, CreateCredential)
    why = await unreachable(fields.get("base_url"), auth.services.settings)
    record = await auth.database.write(
        service.create_credential, auth.caller, fields, auth.services.secrets, why
    )
    return json_response(credential_json(record), 201)


@router.get(
    "",
    response_model=list[Credential],
    responses=ERRORS,
    summary="List Credentials",
)
async def list_credentials(auth: EditorDep, limit: Limit = LIST_LIMIT_DEFAULT) -> Response:
    """Lists the caller's credentials, newest first (ties: highest id first)."""
    records = await auth.database.read(service.list_credentials, auth.caller, limit)
    return json_response([credential_json(record) for record in records])


@router.get(ITEM, summary="Get Credential", **ONE)
async def get_credential(credential_id: CredentialId, auth: EditorDep) -> Response:
    """Returns one credential (never its key)."""
    record = await auth.database.read(
        service.get_credential, auth.caller, resource_id(credential_id, "credential")
    )
    return json_response(credential_json(record))


@router.patch(
    ITEM,
    response_model=Credential,
    responses={**ERRORS, **BODY_ERRORS},
    openapi_extra=request_body(UpdateCredential, "Credential properties to update"),
    summary="Update Credential",
)
async def update_credential(
    credential_id: CredentialId, auth: EditorDep, raw: JsonBody
) -> Response:
    """Updates a credential: a field left out is unchanged, `null` clears `base_url` or
    `name`, a new `api_key` replaces the old one (it cannot be cleared). `provider` cannot
    change: create another credential for another provider."""
    target = resource_id(credential_id, "credential")
    changes = read_body(raw, UpdateCredential)
    why = await unreachable(changes.get("base_url"), auth.services.settings)
    record = await auth.database.write(
        service.update_credential, auth.caller, target, changes, auth.services.secrets, why
    )
    return json_response(credential_json(record))


@router.delete(ITEM, summary="Delete Credential", **ONE)
async def delete_credential(credential_id: CredentialId, auth: EditorDep) -> Response:
    """Deletes a credential and returns it as it was."""
    record = await auth.database.write(
        service.delete_credential, auth.caller, resource_id(credential_id, "credential")
    )
    return json_response(credential_json(record))
