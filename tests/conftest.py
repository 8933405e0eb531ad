"""Fixtures: every test gets a migrated database of its own and a client for the real app.

The default run uses SQLite. Set CLARION_TEST_DATABASE_URL=postgresql://... to run the same
suite against PostgreSQL: the migrations run once into a fresh database, and every test
starts from empty tables.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

import clarion.migrations.tables  # noqa: F401 - registers every table on Base.metadata
from clarion.api.access_log import AccessLog
from clarion.app import create_app
from clarion.auth import service as auth_service
from clarion.config import Settings, sqlalchemy_url
from clarion.database import Database
from clarion.database.migrate import upgrade
from clarion.database.schema import Base
from support import Api, Tenant

# The calls' fixtures (a served app, the fake providers, a receiver) serve tests/calls,
# tests/engine and tests/after_call alike.
pytest_plugins = ["call_fixtures"]

POSTGRES_URL = os.environ.get("CLARION_TEST_DATABASE_URL")
NO_TRUNCATE = "call_reads_no_truncate"


@dataclass
class MigratedDatabase:
    """A migrated database for the session; ``fresh()`` hands a test a clean one."""

    fresh: Callable[[Path], str]


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedDatabase]:
    if POSTGRES_URL:
        yield from _postgres_database(POSTGRES_URL)
        return
    template = tmp_path_factory.mktemp("template") / "clarion.db"
    upgrade(sqlalchemy_url(f"sqlite:///{template}"))

    def fresh(directory: Path) -> str:
        target = directory / "clarion.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"

    yield MigratedDatabase(fresh)


def _postgres_database(server_url: str) -> Iterator[MigratedDatabase]:
    server = sqlalchemy_url(server_url)
    name = f"clarion_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url: URL = server.set(database=name)
    upgrade(url)
    # Pre-ping: tests that take the database away terminate this engine's connection too.
    engine = create_engine(url, pool_pre_ping=True)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)

    def fresh(_directory: Path) -> str:
        with engine.begin() as connection:
            # The access log refuses TRUNCATE (migration 0016): its guard is lifted for this
            # reset only, inside the transaction that empties the tables, so no test sees it off.
            connection.execute(text(f"ALTER TABLE call_reads DISABLE TRIGGER {NO_TRUNCATE}"))
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            connection.execute(text(f"ALTER TABLE call_reads ENABLE TRIGGER {NO_TRUNCATE}"))
        return url.render_as_string(hide_password=False).replace("+psycopg", "")

    try:
        yield MigratedDatabase(fresh)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, migrated_database: MigratedDatabase) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=migrated_database.fresh(tmp_path),
        auto_migrate=False,
        run_worker=False,  # tests/webhooks turns the delivery worker on
        # argon2id at its lightest: the sign-in tests hash and check hundreds of passwords.
        password_hash_memory_kib=8192,
        password_hash_iterations=1,
    )


@pytest.fixture
def access_stream() -> io.BytesIO:
    """Where the app writes its access lines (tests/test_request_log.py reads them)."""
    return io.BytesIO()


@pytest.fixture
def app(settings: Settings, access_stream: io.BytesIO) -> Any:
    return create_app(settings, access_log=AccessLog(access_stream, settings.log_format))


@pytest.fixture
def database(app: Any) -> Database:
    db: Database = app.state.services.database
    return db


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def new_tenant(database: Database) -> Callable[[str], Tenant]:
    def make(name: str = "Northside Clinic") -> Tenant:
        with database.unit(write=True) as unit:
            organization_id, key = auth_service.create_organization(unit, name)
        return Tenant(organization_id, key.api_key, key.key_id)

    return make


@pytest.fixture
def tenant(new_tenant: Callable[[str], Tenant]) -> Tenant:
    return new_tenant("Northside Clinic")


@pytest.fixture
def other_tenant(new_tenant: Callable[[str], Tenant]) -> Tenant:
    return new_tenant("Riverside Practice")


@pytest.fixture
def api(client: TestClient, tenant: Tenant) -> Api:
    return Api(client, tenant)
