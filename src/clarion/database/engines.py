"""Engines: SQLite set up for a server (WAL, busy timeout, foreign keys, owner-only files),
PostgreSQL with a fixed pool whose dead connections are dropped before use."""

from __future__ import annotations

import select
from typing import Any

import orjson
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, create_engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from clarion.storage.files import prepare_database_file


def _json_serializer(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_database_engine(url: URL) -> Engine:
    """An engine set up for a server: WAL, a busy timeout and foreign keys on SQLite."""
    engine = create_engine(url, **_engine_options(url))
    if url.get_backend_name() == "sqlite":
        prepare_database_file(url.database)  # owner-only before SQLite first opens it
        _configure_sqlite(engine)
    else:
        event.listen(engine, "checkout", _refuse_closed_by_server)
    return engine


def create_async_database_engine(url: URL) -> AsyncEngine:
    """The engine a PostgreSQL server process runs its units of work on (see Database)."""
    engine = create_async_engine(url, **_engine_options(url))
    event.listen(engine.sync_engine, "checkout", _refuse_closed_by_server)
    return engine


def _engine_options(url: URL) -> dict[str, Any]:
    options: dict[str, Any] = {
        "json_serializer": _json_serializer,
        "json_deserializer": orjson.loads,
    }
    if url.get_backend_name() == "sqlite":
        options["connect_args"] = {"check_same_thread": False}
    else:
        options["pool_size"] = POOL_SIZE
        # No overflow: a unit beyond the pool waits for a pooled connection (see
        # Database._unit_slot), where an overflow connection would be opened and closed for
        # that one request.
        options["max_overflow"] = 0
    return options


def _refuse_closed_by_server(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: object
) -> None:
    """Drop a pooled connection the server has closed (a restart, an idle timeout, a
    terminated backend) before it is used: the pool then opens a new one.

    An idle connection has nothing to read unless the server said goodbye, so a poll of its
    socket tells, without the round trip SQLAlchemy's pre-ping spends on every checkout
    (a large share of a single-SELECT request; the README's performance section has the figure).
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    # psycopg's own connection: the async engine's pool holds an adapter around it.
    driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    try:
        readable, _, _ = select.select([driver.pgconn.socket], [], [], 0)
    except (OSError, psycopg.OperationalError) as exc:  # no socket left to poll
        raise DisconnectionError("the connection is lost") from exc
    if readable:
        raise DisconnectionError("the server closed the connection")


# Connections a server process keeps to PostgreSQL, and so units of work it runs at once.
POOL_SIZE = 10


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, instead of the driver's own
        # implicit transactions, so that writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A unit of work on the event loop opens its transaction on the driver itself
        # (clarion.database.units); a session joining it must not open another.
        if connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            return
        # A write transaction takes SQLite's write lock at BEGIN: a read-then-write inside it
        # can neither lose an update nor fail half-way with "database is locked".
        if connection.get_execution_options().get("clarion_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def no_checkpoints_on_commit(dbapi_connection: Any, _record: object) -> None:
    """Leave copying the write-ahead log to the checkpoint thread (clarion.database.checkpoints)."""
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
