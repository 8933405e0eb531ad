"""Tables for console users, their sessions, and failed sign-ins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, Identifier, OrganizationScoped, UTCDateTime

EMAIL_MAX = 254
ROLE_MAX = 8


class UserRow(OrganizationScoped, Base):
    """A person who signs in to the console. Only an argon2id hash of the password is kept."""

    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_organization_id", "organization_id"),
        {"sqlite_autoincrement": True},
    )

    # Lower-cased: one address is one account, whatever case it is typed in.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(ROLE_MAX))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Set for a password someone else chose (a one-time password): it must be changed first.
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class ConsoleSessionRow(Base):
    """A signed-in browser. The cookie holds a token; only its SHA-256 digest is kept."""

    __tablename__ = "console_sessions"
    __table_args__ = (
        Index("ix_console_sessions_user_id", "user_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Identifier)
    # Sent back by the page in X-CSRF-Token on every request that changes something.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class SignInFailureRow(Base):
    """A failed sign-in, counted against the account it named and the address it came from."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_subject_at", "subject", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    # "account:<email>" or "address:<ip>"; an address that has no account is counted too.
    subject: Mapped[str] = mapped_column(String(300))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SignInLockRow(Base):
    """An account or address whose sign-ins are refused until ``until``."""

    __tablename__ = "sign_in_locks"

    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
