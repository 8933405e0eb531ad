"""SQL for assistants and their version records. Every query is scoped to an organization.

Statements are written with SQLAlchemy Core against the mapped tables and compiled once
(clarion.database.statements): these are the API's hot paths.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Insert, Select, bindparam, delete, insert, select, update

from clarion.assistants.fields import FIELDS, configuration
from clarion.assistants.models import ASSISTANTS, VERSIONS, AssistantRecord, VersionRecord
from clarion.database.schema import of_organization, one_of_organization
from clarion.database.statements import Prepared, Row, Statements
from clarion.database.windows import Window

_ASSISTANT_COLUMNS = [column.name for column in ASSISTANTS.columns]
_VERSION_COLUMNS = [column.name for column in VERSIONS.columns]


def _scoped_assistant() -> Any:
    return select(ASSISTANTS).where(
        *one_of_organization(ASSISTANTS),
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
        *one_of_organization(ASSISTANTS),
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
    *(ASSISTANTS.c[field.name] for field in FIELDS),
    ASSISTANTS.c.webhook_secret_encrypted.is_not(None),
    ASSISTANTS.c.version,
)
_FIRST_FIELD = 3
_SECRET_SET = _FIRST_FIELD + len(FIELDS)
_VERSION = _SECRET_SET + 1


def _list(columns: tuple[Any, ...], created_from: bool, created_to: bool) -> Select[Any]:
    query = select(*columns).where(of_organization(ASSISTANTS))
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
    statements: Statements,
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
    row = statements.fetch_one(query, id=assistant_id, organization_id=organization_id)
    return None if row is None else AssistantRecord.from_row(row)


def list_current_versions(
    statements: Statements, organization_id: int, window: Window
) -> list[tuple[int, int]]:
    """The (id, version) of each assistant the list shows, in its order (see list_shown)."""
    query = _LIST_KEYS[window.shape]
    _statement, rows = statements.fetch_raw(
        query, organization_id=organization_id, **window.parameters()
    )
    return rows  # the driver gives (id, version) tuples


def list_shown(
    statements: Statements, organization_id: int, window: Window
) -> list[tuple[tuple[int, int], dict[str, Any]]]:
    """Newest first (assistants created in the same instant: highest id first), each as its
    (id, version) and its Assistant representation, built straight from the driver's rows
    (the list's read model; the test suite holds it equal to the record's representation)."""
    statement, rows = statements.fetch_raw(
        _LISTS[window.shape], organization_id=organization_id, **window.parameters()
    )
    converters = statement.converters
    timestamp = _non_null(converters[1])
    readers = [
        (_FIRST_FIELD + offset, field.name, converters[_FIRST_FIELD + offset])
        for offset, field in enumerate(FIELDS)
    ]
    return [
        ((row[0], row[_VERSION]), _shown(row, organization_id, readers, timestamp)) for row in rows
    ]


def _non_null(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return convert if convert is not None else _as_it_is


def _as_it_is(value: Any) -> Any:
    return value


def _shown(
    row: Row,
    organization_id: int,
    readers: list[tuple[int, str, Callable[[Any], Any] | None]],
    timestamp: Callable[[Any], Any],
) -> dict[str, Any]:
    values = {}
    for index, name, convert in readers:
        value = row[index]
        values[name] = value if value is None or convert is None else convert(value)
    shown = {
        "id": row[0],
        "organization_id": organization_id,
        "created_at": timestamp(row[1]),
        "updated_at": timestamp(row[2]),
    }
    return configuration(values, bool(row[_SECRET_SET]), shown)  # SQLite gives 0 or 1


def add(statements: Statements, assistant: AssistantRecord, *, keep_id: bool = False) -> None:
    """Insert the assistant; a new one gets its id here."""
    values = assistant.columns()
    if not keep_id:
        del values["id"]
    row = statements.fetch_one(_INSERT_WITH_ID if keep_id else _INSERT, **values)
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    assistant.id = row[0]


def save(statements: Statements, assistant: AssistantRecord, changed: list[str]) -> None:
    """Write the named columns of an assistant read earlier in this statements."""
    columns = tuple(changed)
    prepared = _UPDATES.get(columns)
    if prepared is None:
        prepared = _UPDATES[columns] = Prepared(
            lambda: (
                update(ASSISTANTS)
                .where(
                    *one_of_organization(ASSISTANTS),
                )
                .values({name: bindparam(name) for name in columns})
            )
        )
    fields = assistant.values
    values = {
        name: fields[name] if name in fields else getattr(assistant, name) for name in columns
    }
    statements.execute(
        prepared, id=assistant.id, organization_id=assistant.organization_id, **values
    )


def delete_one(statements: Statements, assistant: AssistantRecord) -> None:
    """Delete the assistant (its version records stay)."""
    statements.execute(_DELETE, id=assistant.id, organization_id=assistant.organization_id)


_ADD_VERSION = Prepared(
    lambda: insert(VERSIONS).values({n: bindparam(n) for n in _VERSION_COLUMNS[1:]})
)


def _versions_of() -> Any:
    return select(VERSIONS).where(
        of_organization(VERSIONS),
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


def add_version(statements: Statements, record: VersionRecord) -> None:
    """Insert a version record."""
    values = {name: getattr(record, name) for name in _VERSION_COLUMNS}
    del values["id"]
    statements.execute(_ADD_VERSION, **values)


def get_version(
    statements: Statements, organization_id: int, assistant_id: int, version: int
) -> VersionRecord | None:
    """One version record of the organization's assistant, or None."""
    row = statements.fetch_one(
        _GET_VERSION, organization_id=organization_id, assistant_id=assistant_id, version=version
    )
    return _version(row)


def list_versions(
    statements: Statements, organization_id: int, assistant_id: int, limit: int
) -> list[VersionRecord]:
    """The assistant's version records, newest first."""
    rows = statements.fetch_all(
        _LIST_VERSIONS, organization_id=organization_id, assistant_id=assistant_id, limit=limit
    )
    return [VersionRecord(*row) for row in rows]


def latest_version_for_update(
    statements: Statements, organization_id: int, assistant_id: int
) -> VersionRecord | None:
    """The newest version record, locked until the transaction ends (PostgreSQL)."""
    row = statements.fetch_one(
        _LATEST_VERSION_FOR_UPDATE, organization_id=organization_id, assistant_id=assistant_id
    )
    return _version(row)


def _version(row: Row | None) -> VersionRecord | None:
    return None if row is None else VersionRecord(*row)
