"""Console users: added by an owner or the command line, listed, disabled, and their
passwords changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clarion.auth.repository import get_organization
from clarion.auth.service import Caller, revoke_keys_created_by
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.errors import Conflict, InvalidInput, NotFound
from clarion.people import repository
from clarion.people.models import EMAIL_MAX, UserRow
from clarion.people.roles import Role

# Enough to catch a slip of the keyboard; whether the address receives mail is not ours to know.
# No control characters: no address has one, and PostgreSQL refuses a NUL in text outright.
_PART = r"[^@\s\x00-\x1f\x7f]+"
_EMAIL = re.compile(rf"{_PART}@{_PART}\.{_PART}")


def normalized_email(email: object, field: str = "email") -> str:
    """An address as it is kept: trimmed and lower-cased."""
    if not isinstance(email, str):
        raise InvalidInput(f"{field}: must be a string")
    email = email.strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise InvalidInput(f"{field}: must be an email address like name@clinic.example")
    return email


def checked_role(role: object, field: str = "role") -> Role:
    """A role named in a request."""
    try:
        return Role(str(role))
    except ValueError:
        names = ", ".join(f"'{role.value}'" for role in Role)
        raise InvalidInput(f"{field}: must be one of {names}") from None


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user to add: the password is already hashed (off the event loop)."""

    email: str
    role: Role
    password_hash: str
    must_change_password: bool


def add_user(unit: Unit, organization_id: int, user: NewUser) -> dict[str, Any]:
    """Add a user to an organization; an address belongs to one user only."""
    if get_organization(unit.session, organization_id) is None:
        raise NotFound(f"organization {organization_id} not found")
    if repository.email_taken(unit.session, user.email):
        raise Conflict(f"email: {user.email} already has an account")
    row = repository.add_user(
        unit.session,
        organization_id,
        user.email,
        user.role.value,
        user.password_hash,
        user.must_change_password,
        utcnow(),
    )
    return user_json(row)


def list_users(unit: Unit, organization_id: int) -> list[dict[str, Any]]:
    """An organization's users, oldest first."""
    if get_organization(unit.session, organization_id) is None:
        raise NotFound(f"organization {organization_id} not found")
    return [user_json(row) for row in repository.list_users(unit.session, organization_id)]


def disable_user(
    unit: Unit, organization_id: int, user_id: int, by: Caller | None
) -> dict[str, Any]:
    """Disable a user: their sessions end now, they cannot sign in again, and the API keys
    they created are revoked (``revoked_api_keys`` says how many). ``by`` is the caller, or
    None for the command line."""
    row = repository.get_user(unit.session, organization_id, user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found")
    if by is not None and by.user_id == user_id:
        raise Conflict("userId: you cannot disable yourself; ask another owner")
    if row.disabled_at is None:
        now = utcnow()
        row.disabled_at = now
        repository.end_user_sessions(unit.session, row.id, now)
        # The user's row is written before their keys are looked for: a key being created at
        # the same moment holds that row, so it is either waited for and seen here, or refused.
        unit.session.flush()
    # Whether or not the user was disabled already: a disable asked again makes sure of the
    # keys too, and says 0 when none was left.
    revoked = revoke_keys_created_by(unit, organization_id, row.id)
    return {**user_json(row), "revoked_api_keys": revoked}


def password_hash_of(unit: Unit, caller: Caller) -> str:
    """The signed-in user's password hash, to check their current password against."""
    row = _signed_in(unit, caller)
    return row.password_hash


def change_password(unit: Unit, caller: Caller, new_hash: str, session_id: int) -> dict[str, Any]:
    """Keep a user's new password; their other sessions end."""
    row = _signed_in(unit, caller)
    row.password_hash = new_hash
    row.must_change_password = False
    repository.end_user_sessions(unit.session, row.id, utcnow(), keep=session_id)
    unit.session.flush()
    return user_json(row)


def _signed_in(unit: Unit, caller: Caller) -> UserRow:
    if caller.user_id is None:
        raise InvalidInput("only a signed-in console user has a password to change")
    row = repository.get_user(unit.session, caller.organization_id, caller.user_id)
    if row is None:
        raise NotFound(f"user {caller.user_id} not found")
    return row


def user_json(row: UserRow) -> dict[str, Any]:
    """How a user is shown: never the password's hash."""
    return {
        "user_id": row.id,
        "organization_id": row.organization_id,
        "email": row.email,
        "role": row.role,
        "must_change_password": row.must_change_password,
        "created_at": row.created_at,
        "disabled_at": row.disabled_at,
    }
