"""SQL for assistants and their version records. Every query is scoped to an organization.

Statements are written with SQLAlchemy Core against the mapped tables and compiled once
(clarion.statements): these are the API's hot paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from typing import Any, cast

import orjson
from sqlalchemy import Insert, Select, Table, bindparam, delete, insert, select, update

from clarion.assistants.models import Assistant, AssistantVersion
from clarion.statements import Prepared, Row, Transaction

ASSISTANTS = cast(Table, Assistant.__table__)
VERSIONS = cast(Table, AssistantVersion.__table__)


Document = dict[str, Any] | orjson.Fragment
"""A JSON column's value: decoded, or (rows read only to be shown) its stored JSON text."""


@dataclass(slots=True)
class AssistantRecord:
    """An assistant row. Field order is the table's column order."""

    id: int
    organization_id: int
    name: str
    model: Document | None
    voice: Document | None
    first_message: str | None
    max_duration_seconds: int | None
    voicemail_message: str | None
    webhook_url: str | None
    webhook_secret_encrypted: bytes | None
    analysis_plan: Document | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


@dataclass(slots=True)
class VersionRecord:
    """A version record row. Field order is the table's column order."""

    id: int
    organization_id: int
    assistant_id: int
    version: int
    action: str
    configuration: dict[str, Any]
    changed_fields: list[str]
    webhook_secret_change: str | None
    created_at: dt.datetime
    api_key_id: int | None
    request_id: str | None


assert [f.name for f in fields(AssistantRecord)] == [c.name for c in ASSISTANTS.columns]  # noqa: S101
assert [f.name for f in fields(VersionRecord)] == [c.name for c in VERSIONS.columns]  # noqa: S101

_ASSISTANT_COLUMNS = [column.name for column in ASSISTANTS.columns]
_VERSION_COLUMNS = [column.name for column in VERSIONS.columns]


def _scoped_assistant() -> Any:
    return select(ASSISTANTS).where(
        ASSISTANTS.c.id == bindparam("id"),
        ASSISTANTS.c.organization_id == bindparam("organization_id"),
    )


_GET = Prepared(_scoped_assistant)
_GET_TO_SHOW = Prepared(_scoped_assistant, documents_as_json=True)
# FOR UPDATE locks the row until the transaction ends on PostgreSQL; SQLite leaves it out,
# its write transaction already holding the database's write lock.
_GET_FOR_UPDATE = Prepared(lambda: _scoped_assistant().with_for_update())


def _insert(with_id: bool) -> Insert:
    names = _ASSISTANT_COLUMNS if with_id else _ASSISTANT_COLUMNS[1:]
    return insert(ASSISTANTS).values({n: bindparam(n) for n in names}).returning(ASSISTANTS.c.id)


_INSERT = Prepared(lambda: _insert(with_id=False))
_INSERT_WITH_ID = Prepared(lambda: _insert(with_id=True))
_DELETE = Prepared(
    lambda: delete(ASSISTANTS).where(
        ASSISTANTS.c.id == bindparam("id"),
        ASSISTANTS.c.organization_id == bindparam("organization_id"),
    )
)
_UPDATES: dict[tuple[str, ...], Prepared] = {}


# The list selects only what it shows, in the order it shows it: every column costs a Python
# object per row, and the secret's ciphertext is needed only as "is there one". The version
# comes last: with the id, it names the representation (clarion.assistants.rendered).
_SHOWN_COLUMNS = (
    ASSISTANTS.c.id,
    ASSISTANTS.c.created_at,
    ASSISTANTS.c.updated_at,
    ASSISTANTS.c.name,
    ASSISTANTS.c.model,
    ASSISTANTS.c.voice,
    ASSISTANTS.c.first_message,
    ASSISTANTS.c.max_duration_seconds,
    ASSISTANTS.c.voicemail_message,
    ASSISTANTS.c.webhook_url,
    ASSISTANTS.c.analysis_plan,
    ASSISTANTS.c.webhook_secret_encrypted.is_not(None),
    ASSISTANTS.c.version,
)
(_ID, _CREATED_AT, _UPDATED_AT, _NAME, _MODEL, _VOICE, _FIRST_MESSAGE) = range(7)
(_MAX_DURATION_SECONDS, _VOICEMAIL_MESSAGE, _WEBHOOK_URL, _ANALYSIS_PLAN) = range(7, 11)
(_SECRET_SET, _VERSION) = range(11, 13)


def _list(columns: tuple[Any, ...], created_from: bool, created_to: bool) -> Select[Any]:
    query = select(*columns).where(ASSISTANTS.c.organization_id == bindparam("organization_id"))
    if created_from:
        query = query.where(ASSISTANTS.c.created_at >= bindparam("created_from"))
    if created_to:
        query = query.where(ASSISTANTS.c.created_at <= bindparam("created_to"))
    return query.order_by(ASSISTANTS.c.created_at.desc(), ASSISTANTS.c.id.desc()).limit(
        bindparam("limit")
    )


_LISTS = {
    (lower, upper): Prepared(partial(_list, _SHOWN_COLUMNS, lower, upper), documents_as_json=True)
    for lower in (False, True)
    for upper in (False, True)
}
_LIST_KEYS = {
    (lower, upper): Prepared(partial(_list, (ASSISTANTS.c.id, ASSISTANTS.c.version), lower, upper))
    for lower in (False, True)
    for upper in (False, True)
}


def get(
    transaction: Transaction,
    organization_id: int,
    assistant_id: int,
    *,
    for_update: bool = False,
    to_show: bool = False,
) -> AssistantRecord | None:
    """The organization's assistant, or None: another organization's is as good as missing.

    ``to_show``: read only to be rendered, its documents may be JSON fragments.
    """
    query = _GET_FOR_UPDATE if for_update else (_GET_TO_SHOW if to_show else _GET)
    row = transaction.fetch_one(query, id=assistant_id, organization_id=organization_id)
    return None if row is None else AssistantRecord(*row)


def list_keys(
    transaction: Transaction,
    organization_id: int,
    limit: int,
    created_from: dt.datetime | None,
    created_to: dt.datetime | None,
) -> list[tuple[int, int]]:
    """The (id, version) of each assistant the list shows, in its order (see list_shown)."""
    query = _LIST_KEYS[created_from is not None, created_to is not None]
    _statement, rows = transaction.fetch_raw(
        query, organization_id=organization_id, limit=limit, **_bounds(created_from, created_to)
    )
    return rows  # the driver gives (id, version) tuples


def list_shown(
    transaction: Transaction,
    organization_id: int,
    limit: int,
    created_from: dt.datetime | None,
    created_to: dt.datetime | None,
) -> list[tuple[tuple[int, int], dict[str, Any]]]:
    """Newest first (assistants created in the same instant: highest id first), each as its
    (id, version) and its Assistant representation (the shape of
    clarion.assistants.schemas.assistant_json).

    The list's read model: built straight from the driver's rows, where converting each
    row, making a record of it and then a dict cost twice as much (bench/, 100 rows:
    212 us against 109 us). The test suite holds both shapes equal.
    """
    query = _LISTS[created_from is not None, created_to is not None]
    statement, rows = transaction.fetch_raw(
        query, organization_id=organization_id, limit=limit, **_bounds(created_from, created_to)
    )
    converters = statement.converters
    document = _non_null(converters[_MODEL])
    timestamp = _non_null(converters[_CREATED_AT])
    return [
        ((row[_ID], row[_VERSION]), _shown(row, organization_id, document, timestamp))
        for row in rows
    ]


def _bounds(created_from: dt.datetime | None, created_to: dt.datetime | None) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if created_from is not None:
        bounds["created_from"] = created_from
    if created_to is not None:
        bounds["created_to"] = created_to
    return bounds


def _non_null(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return convert if convert is not None else _as_it_is


def _as_it_is(value: Any) -> Any:
    return value


def _shown(
    row: Row,
    organization_id: int,
    document: Callable[[Any], Any],
    timestamp: Callable[[Any], Any],
) -> dict[str, Any]:
    body = {
        "id": row[_ID],
        "organization_id": organization_id,
        "created_at": timestamp(row[_CREATED_AT]),
        "updated_at": timestamp(row[_UPDATED_AT]),
        "name": row[_NAME],
    }
    if row[_MODEL] is not None:
        body["model"] = document(row[_MODEL])
    if row[_VOICE] is not None:
        body["voice"] = document(row[_VOICE])
    if row[_FIRST_MESSAGE] is not None:
        body["first_message"] = row[_FIRST_MESSAGE]
    if row[_MAX_DURATION_SECONDS] is not None:
        body["max_duration_seconds"] = row[_MAX_DURATION_SECONDS]
    if row[_VOICEMAIL_MESSAGE] is not None:
        body["voicemail_message"] = row[_VOICEMAIL_MESSAGE]
    if row[_WEBHOOK_URL] is not None:
        body["webhook_url"] = row[_WEBHOOK_URL]
    if row[_ANALYSIS_PLAN] is not None:
        body["analysis_plan"] = document(row[_ANALYSIS_PLAN])
    body["is_webhook_secret_set"] = True if row[_SECRET_SET] else False  # SQLite gives 0 or 1
    return body


def add(transaction: Transaction, assistant: AssistantRecord, *, keep_id: bool = False) -> None:
    """Insert the assistant; a new one gets its id here."""
    values = {name: getattr(assistant, name) for name in _ASSISTANT_COLUMNS}
    if not keep_id:
        del values["id"]
    row = transaction.fetch_one(_INSERT_WITH_ID if keep_id else _INSERT, **values)
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    assistant.id = row[0]


def save(transaction: Transaction, assistant: AssistantRecord, changed: list[str]) -> None:
    """Write the named columns of an assistant read earlier in this transaction."""
    columns = tuple(changed)
    prepared = _UPDATES.get(columns)
    if prepared is None:
        prepared = _UPDATES[columns] = Prepared(
            lambda: (
                update(ASSISTANTS)
                .where(
                    ASSISTANTS.c.id == bindparam("id"),
                    ASSISTANTS.c.organization_id == bindparam("organization_id"),
                )
                .values({name: bindparam(name) for name in columns})
            )
        )
    values = {name: getattr(assistant, name) for name in columns}
    transaction.execute(
        prepared, id=assistant.id, organization_id=assistant.organization_id, **values
    )


def delete_one(transaction: Transaction, assistant: AssistantRecord) -> None:
    transaction.execute(_DELETE, id=assistant.id, organization_id=assistant.organization_id)


_ADD_VERSION = Prepared(
    lambda: insert(VERSIONS).values({n: bindparam(n) for n in _VERSION_COLUMNS[1:]})
)


def _versions_of() -> Any:
    return select(VERSIONS).where(
        VERSIONS.c.organization_id == bindparam("organization_id"),
        VERSIONS.c.assistant_id == bindparam("assistant_id"),
    )


_GET_VERSION = Prepared(lambda: _versions_of().where(VERSIONS.c.version == bindparam("version")))
_LIST_VERSIONS = Prepared(
    lambda: _versions_of().order_by(VERSIONS.c.version.desc()).limit(bindparam("limit"))
)
# Locking the newest record serialises restores of a deleted assistant (PostgreSQL).
_LATEST_VERSION_FOR_UPDATE = Prepared(
    lambda: _versions_of().order_by(VERSIONS.c.version.desc()).limit(1).with_for_update()
)


def add_version(transaction: Transaction, record: VersionRecord) -> None:
    values = {name: getattr(record, name) for name in _VERSION_COLUMNS}
    del values["id"]
    transaction.execute(_ADD_VERSION, **values)


def get_version(
    transaction: Transaction, organization_id: int, assistant_id: int, version: int
) -> VersionRecord | None:
    row = transaction.fetch_one(
        _GET_VERSION, organization_id=organization_id, assistant_id=assistant_id, version=version
    )
    return _version(row)


def list_versions(
    transaction: Transaction, organization_id: int, assistant_id: int, limit: int
) -> list[VersionRecord]:
    rows = transaction.fetch_all(
        _LIST_VERSIONS, organization_id=organization_id, assistant_id=assistant_id, limit=limit
    )
    return [VersionRecord(*row) for row in rows]


def latest_version_for_update(
    transaction: Transaction, organization_id: int, assistant_id: int
) -> VersionRecord | None:
    row = transaction.fetch_one(
        _LATEST_VERSION_FOR_UPDATE, organization_id=organization_id, assistant_id=assistant_id
    )
    return _version(row)


def _version(row: Row | None) -> VersionRecord | None:
    return None if row is None else VersionRecord(*row)
