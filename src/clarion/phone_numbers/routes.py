"""HTTP routes for phone numbers. They parse and render; the service decides."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Query
from sqlalchemy import exc as sa_errors
from starlette.responses import Response

from clarion.api.dependencies import JsonBody, OwnerDep
from clarion.api.openapi import body_error_responses, error_response, error_responses
from clarion.api.requests import LIST_LIMIT_DEFAULT, Limit, resource_id
from clarion.api.responses import json_response
from clarion.api.secret_resources import request_body
from clarion.api.timestamps import IsoDateTime, as_utc_bound
from clarion.database import Database
from clarion.database.windows import Window
from clarion.phone_numbers import service
from clarion.phone_numbers.bodies import read_body
from clarion.phone_numbers.models import PhoneNumberRecord
from clarion.phone_numbers.schemas import (
    CreatePhoneNumber,
    PhoneNumber,
    UpdatePhoneNumber,
    phone_number_json,
)

router = APIRouter(prefix="/v1/phone-number", tags=["Phone numbers"])

ERRORS = error_responses(not_found="Phone number not found")
CHANGE_ERRORS = {
    **ERRORS,
    **body_error_responses(),
    **error_response(409, "The organization already has this number"),
}
ITEM = "/{phoneNumberId}"
ONE: dict[str, Any] = {"response_model": PhoneNumber, "responses": ERRORS}
"""What reading or deleting one phone number answers."""

# A unique key taken under a change: raised by the driver itself when the statement ran on
# the DB-API connection (clarion.database.statements), else wrapped by SQLAlchemy.
_LOST_RACE = (sa_errors.IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)

PhoneNumberId = Annotated[
    str, Path(alias="phoneNumberId", description="ID of the phone number (a positive integer)")
]


async def _write(
    database: Database, work: Callable[..., PhoneNumberRecord], *args: Any
) -> PhoneNumberRecord:
    """Run a change; once more if a simultaneous one took the number between this one's
    check and its write, so that it fails as checked, with a 409 (PostgreSQL; SQLite runs
    writes one at a time)."""
    try:
        return await database.write(work, *args)
    except _LOST_RACE:
        return await database.write(work, *args)


@router.post(
    "",
    status_code=201,
    response_model=PhoneNumber,
    responses=CHANGE_ERRORS,
    openapi_extra=request_body(CreatePhoneNumber, "The new phone number"),
    summary="Create Phone Number",
)
async def create_phone_number(auth: OwnerDep, raw: JsonBody) -> Response:
    """Adds a phone number held at Twilio to the caller's organization, optionally answered
    by one of its assistants.

    `twilio_auth_token` is write-only: it is stored encrypted and never returned, only its
    last 4 characters (`twilio_auth_token_hint`) for a token of 16 characters or more. An
    organization holds a number once (else 409).
    """
    fields = read_body(raw, CreatePhoneNumber)
    record = await _write(
        auth.database, service.create_phone_number, auth.caller, fields, auth.services.secrets
    )
    return json_response(phone_number_json(record), 201)


@router.get(
    "",
    response_model=list[PhoneNumber],
    responses=ERRORS,
    summary="List Phone Numbers",
)
async def list_phone_numbers(
    auth: OwnerDep,
    limit: Limit = LIST_LIMIT_DEFAULT,
    created_at_ge: Annotated[
        IsoDateTime | None,
        Query(description="Only numbers created at or after this ISO 8601 time (UTC if no zone)"),
    ] = None,
    created_at_le: Annotated[
        IsoDateTime | None,
        Query(description="Only numbers created at or before this ISO 8601 time (UTC if no zone)"),
    ] = None,
) -> Response:
    """Lists the caller's phone numbers, newest first (ties: highest id first)."""
    window = Window(limit, as_utc_bound(created_at_ge), as_utc_bound(created_at_le))
    records = await auth.database.read(service.list_phone_numbers, auth.caller, window)
    return json_response([phone_number_json(record) for record in records])


@router.get(ITEM, summary="Get Phone Number", **ONE)
async def get_phone_number(phone_number_id: PhoneNumberId, auth: OwnerDep) -> Response:
    """Returns one phone number (never its auth token)."""
    record = await auth.database.read(
        service.get_phone_number, auth.caller, resource_id(phone_number_id, "phone number")
    )
    return json_response(phone_number_json(record))


@router.patch(
    ITEM,
    response_model=PhoneNumber,
    responses=CHANGE_ERRORS,
    openapi_extra=request_body(UpdatePhoneNumber, "Phone number properties to update"),
    summary="Update Phone Number",
)
async def update_phone_number(
    phone_number_id: PhoneNumberId, auth: OwnerDep, raw: JsonBody
) -> Response:
    """Updates a phone number: a field left out is unchanged, `null` clears `assistant_id`
    or `name`, a new `twilio_auth_token` replaces the old one (it cannot be cleared)."""
    target = resource_id(phone_number_id, "phone number")
    changes = read_body(raw, UpdatePhoneNumber)
    record = await _write(
        auth.database,
        service.update_phone_number,
        auth.caller,
        target,
        changes,
        auth.services.secrets,
    )
    return json_response(phone_number_json(record))


@router.delete(ITEM, summary="Delete Phone Number", **ONE)
async def delete_phone_number(phone_number_id: PhoneNumberId, auth: OwnerDep) -> Response:
    """Deletes a phone number and returns it as it was. Calls made with it are kept as they
    are."""
    record = await auth.database.write(
        service.delete_phone_number, auth.caller, resource_id(phone_number_id, "phone number")
    )
    return json_response(phone_number_json(record))
