"""HTTP routes for an organization's API keys: owners list, issue and revoke them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from clarion.api.dependencies import OwnerDep
from clarion.api.openapi import error_responses
from clarion.api.requests import resource_id
from clarion.api.responses import json_response
from clarion.auth import service
from clarion.auth.keys import display_prefix

router = APIRouter(prefix="/v1/api-key", tags=["API keys"])

ERRORS = error_responses(not_found="API key not found")
KeyId = Annotated[str, Path(alias="keyId", description="ID of the API key")]


@router.get("", responses=ERRORS, summary="List API Keys")
async def list_keys(auth: OwnerDep) -> Response:
    """The organization's API keys, oldest first, by prefix only: a key is shown once.
    `created_by_user_id` is the console user who created a key, or null for one made by the
    command line or with an API key."""
    return json_response(await auth.database.read(service.list_keys, auth.caller.organization_id))


@router.post("", status_code=201, responses=ERRORS, summary="Create API Key")
async def create_key(auth: OwnerDep) -> Response:
    """Issues a new API key for the organization. `api_key` is in this response only. A key
    created by a signed-in console user (`created_by_user_id`) is revoked when that user is
    disabled; one created with an API key has none."""
    issued = await auth.database.write(
        service.issue_key, auth.caller.organization_id, auth.caller.user_id
    )
    return json_response(
        {
            "key_id": issued.key_id,
            "api_key": issued.api_key,
            "prefix": display_prefix(issued.api_key),
            "created_at": issued.created_at,
            "created_by_user_id": issued.created_by_user_id,
        },
        201,
    )


@router.post("/{keyId}/revoke", responses=ERRORS, summary="Revoke API Key")
async def revoke_key(key_id: KeyId, auth: OwnerDep) -> Response:
    """Revokes a key: requests made with it fail within a second, on every server."""
    return json_response(
        await auth.database.write(
            service.revoke_organization_key,
            auth.caller.organization_id,
            resource_id(key_id, "API key"),
        )
    )
