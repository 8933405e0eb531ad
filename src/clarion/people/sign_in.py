"""Signing in and out of the console, and the session a browser's cookie names.

After ``ACCOUNT_FAILURES`` failed sign-ins for an account within ``WINDOW``, its sign-ins are
refused for ``LOCK`` (the right password too); an address is refused the same way after
``ADDRESS_FAILURES``. An address that has no account is counted and locked like one that has,
and is refused in the same words, so that sign-in never tells which addresses exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from clarion.database import Database, Unit
from clarion.database.clock import utcnow
from clarion.errors import TooManyRequests, Unauthenticated
from clarion.people import repository
from clarion.people.models import ConsoleSessionRow, UserRow
from clarion.people.passwords import Passwords
from clarion.people.roles import Role

ACCOUNT_FAILURES = 10
ADDRESS_FAILURES = 100
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
# How long an ended or expired session is kept before it is cleared away.
KEPT_AFTER_END = dt.timedelta(days=1)

WRONG = "email or password is wrong, or the account is disabled"
LOCKED = "too many failed sign-ins: try again later"
SIGNED_OUT = "not signed in: sign in again"
EXPIRED = "session expired after being idle: sign in again"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session just opened. ``token`` goes in the cookie and exists only here."""

    token: str
    session: SessionUser


@dataclass(frozen=True, slots=True)
class SessionUser:
    """An open session and the user it belongs to, as a request sees them."""

    session_id: int
    user_id: int
    organization_id: int
    email: str
    role: Role
    csrf_token: str
    must_change_password: bool


def token_digest(token: str) -> str:
    """What is kept of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_matches(session: SessionUser, presented: str | None) -> bool:
    """Whether a request carries its session's CSRF token."""
    return presented is not None and hmac.compare_digest(
        session.csrf_token.encode(), presented.encode("utf-8", "replace")
    )


class LockedOut(TooManyRequests):
    """Sign-ins for this account or address are refused for ``retry_after_seconds``."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(LOCKED)
        self.retry_after_seconds = retry_after_seconds


async def sign_in(
    database: Database,
    passwords: Passwords,
    email: str,
    password: str,
    address: str,
    idle: dt.timedelta,
) -> SignedIn:
    """Open a session for the user with this address and password; sessions of anyone that
    ended, or went idle, a while ago are cleared away meanwhile."""
    subjects = _subjects(email, address)
    await _refuse_if_locked(database, subjects)
    user = await database.read(_user_for_sign_in, email)
    stored_hash = user.password_hash if user is not None else None
    if not await passwords.matches_off_loop(stored_hash, password) or user is None:
        await database.write(_failed, subjects, utcnow())
        raise Unauthenticated(WRONG)
    return await database.write(_open, user.id, subjects[0], idle)


async def confirm_password(
    database: Database,
    passwords: Passwords,
    email: str,
    address: str,
    stored_hash: str,
    password: str,
) -> bool:
    """Whether a signed-in user gave their password (to change it, say), checked as a sign-in
    is: refused while the account or address is locked, and a wrong one counted."""
    subjects = _subjects(email, address)
    await _refuse_if_locked(database, subjects)
    if await passwords.matches_off_loop(stored_hash, password):
        return True
    await database.write(_failed, subjects, utcnow())
    return False


def _subjects(email: str, address: str) -> tuple[str, str]:
    return f"account:{email}", f"address:{address}"


async def _refuse_if_locked(database: Database, subjects: tuple[str, str]) -> None:
    wait = await database.read(_locked_for, subjects, utcnow())
    if wait:
        raise LockedOut(wait)


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: int
    password_hash: str


def _user_for_sign_in(unit: Unit, email: str) -> _Candidate | None:
    row = repository.find_by_email(unit.session, email)
    if row is None or row.disabled_at is not None:
        return None
    return _Candidate(row.id, row.password_hash)


def _locked_for(unit: Unit, subjects: tuple[str, ...], now: dt.datetime) -> int:
    """Seconds until the latest lock on any of these subjects ends; 0 when none holds."""
    ends = [repository.lock_until(unit.session, subject) for subject in subjects]
    latest = max((end for end in ends if end is not None and end > now), default=None)
    return 0 if latest is None else max(1, int((latest - now).total_seconds()) + 1)


def _failed(unit: Unit, subjects: tuple[str, str], now: dt.datetime) -> None:
    session = unit.session
    repository.forget_failures_before(session, now - WINDOW)
    for subject, limit in zip(subjects, (ACCOUNT_FAILURES, ADDRESS_FAILURES), strict=True):
        repository.add_failure(session, subject, now)
        if repository.failures_since(session, subject, now - WINDOW) >= limit:
            repository.set_lock(session, subject, now + LOCK)
            repository.forget_failures(session, subject)


def _open(unit: Unit, user_id: int, account: str, idle: dt.timedelta) -> SignedIn:
    now = utcnow()
    repository.forget_sessions_before(unit.session, now - idle - KEPT_AFTER_END)
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    repository.forget_failures(unit.session, account)
    row = repository.add_session(unit.session, user_id, token_digest(token), csrf_token, now)
    found = repository.find_session(unit.session, row.digest)
    assert found is not None  # noqa: S101 - inserted just above, in this unit
    return SignedIn(token, _session_user(*found))


async def session_user(
    database: Database, token: str, idle: dt.timedelta, touch_after: dt.timedelta
) -> SessionUser:
    """The open, unexpired session a cookie's token names; 401 otherwise."""
    now = utcnow()
    found = await database.read(_find, token_digest(token))
    if found is None:
        raise Unauthenticated(SIGNED_OUT)
    user, last_seen = found
    if now - last_seen > idle:
        await database.write(_end, user.session_id, now)
        raise Unauthenticated(EXPIRED)
    if now - last_seen > touch_after:
        await database.write(_touch, user.session_id, now)
    return user


def _find(unit: Unit, digest: str) -> tuple[SessionUser, dt.datetime] | None:
    found = repository.find_session(unit.session, digest)
    if found is None or found[1].disabled_at is not None:
        return None
    return _session_user(*found), found[0].last_seen_at


def _session_user(session: ConsoleSessionRow, user: UserRow) -> SessionUser:
    return SessionUser(
        session_id=session.id,
        user_id=user.id,
        organization_id=user.organization_id,
        email=user.email,
        role=Role(user.role),
        csrf_token=session.csrf_token,
        must_change_password=user.must_change_password,
    )


def _touch(unit: Unit, session_id: int, now: dt.datetime) -> None:
    repository.touch_session(unit.session, session_id, now)


def _end(unit: Unit, session_id: int, now: dt.datetime) -> None:
    repository.end_session(unit.session, session_id, now)


async def sign_out(database: Database, session_id: int) -> None:
    """End a session on the server: its cookie names nothing from now on."""
    await database.write(_end, session_id, utcnow())
