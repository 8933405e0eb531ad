"""GET /v1/health: is the server up, and can it reach its database?"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.responses import Response

from clarion.auth.dependencies import DatabaseDep
from clarion.errors import Error, ServiceUnavailable
from clarion.web import json_response

router = APIRouter(tags=["Health"])


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


@router.get(
    "/v1/health",
    response_model=Health,
    responses={503: {"model": Error, "description": "The database cannot be reached"}},
    summary="Health",
)
async def health(database: DatabaseDep) -> Response:
    """Says whether the server and its database are up. Needs no API key."""
    try:
        await database.read(_ping)
    except SQLAlchemyError:
        raise ServiceUnavailable("database unavailable") from None
    return json_response({"status": "ok", "database": "ok"})
