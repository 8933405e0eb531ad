"""Organizations and their API keys: creating them (the command line), and telling who a
presented key belongs to (every request)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clarion.auth import keys, repository
from clarion.auth.cache import KeyCache
from clarion.call_reads.models import ActorType
from clarion.database import Database, Unit
from clarion.database.clock import utcnow
from clarion.errors import InvalidInput, NotFound, Unauthenticated
from clarion.people import repository as people
from clarion.people.roles import Role


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is making a request: the organization, the API key or console user it authenticated
    as (an API key acts as an owner), the request's id (kept in the records of what the request
    changed) and the address it came from."""

    organization_id: int
    api_key_id: int | None
    request_id: str | None = None
    role: Role = Role.OWNER
    user_id: int | None = None
    address: str | None = None

    @property
    def actor_type(self) -> ActorType:
        """What the access log calls the caller."""
        return ActorType.API_KEY if self.user_id is None else ActorType.USER

    @property
    def actor_id(self) -> int:
        """The user's or the API key's id."""
        actor = self.api_key_id if self.user_id is None else self.user_id
        assert actor is not None  # noqa: S101 - a caller is one or the other
        return actor


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created. ``api_key`` exists only here; the database keeps a digest."""

    key_id: int
    organization_id: int
    api_key: str
    created_at: dt.datetime
    created_by_user_id: int | None = None


def create_organization(unit: Unit, name: str) -> tuple[int, IssuedKey]:
    """A new organization with its first API key."""
    name = name.strip()
    if not 1 <= len(name) <= 200 or "\x00" in name:
        raise InvalidInput("name: must be 1 to 200 characters, without NUL")
    organization = repository.add_organization(unit.session, name, utcnow())
    return organization.id, issue_key(unit, organization.id)


DISABLED_CREATOR = "this account is disabled: it can no longer create API keys"


def issue_key(unit: Unit, organization_id: int, created_by_user_id: int | None = None) -> IssuedKey:
    """Another API key for an organization, shown only in what this returns.
    ``created_by_user_id`` is the console user asking for it (disabling them revokes it), or
    None for the command line and API keys."""
    if repository.get_organization(unit.session, organization_id) is None:
        raise NotFound(f"organization {organization_id} not found")
    if created_by_user_id is not None and not people.hold_enabled_user(
        unit.session, organization_id, created_by_user_id
    ):
        # Disabled while this request was on its way: no key outlives the account.
        raise Unauthenticated(DISABLED_CREATOR)
    key = keys.generate_key()
    row = repository.add_key(
        unit.session,
        organization_id,
        keys.key_digest(key),
        keys.display_prefix(key),
        utcnow(),
        created_by_user_id,
    )
    return IssuedKey(
        key_id=row.id,
        organization_id=organization_id,
        api_key=key,
        created_at=row.created_at,
        created_by_user_id=created_by_user_id,
    )


def revoke_key(unit: Unit, key_id: int) -> dict[str, object]:
    """Revoke an API key: requests made with it fail from then on."""
    row = repository.revoke_key(unit.session, key_id, utcnow())
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    return {"key_id": row.id, "organization_id": row.organization_id, "revoked_at": row.revoked_at}


def revoke_keys_created_by(unit: Unit, organization_id: int, user_id: int) -> int:
    """Revoke every key of the organization that a user created and that still works; how
    many were."""
    return repository.revoke_keys_created_by(unit.session, organization_id, user_id, utcnow())


def revoke_organization_key(unit: Unit, organization_id: int, key_id: int) -> dict[str, object]:
    """Revoke one of an organization's keys; another organization's is as good as missing."""
    if repository.get_key(unit.session, organization_id, key_id) is None:
        raise NotFound(f"API key {key_id} not found")
    return revoke_key(unit, key_id)


def list_organizations(unit: Unit) -> list[dict[str, object]]:
    """Every organization, oldest first, with how many of its keys are in use."""
    return [
        {
            "organization_id": organization.id,
            "name": organization.name,
            "created_at": organization.created_at,
            "active_keys": active_keys,
        }
        for organization, active_keys in repository.list_organizations(unit.session)
    ]


def list_keys(unit: Unit, organization_id: int) -> list[dict[str, object]]:
    """An organization's keys, by prefix only (a key is never shown again), with the console
    user who created each, if one did."""
    if repository.get_organization(unit.session, organization_id) is None:
        raise NotFound(f"organization {organization_id} not found")
    return [
        {
            "key_id": row.id,
            "prefix": row.display_prefix,
            "created_at": row.created_at,
            "revoked_at": row.revoked_at,
            "created_by_user_id": row.created_by_user_id,
        }
        for row in repository.list_keys(unit.session, organization_id)
    ]


def find_key(unit: Unit, digest: str) -> tuple[int, int] | None:
    """(key id, organization id) of the unrevoked key with this digest."""
    return repository.find_active_key(unit.session, digest)


INVALID_KEY = "invalid or revoked API key"


async def authenticate(
    database: Database,
    cache: KeyCache,
    presented_key: str,
    request_id: str | None,
    address: str | None = None,
) -> Caller:
    """The caller a presented key belongs to; 401 for an unknown or revoked key."""
    if not keys.looks_like_key(presented_key):
        raise Unauthenticated(INVALID_KEY)
    digest = keys.key_digest(presented_key)
    found = cache.get(digest)
    if found is None:
        found = await database.read(find_key, digest)
        if found is None:
            raise Unauthenticated(INVALID_KEY)
        cache.put(digest, *found)
    return Caller(
        api_key_id=found[0], organization_id=found[1], request_id=request_id, address=address
    )
