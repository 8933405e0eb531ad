"""SQL for phone numbers. Every query is scoped to an organization.

Statements are written with SQLAlchemy Core against the mapped table and compiled once
(clarion.database.statements), as the assistants' are.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, select, update

from clarion.database.schema import of_organization, one_of_organization
from clarion.database.statements import Prepared, Row, Statements
from clarion.database.windows import Window
from clarion.phone_numbers.models import PHONE_NUMBERS, PhoneNumberRecord

_COLUMNS = [column.name for column in PHONE_NUMBERS.columns]
# What an update may write: everything but the id, the organization and the creation time.
_CHANGEABLE = (
    "number",
    "provider",
    "name",
    "assistant_id",
    "twilio_account_sid",
    "twilio_auth_token_encrypted",
    "twilio_auth_token_hint",
    "updated_at",
)


def _scoped() -> Any:
    return select(PHONE_NUMBERS).where(
        *one_of_organization(PHONE_NUMBERS),
    )


def _list(created_from: bool, created_to: bool) -> Select[Any]:
    query = select(PHONE_NUMBERS).where(of_organization(PHONE_NUMBERS))
    if created_from:
        query = query.where(PHONE_NUMBERS.c.created_at >= bindparam("created_from"))
    if created_to:
        query = query.where(PHONE_NUMBERS.c.created_at <= bindparam("created_to"))
    return query.order_by(PHONE_NUMBERS.c.created_at.desc(), PHONE_NUMBERS.c.id.desc()).limit(
        bindparam("limit")
    )


_GET = Prepared(_scoped)
# FOR UPDATE locks the row until the transaction ends on PostgreSQL; SQLite leaves it out,
# its write transaction already holding the database's write lock.
_GET_FOR_UPDATE = Prepared(lambda: _scoped().with_for_update())
_BY_NUMBER = Prepared(
    lambda: select(PHONE_NUMBERS.c.id).where(
        of_organization(PHONE_NUMBERS), PHONE_NUMBERS.c.number == bindparam("number")
    )
)
# The one statement not scoped to an organization: Twilio, calling in, names a number and an
# account, and which organization's number it is comes from whose auth token signed it.
_CALLED = Prepared(
    lambda: (
        select(PHONE_NUMBERS)
        .where(
            PHONE_NUMBERS.c.number == bindparam("number"),
            PHONE_NUMBERS.c.twilio_account_sid == bindparam("account_sid"),
        )
        .order_by(PHONE_NUMBERS.c.id)
    )
)
_LISTS = {
    (lower, upper): Prepared(partial(_list, lower, upper))
    for lower in (False, True)
    for upper in (False, True)
}
_INSERT = Prepared(
    lambda: (
        insert(PHONE_NUMBERS)
        .values({name: bindparam(name) for name in _COLUMNS[1:]})
        .returning(PHONE_NUMBERS.c.id)
    )
)
_UPDATE = Prepared(
    lambda: (
        update(PHONE_NUMBERS)
        .where(
            *one_of_organization(PHONE_NUMBERS),
        )
        .values({name: bindparam(name) for name in _CHANGEABLE})
    )
)
_DELETE = Prepared(
    lambda: delete(PHONE_NUMBERS).where(
        *one_of_organization(PHONE_NUMBERS),
    )
)


def get(
    statements: Statements, organization_id: int, phone_number_id: int, *, for_update: bool = False
) -> PhoneNumberRecord | None:
    """The organization's phone number, or None: another organization's is as good as
    missing."""
    query = _GET_FOR_UPDATE if for_update else _GET
    row = statements.fetch_one(query, id=phone_number_id, organization_id=organization_id)
    return _record(row)


def id_of_number(statements: Statements, organization_id: int, number: str) -> int | None:
    """The id of the organization's phone number ``number``, or None when it has none."""
    row = statements.fetch_one(_BY_NUMBER, organization_id=organization_id, number=number)
    return None if row is None else int(row[0])


def called(statements: Statements, number: str, account_sid: str) -> list[PhoneNumberRecord]:
    """Every organization's phone number ``number`` held in the Twilio account
    ``account_sid``, oldest first: the candidates for a call Twilio reports to that number.
    The caller tells them apart by the signature their auth tokens make."""
    rows = statements.fetch_all(_CALLED, number=number, account_sid=account_sid)
    return [PhoneNumberRecord(*row) for row in rows]


def list_newest_first(
    statements: Statements, organization_id: int, window: Window
) -> list[PhoneNumberRecord]:
    """The organization's phone numbers within the window, newest first (created in the same
    instant: highest id first)."""
    rows = statements.fetch_all(
        _LISTS[window.shape], organization_id=organization_id, **window.parameters()
    )
    return [PhoneNumberRecord(*row) for row in rows]


def add(statements: Statements, phone_number: PhoneNumberRecord) -> None:
    """Insert the phone number; it gets its id here."""
    values = {name: getattr(phone_number, name) for name in _COLUMNS[1:]}
    row = statements.fetch_one(_INSERT, **values)
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    phone_number.id = row[0]


def save(statements: Statements, phone_number: PhoneNumberRecord) -> None:
    """Write the changeable columns of a phone number read earlier in this unit."""
    statements.execute(
        _UPDATE,
        id=phone_number.id,
        organization_id=phone_number.organization_id,
        **{name: getattr(phone_number, name) for name in _CHANGEABLE},
    )


def delete_one(statements: Statements, phone_number: PhoneNumberRecord) -> None:
    """Delete the phone number."""
    statements.execute(_DELETE, id=phone_number.id, organization_id=phone_number.organization_id)


def _record(row: Row | None) -> PhoneNumberRecord | None:
    return None if row is None else PhoneNumberRecord(*row)
