"""SQL for organizations and API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clarion.auth.models import ApiKeyRow, OrganizationRow


def add_organization(session: Session, name: str, now: dt.datetime) -> OrganizationRow:
    """Insert an organization and return it with its new id."""
    organization = OrganizationRow(name=name, created_at=now)
    session.add(organization)
    session.flush()
    return organization


def get_organization(session: Session, organization_id: int) -> OrganizationRow | None:
    """The organization with this id, or None."""
    return session.get(OrganizationRow, organization_id)


def list_organizations(session: Session) -> list[tuple[OrganizationRow, int]]:
    """Every organization, oldest first, with its count of unrevoked keys."""
    active = (
        select(func.count(ApiKeyRow.id))
        .where(ApiKeyRow.organization_id == OrganizationRow.id, ApiKeyRow.revoked_at.is_(None))
        .scalar_subquery()
    )
    rows = session.execute(select(OrganizationRow, active).order_by(OrganizationRow.id))
    return [(row[0], int(row[1])) for row in rows]


def add_key(
    session: Session,
    organization_id: int,
    digest: str,
    prefix: str,
    now: dt.datetime,
    created_by_user_id: int | None = None,
) -> ApiKeyRow:
    """Insert a key, by its digest and display prefix only, and return it with its new id."""
    key = ApiKeyRow(
        organization_id=organization_id,
        digest=digest,
        display_prefix=prefix,
        created_at=now,
        created_by_user_id=created_by_user_id,
    )
    session.add(key)
    session.flush()
    return key


def find_active_key(session: Session, digest: str) -> tuple[int, int] | None:
    """(key id, organization id) of the unrevoked key with this digest."""
    row = session.execute(
        select(ApiKeyRow.id, ApiKeyRow.organization_id).where(
            ApiKeyRow.digest == digest, ApiKeyRow.revoked_at.is_(None)
        )
    ).first()
    return (row[0], row[1]) if row else None


def list_keys(session: Session, organization_id: int) -> list[ApiKeyRow]:
    """Every key of an organization, revoked ones included, oldest first."""
    return list(
        session.scalars(
            select(ApiKeyRow)
            .where(ApiKeyRow.organization_id == organization_id)
            .order_by(ApiKeyRow.id)
        )
    )


def get_key(session: Session, organization_id: int, key_id: int) -> ApiKeyRow | None:
    """The organization's key with this id, or None."""
    return session.scalar(
        select(ApiKeyRow).where(
            ApiKeyRow.id == key_id, ApiKeyRow.organization_id == organization_id
        )
    )


def revoke_key(session: Session, key_id: int, now: dt.datetime) -> ApiKeyRow | None:
    """Mark a key revoked unless it already is (the first time stands); None if no such key."""
    session.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return session.get(ApiKeyRow, key_id, populate_existing=True)


def revoke_keys_created_by(
    session: Session, organization_id: int, user_id: int, now: dt.datetime
) -> int:
    """Revoke the organization's unrevoked keys that a user created; how many there were."""
    revoked = session.execute(
        update(ApiKeyRow)
        .where(
            ApiKeyRow.organization_id == organization_id,
            ApiKeyRow.created_by_user_id == user_id,
            ApiKeyRow.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(ApiKeyRow.id)
    )
    return len(revoked.all())
