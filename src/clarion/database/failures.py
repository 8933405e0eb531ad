"""Telling "the database is away" (unreachable, locked, read-only, full) from a bug.

The first is the server's condition, not the request's fault: clients get 503 with
Retry-After, loops back off, and one log line says what the database said, without a
traceback. Anything else is a bug and is reported as one.
"""

from __future__ import annotations

import sqlite3

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_errors

# SQLite result codes (and their extended forms) that describe the file or its lock.
_SQLITE_AWAY = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_READONLY",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_PROTOCOL",
    "SQLITE_PERM",
)

_POSTGRES_AWAY = (
    psycopg.OperationalError,  # connection lost or refused, server shutting down, lock timeout
    psycopg.InterfaceError,  # the connection is already closed
    pg_errors.ReadOnlySqlTransaction,  # a read-only standby or database
    pg_errors.InsufficientResources,  # disk full, too many connections
)


def unavailability(error: BaseException) -> str | None:
    """What the database said, when ``error`` means it cannot serve now; else None."""
    if isinstance(error, sa_errors.TimeoutError):
        return "no database connection became free in time"
    if isinstance(error, sa_errors.DBAPIError):
        if error.connection_invalidated:
            return "the connection to the database was lost"
        return unavailability(error.orig) if error.orig is not None else None
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "")
        return str(error) if name.startswith(_SQLITE_AWAY) else None
    if isinstance(error, _POSTGRES_AWAY):
        return _first_line(str(error)) or type(error).__name__
    return None


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0][:300]
