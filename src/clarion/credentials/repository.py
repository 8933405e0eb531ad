"""SQL for provider credentials. Every query is scoped to an organization.

Statements are written with SQLAlchemy Core against the mapped table and compiled once
(clarion.database.statements), as the assistants' are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from clarion.credentials.models import CREDENTIALS, CredentialRecord
from clarion.database.schema import of_organization, one_of_organization
from clarion.database.statements import Prepared, Row, Statements

_COLUMNS = [column.name for column in CREDENTIALS.columns]
# What an update may write: everything but the id, the organization, the provider and the
# creation time.
_CHANGEABLE = ("name", "base_url", "api_key_encrypted", "api_key_hint", "updated_at")
_NEWEST_FIRST = (CREDENTIALS.c.created_at.desc(), CREDENTIALS.c.id.desc())


def _scoped() -> Any:
    return select(CREDENTIALS).where(
        *one_of_organization(CREDENTIALS),
    )


def _organizations() -> Any:
    return select(CREDENTIALS).where(of_organization(CREDENTIALS))


_GET = Prepared(_scoped)
# FOR UPDATE locks the row until the transaction ends on PostgreSQL; SQLite leaves it out,
# its write transaction already holding the database's write lock.
_GET_FOR_UPDATE = Prepared(lambda: _scoped().with_for_update())
_LIST = Prepared(lambda: _organizations().order_by(*_NEWEST_FIRST).limit(bindparam("limit")))
_NEWEST_OF_PROVIDER = Prepared(
    lambda: (
        _organizations()
        .where(CREDENTIALS.c.provider == bindparam("provider"))
        .order_by(*_NEWEST_FIRST)
        .limit(bindparam("limit"))
    )
)
_INSERT = Prepared(
    lambda: (
        insert(CREDENTIALS)
        .values({name: bindparam(name) for name in _COLUMNS[1:]})
        .returning(CREDENTIALS.c.id)
    )
)
_UPDATE = Prepared(
    lambda: (
        update(CREDENTIALS)
        .where(
            *one_of_organization(CREDENTIALS),
        )
        .values({name: bindparam(name) for name in _CHANGEABLE})
    )
)
_DELETE = Prepared(
    lambda: delete(CREDENTIALS).where(
        *one_of_organization(CREDENTIALS),
    )
)


def get(
    statements: Statements, organization_id: int, credential_id: int, *, for_update: bool = False
) -> CredentialRecord | None:
    """The organization's credential, or None: another organization's is as good as missing."""
    query = _GET_FOR_UPDATE if for_update else _GET
    return _record(statements.fetch_one(query, id=credential_id, organization_id=organization_id))


def list_newest_first(
    statements: Statements, organization_id: int, limit: int
) -> list[CredentialRecord]:
    """The organization's credentials, newest first (created in the same instant: highest id
    first)."""
    rows = statements.fetch_all(_LIST, organization_id=organization_id, limit=limit)
    return [CredentialRecord(*row) for row in rows]


def newest_of_provider(
    statements: Statements, organization_id: int, provider: str
) -> CredentialRecord | None:
    """The organization's newest credential for ``provider``, or None when it has none."""
    row = statements.fetch_one(
        _NEWEST_OF_PROVIDER, organization_id=organization_id, provider=provider, limit=1
    )
    return _record(row)


def add(statements: Statements, credential: CredentialRecord) -> None:
    """Insert the credential; it gets its id here."""
    values = {name: getattr(credential, name) for name in _COLUMNS[1:]}
    row = statements.fetch_one(_INSERT, **values)
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    credential.id = row[0]


def save(statements: Statements, credential: CredentialRecord) -> None:
    """Write the changeable columns of a credential read earlier in this unit."""
    statements.execute(
        _UPDATE,
        id=credential.id,
        organization_id=credential.organization_id,
        **{name: getattr(credential, name) for name in _CHANGEABLE},
    )


def delete_one(statements: Statements, credential: CredentialRecord) -> None:
    """Delete the credential."""
    statements.execute(_DELETE, id=credential.id, organization_id=credential.organization_id)


def _record(row: Row | None) -> CredentialRecord | None:
    return None if row is None else CredentialRecord(*row)
