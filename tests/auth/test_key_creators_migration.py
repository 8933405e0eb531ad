"""Migration 0018 keeps the keys of a database already in use working, each made by no one
known (null ``created_by_user_id``), so disabling a user revokes none of them; downgrading
drops the column again."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import URL

from clarion.auth import service as auth_service
from clarion.auth.keys import display_prefix, generate_key, key_digest
from clarion.config import sqlalchemy_url
from clarion.database import Database
from clarion.database.migrate import alembic_config, upgrade
from clarion.database.schema import UTCDateTime
from clarion.people import service as people_service
from clarion.people.roles import Role
from clarion.people.service import NewUser

POSTGRES_URL = os.environ.get("CLARION_TEST_DATABASE_URL")
CREATED = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)

organizations = sa.table(
    "organizations",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("created_at", UTCDateTime()),
)
api_keys = sa.table(
    "api_keys",
    sa.column("id", sa.Integer()),
    sa.column("organization_id", sa.Integer()),
    sa.column("digest", sa.String()),
    sa.column("display_prefix", sa.String()),
    sa.column("created_at", UTCDateTime()),
    sa.column("revoked_at", UTCDateTime()),
)


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[URL]:
    """A database with no tables yet: a file on SQLite, a database of its own on PostgreSQL."""
    if not POSTGRES_URL:
        yield sqlalchemy_url(f"sqlite:///{tmp_path / 'before.db'}")
        return
    server = sqlalchemy_url(POSTGRES_URL)
    name = f"clarion_migration_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_keys_made_before_are_nobodys_and_keep_working(empty_database: URL) -> None:
    upgrade(empty_database, "0017")
    in_use, revoked = generate_key(), generate_key()
    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(organizations.insert().values(id=1, name="Clinic", created_at=CREATED))
        connection.execute(
            api_keys.insert(),
            [
                {
                    "id": key_id,
                    "organization_id": 1,
                    "digest": key_digest(key),
                    "display_prefix": display_prefix(key),
                    "created_at": CREATED,
                    "revoked_at": revoked_at,
                }
                for key_id, key, revoked_at in [(1, in_use, None), (2, revoked, CREATED)]
            ],
        )
    engine.dispose()

    upgrade(empty_database)

    database = Database(empty_database)
    try:
        with database.unit() as unit:
            listed = auth_service.list_keys(unit, 1)
            assert auth_service.find_key(unit, key_digest(in_use)) == (1, 1)
        assert [(k["key_id"], k["created_by_user_id"]) for k in listed] == [(1, None), (2, None)]
        assert [k["revoked_at"] for k in listed] == [None, CREATED]
        user = NewUser("owner@clinic.example", Role.OWNER, "not-a-real-hash", False)
        with database.unit(write=True) as unit:
            added = people_service.add_user(unit, 1, user)
            disabled = people_service.disable_user(unit, 1, added["user_id"], None)
        assert disabled["revoked_api_keys"] == 0
        with database.unit() as unit:
            assert auth_service.find_key(unit, key_digest(in_use)) == (1, 1)
    finally:
        database.dispose()

    engine = sa.create_engine(empty_database)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0017")
        columns = {column["name"] for column in sa.inspect(engine).get_columns("api_keys")}
    finally:
        engine.dispose()
    assert "created_by_user_id" not in columns and "digest" in columns
