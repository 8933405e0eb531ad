"""Database set-up: URLs, SQLite settings for a server, and migrations that match the models."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from clarion.auth.models import OrganizationRow
from clarion.cli import app as cli
from clarion.config import Settings, sqlalchemy_url
from clarion.database import Database, Unit
from clarion.database.clock import utcnow
from clarion.database.engines import POOL_SIZE
from clarion.database.schema import Base, among_ids
from clarion.database.statements import Prepared
from support import Api


@pytest.mark.parametrize(
    ("plain", "driver"),
    [
        ("sqlite:///tmp/x.db", "sqlite+pysqlite"),
        ("postgresql://user@db:5432/clarion", "postgresql+psycopg"),
        ("postgres://user@db/clarion", "postgresql+psycopg"),
    ],
)
def test_plain_urls_get_our_driver(plain: str, driver: str) -> None:
    assert sqlalchemy_url(plain).drivername == driver


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        Settings(database_url="mysql://root@localhost/clarion")


def test_default_database_is_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database.database == str(tmp_path / "clarion.db")


def test_sqlite_is_set_up_for_a_server(tmp_path: Path) -> None:
    database = Database(sqlalchemy_url(f"sqlite:///{tmp_path / 'x.db'}"))
    with database.unit() as unit:
        session = unit.session
        pragmas = {
            name: session.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    database.dispose()
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_db_upgrade_command(tmp_path: Path) -> None:
    env = {
        "CLARION_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "CLARION_DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(cli, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    database = Database(sqlalchemy_url(env["CLARION_DATABASE_URL"]))
    with database.unit() as unit:
        session = unit.session
        tables = set(
            session.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars()
        )
    database.dispose()
    assert {"organizations", "api_keys", "assistants", "alembic_version"} <= tables


@pytest.mark.skipif(
    not os.environ.get("CLARION_TEST_DATABASE_URL"), reason="pooled server connections"
)
def test_connections_the_server_closed_are_replaced_unseen(api: Api, database: Database) -> None:
    assistant = api.create_assistant(name="Survives", first_message="Hello")

    async def fill_the_pool() -> list[int]:  # on the app's event loop, as requests run
        return await asyncio.gather(*(database.read(_backend) for _ in range(POOL_SIZE)))

    backends = set(api.client.portal.call(fill_the_pool))

    # What a PostgreSQL restart or an idle-session timeout does to pooled connections.
    admin = create_engine(database.engine.url, poolclass=NullPool)
    with admin.connect() as connection:
        for backend in backends:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    admin.dispose()

    path = f"/v1/assistant/{assistant['id']}"
    for number in range(POOL_SIZE + 2):
        assert api.get(path).status_code == 200
        changed = api.patch(path, json={"first_message": f"Hello {number}"})
        assert changed.status_code == 200, changed.text
        assert api.get("/v1/assistant").json()[0]["first_message"] == f"Hello {number}"


_ORGANIZATIONS = OrganizationRow.__table__
_AMONG = Prepared(
    lambda: select(_ORGANIZATIONS.c.id).where(among_ids(_ORGANIZATIONS.c.id, "ids")).order_by("id")
)


def test_a_list_of_ids_is_one_parameter(database: Database) -> None:
    def among(ids: list[int]) -> list[int]:
        with database.unit() as unit:
            return [id_ for (id_,) in unit.statements.fetch_all(_AMONG, ids=ids)]

    with database.unit(write=True) as unit:
        now = utcnow()
        unit.session.add_all(
            [OrganizationRow(name=f"Clinic {n}", created_at=now) for n in range(3)]
        )
    with database.unit() as unit:
        first, second, third = sorted(unit.session.scalars(select(OrganizationRow.id)))
    assert among([third, first, 10**12]) == [first, third]
    assert among([second]) == [second]
    assert among([]) == []


@pytest.mark.skipif(not os.environ.get("CLARION_TEST_DATABASE_URL"), reason="PostgreSQL units")
def test_postgres_units_run_on_the_event_loop_within_the_pool(settings: Settings) -> None:
    database = Database(settings.database)
    units = 3 * POOL_SIZE

    def work(unit: Unit) -> tuple[int, int]:
        return threading.get_ident(), _backend(unit)

    async def at_once() -> list[tuple[int, int]]:
        try:
            return await asyncio.gather(*(database.read(work) for _ in range(units)))
        finally:
            await database.aclose()

    results = asyncio.run(at_once())
    assert {thread for thread, _backend in results} == {threading.get_ident()}
    # Units beyond the pool waited for a pooled connection instead of opening one of their own.
    assert len({backend for _thread, backend in results}) <= POOL_SIZE


def _backend(unit: Unit) -> int:
    """The PostgreSQL backend serving this unit, held a moment so that units overlap."""
    backend: int = unit.session.execute(
        text("SELECT pg_backend_pid() FROM pg_sleep(0.01)")
    ).scalar_one()
    return backend
