"""Replaying the first response to a retried request.

The same key with the same body within 24 hours gets the first response again; with another
body it is a 409. The remembered response is written in the transaction that made the
change, so either both exist or neither does. Two simultaneous requests with one key meet at
the unique constraint: the loser's transaction rolls back and, retried, finds the winner's
response to replay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from clarion.auth.service import Caller
from clarion.database import Database, Unit
from clarion.database.clock import utcnow
from clarion.errors import Conflict, InvalidInput
from clarion.idempotency.models import IdempotentRequestRow

KEY_LIFETIME = dt.timedelta(hours=24)
_SANE_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response as first given, to give again."""

    status: int
    body: bytes
    etag: str | None
    replayed: bool = False


def check_key(key: str) -> str:
    """The key, when it is 1 to 255 visible ASCII characters; else a 400."""
    if not _SANE_KEY.fullmatch(key):
        raise InvalidInput("Idempotency-Key: must be 1 to 255 visible ASCII characters")
    return key


def request_digest(body: bytes) -> str:
    """What tells one request body from another."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A request made with an Idempotency-Key: by whom, for what, with which key and body."""

    caller: Caller
    operation: str
    key: str
    digest: str
    """The body's digest (request_digest)."""


async def run_once(
    database: Database, request: KeyedRequest, perform: Callable[[Unit], StoredResponse]
) -> StoredResponse:
    """``perform`` once per (organization, operation, key); later calls replay its response."""
    try:
        return await database.write(_run_once, request, perform)
    except IntegrityError:
        # A simultaneous request with this key committed first: replay its response.
        return await database.write(_run_once, request, perform)


def _run_once(
    unit: Unit, request: KeyedRequest, perform: Callable[[Unit], StoredResponse]
) -> StoredResponse:
    caller, operation, key, digest = request.caller, request.operation, request.key, request.digest
    now = utcnow()
    session = unit.session
    scope = (
        IdempotentRequestRow.organization_id == caller.organization_id,
        IdempotentRequestRow.operation == operation,
        IdempotentRequestRow.key == key,
    )
    remembered = session.scalars(select(IdempotentRequestRow).where(*scope)).first()
    if remembered is not None and remembered.created_at > now - KEY_LIFETIME:
        if remembered.request_digest != digest:
            raise Conflict(
                "Idempotency-Key was already used with a different request body; "
                "use a new key for a new request"
            )
        return StoredResponse(
            remembered.status, remembered.response_body, remembered.response_etag, replayed=True
        )
    if remembered is not None:
        session.execute(delete(IdempotentRequestRow).where(*scope))
    response = perform(unit)
    session.add(
        IdempotentRequestRow(
            organization_id=caller.organization_id,
            operation=operation,
            key=key,
            request_digest=digest,
            status=response.status,
            response_body=response.body,
            response_etag=response.etag,
            created_at=now,
        )
    )
    session.flush()
    return response
