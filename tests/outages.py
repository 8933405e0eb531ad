"""Taking the test's database away for a while, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from clarion.config import Settings

POSTGRES = bool(os.environ.get("CLARION_TEST_DATABASE_URL"))


@contextmanager
def database_away(settings: Settings) -> Iterator[None]:
    """Make the server's database refuse work until the block ends.

    SQLite: another connection holds the write lock (writers time out, "database is
    locked"). PostgreSQL: the database refuses new connections and its backends are
    terminated (connections fail).
    """
    assert settings.database_url is not None
    if not POSTGRES:
        path = make_url(settings.database_url).database
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    url = make_url(settings.database_url)
    name = url.database
    admin = create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        try:
            yield
        finally:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
    admin.dispose()
