"""GET /v1/health: can this server reach its database, and is each background loop working?"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import literal_column, select
from starlette.responses import Response

from clarion.api.dependencies import ServicesDep
from clarion.api.responses import json_response
from clarion.database import Unit
from clarion.database.failures import unavailability
from clarion.database.statements import Prepared
from clarion.engine.socket_writer import AUDIO
from clarion.runtime.supervision import LoopState

router = APIRouter(tags=["Health"])


class LoopHealth(BaseModel):
    """One background loop."""

    name: str = Field(examples=["webhook-claims"])
    state: LoopState
    failures: int = Field(description="Steps failed in a row (0 once one succeeds)")
    last_error: str | None = Field(
        description="Why the last step failed: the database unavailable and what it said, or "
        "the type of the error (the server log has where it was raised)"
    )
    since: dt.datetime = Field(description="When the loop entered this state")


class CallsHealth(BaseModel):
    """The calls this server process holds."""

    held: int = Field(description="Live calls held by this process")
    accepting: bool = Field(description="Whether it takes new calls (false while draining)")


class Health(BaseModel):
    """The server, its database and its background loops are all working."""

    status: Literal["ok"]
    database: Literal["ok"]
    calls: CallsHealth
    loops: list[LoopHealth]


class Unhealthy(BaseModel):
    """The Error body, with the same report as a healthy answer."""

    error: int = Field(json_schema_extra={"format": "int32"})
    message: str
    status: Literal["unavailable"]
    database: Literal["ok", "unavailable"]
    calls: CallsHealth
    loops: list[LoopHealth]


_PING = Prepared(lambda: select(literal_column("1")))


def _ping(unit: Unit) -> None:
    unit.statements.fetch_one(_PING)


@router.get(
    "/v1/health",
    response_model=Health,
    responses={
        503: {
            "model": Unhealthy,
            "description": "The database or a loop is down, or the server is draining",
        }
    },
    summary="Health",
)
async def health(services: ServicesDep) -> Response:
    """Says whether the database answers and each background loop is working, and how many
    calls this process holds (503 if anything is down, or while the server drains its calls
    before stopping, so that a load balancer sends new calls elsewhere). Needs no API key."""
    runtime = services.runtime
    loops = [
        {
            "name": status.name,
            "state": status.state,
            "failures": status.failures,
            "last_error": status.last_error,
            "since": status.since,
        }
        for status in runtime.loops.values()
    ]
    problems = [
        f"{status.name} is {status.state}: {status.last_error}"
        for status in runtime.loops.values()
        if not status.healthy
    ]
    live_calls = services.live_calls
    calls = {
        "held": live_calls.held,
        "accepting": live_calls.accepting,
        # Voice calls' audio since the process started: a late frame left over 20 ms after
        # its time, which a caller hears as a gap.
        "audio_frames_sent": AUDIO.sent,
        "audio_frames_late": AUDIO.late,
    }
    if not live_calls.accepting:
        problems.append("the server is draining its calls before stopping: it takes no new ones")
    database_state = "ok"
    try:
        await services.database.read(_ping)
    except Exception as error:
        reason = unavailability(error)
        if reason is None:
            raise
        database_state = "unavailable"
        problems.insert(0, f"database unavailable: {reason}")
    if not problems:
        return json_response({"status": "ok", "database": "ok", "calls": calls, "loops": loops})
    body = {
        "error": 503,
        "message": "; ".join(problems),
        "status": "unavailable",
        "database": database_state,
        "calls": calls,
        "loops": loops,
    }
    return json_response(body, 503, {"Retry-After": "5"})
