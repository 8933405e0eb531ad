"""HTTP route for the access log: owners read who read which call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from clarion.api.dependencies import OwnerDep
from clarion.api.openapi import error_responses
from clarion.api.requests import LIST_LIMIT_DEFAULT, MAX_ID, Limit
from clarion.api.responses import json_response
from clarion.api.timestamps import IsoDateTime, as_utc_bound
from clarion.call_reads import service
from clarion.call_reads.models import ActorType
from clarion.call_reads.repository import Wanted

router = APIRouter(tags=["Access log"])


class AccessLogEntry(BaseModel):
    """One read of one call's messages or transcript."""

    id: int
    call_id: int
    actor_type: ActorType
    actor_id: int
    at: str
    address: str | None


@router.get(
    "/v1/access-log",
    response_model=list[AccessLogEntry],
    responses=error_responses(),
    summary="List Access Log",
)
async def list_access_log(
    auth: OwnerDep,
    limit: Limit = LIST_LIMIT_DEFAULT,
    call_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this call")] = None,
    actor_type: Annotated[
        ActorType | None, Query(description="Only reads by users or by keys")
    ] = None,
    actor_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this user's or key's reads")
    ] = None,
    at_ge: Annotated[
        IsoDateTime | None, Query(description="Only reads at or after this ISO 8601 time")
    ] = None,
    at_le: Annotated[
        IsoDateTime | None, Query(description="Only reads at or before this ISO 8601 time")
    ] = None,
) -> Response:
    """Who read which call's messages or transcript (through the console or the API), newest
    first: one entry per call a response carried, lists included. Kept append-only."""
    wanted = Wanted(call_id, actor_type, actor_id, as_utc_bound(at_ge), as_utc_bound(at_le))
    entries = await auth.database.read(service.list_entries, auth.caller, limit, wanted)
    return json_response(entries)
