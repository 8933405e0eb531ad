"""Creating organizations and managing their keys (used by the command line)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from clarion.auth import keys, repository
from clarion.db import utcnow
from clarion.errors import InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is making a request: the organization, the key it authenticated with, and the
    request's id (kept in the records of what the request changed)."""

    organization_id: int
    api_key_id: int
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created. ``api_key`` exists only here; the database keeps a digest."""

    key_id: int
    organization_id: int
    api_key: str


def create_organization(session: Session, name: str) -> tuple[int, IssuedKey]:
    """A new organization with its first API key."""
    name = name.strip()
    if not 1 <= len(name) <= 200 or "\x00" in name:
        raise InvalidInput("name: must be 1 to 200 characters, without NUL")
    organization = repository.add_organization(session, name, utcnow())
    return organization.id, issue_key(session, organization.id)


def issue_key(session: Session, organization_id: int) -> IssuedKey:
    if repository.get_organization(session, organization_id) is None:
        raise NotFound(f"organization {organization_id} not found")
    key = keys.generate_key()
    row = repository.add_key(
        session, organization_id, keys.key_digest(key), keys.display_prefix(key), utcnow()
    )
    return IssuedKey(key_id=row.id, organization_id=organization_id, api_key=key)


def revoke_key(session: Session, key_id: int) -> dict[str, object]:
    row = repository.revoke_key(session, key_id, utcnow())
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    return {"key_id": row.id, "organization_id": row.organization_id, "revoked_at": row.revoked_at}


def list_keys(session: Session, organization_id: int) -> list[dict[str, object]]:
    if repository.get_organization(session, organization_id) is None:
        raise NotFound(f"organization {organization_id} not found")
    return [
        {
            "key_id": row.id,
            "prefix": row.display_prefix,
            "created_at": row.created_at,
            "revoked_at": row.revoked_at,
        }
        for row in repository.list_keys(session, organization_id)
    ]


def find_key(session: Session, digest: str) -> tuple[int, int] | None:
    """(key id, organization id) of the unrevoked key with this digest."""
    return repository.find_active_key(session, digest)
