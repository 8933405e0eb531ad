"""SQL for users, sessions and failed sign-ins. User statements are scoped to an organization;
sign-in, which comes before one is known, finds a user by address alone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from clarion.people.models import ConsoleSessionRow, SignInFailureRow, SignInLockRow, UserRow


def add_user(
    session: Session,
    organization_id: int,
    email: str,
    role: str,
    password_hash: str,
    must_change_password: bool,
    now: dt.datetime,
) -> UserRow:
    """Insert a user and return it with its new id."""
    user = UserRow(
        organization_id=organization_id,
        email=email,
        role=role,
        password_hash=password_hash,
        must_change_password=must_change_password,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def email_taken(session: Session, email: str) -> bool:
    """Whether any organization has a user with this address."""
    return session.scalar(select(UserRow.id).where(UserRow.email == email)) is not None


def get_user(session: Session, organization_id: int, user_id: int) -> UserRow | None:
    """The organization's user with this id, or None."""
    return session.scalar(
        select(UserRow).where(UserRow.id == user_id, UserRow.organization_id == organization_id)
    )


def find_by_email(session: Session, email: str) -> UserRow | None:
    """The user with this address, in whichever organization, or None."""
    return session.scalar(select(UserRow).where(UserRow.email == email))


def list_users(session: Session, organization_id: int) -> list[UserRow]:
    """The organization's users, oldest first."""
    return list(
        session.scalars(
            select(UserRow).where(UserRow.organization_id == organization_id).order_by(UserRow.id)
        )
    )


def add_session(
    session: Session, user_id: int, digest: str, csrf_token: str, now: dt.datetime
) -> ConsoleSessionRow:
    """Insert a console session."""
    row = ConsoleSessionRow(
        user_id=user_id, digest=digest, csrf_token=csrf_token, created_at=now, last_seen_at=now
    )
    session.add(row)
    session.flush()
    return row


def find_session(session: Session, digest: str) -> tuple[ConsoleSessionRow, UserRow] | None:
    """The open session with this token digest and its user, or None."""
    found = session.execute(
        select(ConsoleSessionRow, UserRow)
        .join(UserRow, UserRow.id == ConsoleSessionRow.user_id)
        .where(ConsoleSessionRow.digest == digest, ConsoleSessionRow.ended_at.is_(None))
    ).first()
    return None if found is None else (found[0], found[1])


def touch_session(session: Session, session_id: int, now: dt.datetime) -> None:
    """Note that the session was used now."""
    session.execute(
        update(ConsoleSessionRow).where(ConsoleSessionRow.id == session_id).values(last_seen_at=now)
    )


def end_session(session: Session, session_id: int, now: dt.datetime) -> None:
    """End one session."""
    session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.id == session_id, ConsoleSessionRow.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_user_sessions(
    session: Session, user_id: int, now: dt.datetime, keep: int | None = None
) -> None:
    """End every open session of a user, but ``keep``."""
    statement = update(ConsoleSessionRow).where(
        ConsoleSessionRow.user_id == user_id, ConsoleSessionRow.ended_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(ConsoleSessionRow.id != keep)
    session.execute(statement.values(ended_at=now))


def forget_sessions_before(session: Session, before: dt.datetime) -> None:
    """Drop sessions ended, or last used, before ``before``: they can never be used again."""
    session.execute(
        delete(ConsoleSessionRow).where(
            (ConsoleSessionRow.ended_at < before) | (ConsoleSessionRow.last_seen_at < before)
        )
    )


def lock_until(session: Session, subject: str) -> dt.datetime | None:
    """When the lock on an account or address ends, if one was ever set."""
    return session.scalar(select(SignInLockRow.until).where(SignInLockRow.subject == subject))


def hold_subject(session: Session, subject: str) -> None:
    """Hold an account's or address's sign-in count until the transaction ends, so attempts at
    once are counted one after another (PostgreSQL; SQLite writes one at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(subject))))


def add_failure(session: Session, subject: str, now: dt.datetime) -> int:
    """Count a failed sign-in against an account or address; the failure's id."""
    row = SignInFailureRow(subject=subject, at=now)
    session.add(row)
    session.flush()
    return row.id


def failures_since(
    session: Session, subject: str, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """How many sign-ins failed for an account or address since ``since``, and when the latest
    did."""
    count = session.scalar(
        select(func.count(SignInFailureRow.id)).where(
            SignInFailureRow.subject == subject, SignInFailureRow.at >= since
        )
    )
    latest = session.scalar(
        select(SignInFailureRow.at)
        .where(SignInFailureRow.subject == subject, SignInFailureRow.at >= since)
        .order_by(SignInFailureRow.at.desc())
        .limit(1)
    )
    return count or 0, latest


def forget_failure_ids(session: Session, ids: list[int]) -> None:
    """Forget these failures: the attempts they counted proved right."""
    session.execute(delete(SignInFailureRow).where(SignInFailureRow.id.in_(ids)))


def forget_locks_before(session: Session, before: dt.datetime) -> None:
    """Drop locks that have ended."""
    session.execute(delete(SignInLockRow).where(SignInLockRow.until < before))


def set_password_hash(session: Session, user_id: int, password_hash: str) -> None:
    """Keep a user's password hashed anew (at the cost set now)."""
    session.execute(
        update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
    )


def set_lock(session: Session, subject: str, until: dt.datetime) -> None:
    """Refuse an account's or address's sign-ins until ``until``; two failures reaching the
    limit at once both set it, neither fails."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    statement = insert(SignInLockRow).values(subject=subject, until=until)
    session.execute(
        statement.on_conflict_do_update(index_elements=["subject"], set_={"until": until})
    )


def forget_failures(session: Session, subject: str) -> None:
    """Forget an account's failures: its password was just given right."""
    session.execute(delete(SignInFailureRow).where(SignInFailureRow.subject == subject))


def forget_failures_before(session: Session, before: dt.datetime) -> None:
    """Drop failures too old to count."""
    session.execute(delete(SignInFailureRow).where(SignInFailureRow.at < before))


def hold_enabled_user(session: Session, organization_id: int, user_id: int) -> bool:
    """Whether the organization's user is there and not disabled, their row held (shared) to
    the end of the transaction."""
    # The shared lock makes a disable running at the same moment wait for this transaction,
    # whose work (an API key the user creates) it then sees; or, if the disable came first,
    # this reads the user disabled. On SQLite, write transactions run one at a time and there
    # is nothing to lock.
    disabled_at = session.execute(
        select(UserRow.disabled_at)
        .where(UserRow.id == user_id, UserRow.organization_id == organization_id)
        .with_for_update(read=True)
    ).first()
    return disabled_at is not None and disabled_at[0] is None
