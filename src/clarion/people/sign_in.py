"""Signing in and out of the console, and the session a browser's cookie names.

After ``ACCOUNT_FAILURES`` failed sign-ins for an account within ``WINDOW``, its sign-ins are
refused for ``LOCK`` (the right password too); an address is refused the same way after
``ADDRESS_FAILURES``. An address that has no account is counted and locked like one that has,
and is refused in the same words, so that sign-in never tells which addresses exist.

An attempt is counted as failed before its password is checked, and forgiven once it proves
right: guesses sent all at once are counted as they arrive, not once the slow check of each
is done, so a burst gets no more guesses than a patient attacker.
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
# However busy a session is, it is signed in again after this long.
LIFETIME = dt.timedelta(hours=12)
# How long an ended or expired session is kept before it is cleared away.
KEPT_AFTER_END = dt.timedelta(days=1)

WRONG = "email or password is wrong, or the account is disabled"
LOCKED = "too many failed sign-ins: try again later"
SIGNED_OUT = "not signed in: sign in again"
EXPIRED = "session expired after being idle: sign in again"
TOO_OLD = (
    "session expired: sign in again "
    f"(a session lasts {LIFETIME.total_seconds() / 3600:g} hours at most)"
)


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
    attempt = await _attempt(database, _subjects(email, address))
    user = await database.read(_user_for_sign_in, email)
    stored_hash = user.password_hash if user is not None else None
    if not await passwords.matches_off_loop(stored_hash, password) or user is None:
        raise Unauthenticated(WRONG)
    new_hash = None
    if passwords.needs_rehash(user.password_hash):  # the operator changed the cost
        new_hash = await passwords.hash_off_loop(password)
    return await database.write(_open, user.id, attempt, idle, new_hash)


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
    attempt = await _attempt(database, _subjects(email, address))
    if not await passwords.matches_off_loop(stored_hash, password):
        return False
    await database.write(_forgive, attempt)
    return True


@dataclass(frozen=True, slots=True)
class _Subjects:
    """What an attempt is counted against: its account and its address, each with its limit."""

    account: str
    address: str

    def limited(self) -> tuple[tuple[str, int], tuple[str, int]]:
        return (self.account, ACCOUNT_FAILURES), (self.address, ADDRESS_FAILURES)


def _subjects(email: str, address: str) -> _Subjects:
    return _Subjects(f"account:{email}", f"address:{address}")


@dataclass(frozen=True, slots=True)
class _Attempt:
    """An attempt counted as failed until its password proves right."""

    account: str
    failure_ids: list[int]


async def _attempt(database: Database, subjects: _Subjects) -> _Attempt:
    counted = await database.write(_count_attempt, subjects, utcnow())
    if isinstance(counted, int):
        raise LockedOut(counted)
    return counted


def _count_attempt(unit: Unit, subjects: _Subjects, now: dt.datetime) -> _Attempt | int:
    """Count an attempt against its account and address, or the seconds it must wait for
    (a lock is kept even though the attempt is refused)."""
    session = unit.session
    names = (subjects.account, subjects.address)
    for subject in sorted(names):  # always in one order: two attempts never wait on each other
        repository.hold_subject(session, subject)
    repository.forget_failures_before(session, now - WINDOW)
    repository.forget_locks_before(session, now)
    wait = _locked_for(unit, names, now)
    for subject, limit in subjects.limited():
        count, latest = repository.failures_since(session, subject, now - WINDOW)
        if count >= limit and latest is not None:
            until = latest + LOCK  # counted from the failure that reached the limit
            repository.set_lock(session, subject, until)
            repository.forget_failures(session, subject)
            wait = max(wait, _seconds_until(until, now))
    if wait:
        return wait
    ids = [repository.add_failure(session, subject, now) for subject in names]
    return _Attempt(subjects.account, ids)


def _forgive(unit: Unit, attempt: _Attempt) -> None:
    """The password was right: the attempt was no failure, nor were the account's others."""
    repository.forget_failure_ids(unit.session, attempt.failure_ids)
    repository.forget_failures(unit.session, attempt.account)


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
    return 0 if latest is None else _seconds_until(latest, now)


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)


def _open(
    unit: Unit, user_id: int, attempt: _Attempt, idle: dt.timedelta, new_hash: str | None
) -> SignedIn:
    now = utcnow()
    _forgive(unit, attempt)
    repository.forget_sessions_before(unit.session, now - max(idle, LIFETIME) - KEPT_AFTER_END)
    if new_hash is not None:
        repository.set_password_hash(unit.session, user_id, new_hash)
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    row = repository.add_session(unit.session, user_id, token_digest(token), csrf_token, now)
    found = repository.find_session(unit.session, row.digest)
    assert found is not None  # noqa: S101 - inserted just above, in this unit
    return SignedIn(token, _session_user(*found))


async def session_user(
    database: Database,
    token: str,
    idle: dt.timedelta,
    touch_after: dt.timedelta,
    *,
    person_present: bool = True,
) -> SessionUser:
    """The open, unexpired session a cookie's token names; 401 otherwise. A request the page
    made on its own (``person_present`` False: keeping a list up to date) does not count as
    use, so a page left open still goes idle."""
    now = utcnow()
    found = await database.read(_find, token_digest(token))
    if found is None:
        raise Unauthenticated(SIGNED_OUT)
    user, created, last_seen = found
    if now - last_seen > idle or now - created > LIFETIME:
        await database.write(_end, user.session_id, now)
        raise Unauthenticated(EXPIRED if now - last_seen > idle else TOO_OLD)
    if person_present and now - last_seen > touch_after:
        await database.write(_touch, user.session_id, now)
    return user


def _find(unit: Unit, digest: str) -> tuple[SessionUser, dt.datetime, dt.datetime] | None:
    found = repository.find_session(unit.session, digest)
    if found is None or found[1].disabled_at is not None:
        return None
    return _session_user(*found), found[0].created_at, found[0].last_seen_at


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
