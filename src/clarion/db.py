"""The database: engine set-up, sessions, the declarative base and shared column types.

Routes never see a session. A service function runs inside :meth:`Database.read` or
:meth:`Database.write`, which open one transaction, commit it when the function returns and
roll it back when it raises: the request is the transaction boundary.

Service functions are plain synchronous code, whichever database runs them. On SQLite a unit
runs on the event loop as it is. On PostgreSQL it runs on the event loop too, in a greenlet
(SQLAlchemy's asyncio extension): each statement waits for the server on the loop, through
psycopg's async connection, without a thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import select
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

import orjson
import psycopg
from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Connection, Engine, create_engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator

from clarion.checkpoints import WalCheckpointer, restart_log
from clarion.files import prepare_database_file
from clarion.group_commit import GroupCommit
from clarion.statements import Transaction, decode_json_text

P = ParamSpec("P")
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only gives auto-increment to a column declared exactly INTEGER PRIMARY KEY.
Identifier = BigInteger().with_variant(Integer(), "sqlite")


class _SQLiteJSON(TypeDecorator[Any]):
    """JSON kept as text on SQLite, encoded and decoded by orjson directly.

    SQLAlchemy's SQLite JSON type converts through two layers of wrappers (one for numbers
    stored bare, which we never store); an assistant row has up to three documents.
    """

    impl = JSON(none_as_null=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _json_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return decode_json_text


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


JSONDocument = _SQLiteJSON().with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        # SQLite keeps text; a fixed-width naive UTC form sorts correctly as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    # On SQLite the two conversions below replace SQLAlchemy's (a format string of seven
    # fields one way, a regular expression the other, then process_*_value): every assistant
    # read converts two timestamps, and these cost a fifth as much. The text is the same
    # fixed-width "YYYY-MM-DD HH:MM:SS.ffffff" SQLAlchemy writes, so stored rows still compare.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _sqlite_timestamp

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _sqlite_datetime


def _sqlite_timestamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" without its offset (datetime.replace is slower).
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_datetime(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value + "+00:00")  # the UTC offset: 7x faster than replace


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    (a third of a single-SELECT request, seen with py-spy).
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
        # A write transaction takes SQLite's write lock at BEGIN: a read-then-write inside it
        # can neither lose an update nor fail half-way with "database is locked".
        if connection.get_execution_options().get("clarion_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _no_checkpoints_on_commit(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class Database:
    """Owns the engines and runs units of work, each in one transaction.

    Two kinds of unit: :meth:`read` and :meth:`write` hand the work an ORM session (the
    command line, keys, the outbox); :meth:`transaction` and :meth:`write_transaction` hand
    it prepared statements on the DB-API connection (clarion.statements: the assistant API's
    hot paths).

    Every unit runs on the event loop. On SQLite a unit is a few microseconds of local,
    CPU-bound work that never awaits: a read runs as it is, and the writes queued in one turn
    of the loop commit together (clarion.group_commit), so a write never waits on the lock
    for another write of the same process. On PostgreSQL it runs in a greenlet on the async
    engine, not in a thread: a thread per unit cost the GIL hand-over and thread wake-ups on
    every request, more than the query (server CPU per GET under 32 clients: about 480 us
    in threads, 320 us in greenlets).

    The synchronous :meth:`writing` and :meth:`reading` are for code without an event loop
    (the command line, migrations, benchmark seeding).
    """

    def __init__(self, url: URL) -> None:
        self.engine = create_database_engine(url)
        self._per_thread = threading.local()
        self._checkpointer: WalCheckpointer | None = None
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(
            self.engine.execution_options(clarion_write=True), expire_on_commit=False
        )
        # Creating an async engine opens nothing: connections come with the first unit.
        self._async_engine = (
            None if url.get_backend_name() == "sqlite" else create_async_database_engine(url)
        )
        self._units: asyncio.Semaphore | None = None
        self._async_sessions = (
            None
            if self._async_engine is None
            else async_sessionmaker(self._async_engine, expire_on_commit=False)
        )

    def start_checkpoints(self, **options: Any) -> None:
        """For a long-running process on SQLite: copy the WAL from a thread of its own
        (clarion.checkpoints) instead of inside whichever commit fills it."""
        path = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not path or path == ":memory:":
            return
        event.listen(self.engine, "connect", _no_checkpoints_on_commit)
        held = getattr(self._per_thread, "held", None)
        if held is not None:
            _no_checkpoints_on_commit(held.connection.driver_connection, None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # no event loop: the checkpoint thread restarts the log itself
        if loop is not None and "restart" not in options:
            options["restart"] = partial(loop.call_soon_threadsafe, self._restart_log)
        self._checkpointer = WalCheckpointer(path, **options)
        self._checkpointer.start()

    def _restart_log(self) -> None:
        # On the event loop, between units of work: no lock to wait for (clarion.checkpoints).
        held = getattr(self._per_thread, "held", None)
        if held is not None:
            restart_log(held.connection.driver_connection, wait=False)
            return
        with self.engine.connect() as connection:
            driver_connection: Any = connection.connection.driver_connection
            restart_log(driver_connection, wait=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in a write transaction, committed on success."""
        with self._writers.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session in a read transaction."""
        with self._readers.begin() as session:
            yield session

    async def write(
        self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``work(session, ...)`` in a write transaction."""
        return await self._session_unit(self.writing, work, *args, **kwargs)

    async def read(
        self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``work(session, ...)`` in a read transaction."""
        return await self._session_unit(self.reading, work, *args, **kwargs)

    async def _session_unit(
        self,
        session_on_sqlite: Callable[[], AbstractContextManager[Session]],
        work: Callable[Concatenate[Session, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        if self._async_sessions is None:
            with session_on_sqlite() as session:
                return work(session, *args, **kwargs)
        # On PostgreSQL a read and a write transaction begin alike.
        async with self._unit_slot(), self._async_sessions.begin() as async_session:
            return await async_session.run_sync(work, *args, **kwargs)

    async def transaction(
        self,
        work: Callable[Concatenate[Transaction, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work(transaction, ...)`` on prepared statements: one SELECT, on its own."""
        return await self._statements(False, work, *args, **kwargs)

    async def write_transaction(
        self,
        work: Callable[Concatenate[Transaction, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work(transaction, ...)`` on prepared statements, in a write transaction."""
        return await self._statements(True, work, *args, **kwargs)

    async def _statements(
        self, write: bool, work: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        if self._async_engine is None:
            held = self._held()
            if write:
                return await held.group_commit.run(work, args, kwargs)
            # The driver is in autocommit mode (see _configure_sqlite), and every read unit is
            # a single SELECT, which SQLite runs atomically on its own.
            return work(held.transaction, *args, **kwargs)
        async with self._unit_slot(), self._async_engine.connect() as connection:
            return await connection.run_sync(_statement_unit, write, work, args, kwargs)

    def _unit_slot(self) -> asyncio.Semaphore:
        """One of the pool's connections, waited for in turn.

        Waiting in the pool itself is not first come, first served: a unit arriving as a
        connection comes back takes it ahead of one already waiting, which then queues again
        at the back (p99 of 90 to 230 ms at 32 connections, where p50 was 8 ms).
        """
        if self._units is None:  # made on first use: it belongs to the running event loop
            self._units = asyncio.Semaphore(POOL_SIZE)
        return self._units

    def _held(self) -> _HeldConnection:
        # Units on the event loop run one at a time, so each thread keeps one connection for
        # them instead of checking one out of the pool for every request.
        held: _HeldConnection | None = getattr(self._per_thread, "held", None)
        if held is None:
            held = self._per_thread.held = _HeldConnection(
                self.engine.raw_connection(), self.engine.dialect
            )
        return held

    async def aclose(self) -> None:
        """Close every connection; in a process that ran units on an event loop, on that loop."""
        if self._async_engine is not None:
            await self._async_engine.dispose()
        self.dispose()

    def dispose(self) -> None:
        """Close every connection, outside an event loop."""
        if self._async_engine is not None:
            # Connections a loop opened can only be closed on it (see aclose): dropped here.
            self._async_engine.sync_engine.dispose(close=False)
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        held = getattr(self._per_thread, "held", None)
        if held is not None:
            held.connection.close()
            self._per_thread.__dict__.clear()
        self.engine.dispose()
        if checkpointer is not None:
            checkpointer.close()  # last: its descriptor's close drops the process's locks


class _HeldConnection:
    """A SQLite connection kept by one event-loop thread, and how its units run on it."""

    def __init__(self, connection: PoolProxiedConnection, dialect: Dialect) -> None:
        self.connection = connection  # checked out for the thread's lifetime
        self.transaction = Transaction(connection.driver_connection, dialect)
        self.group_commit = GroupCommit(self.transaction)


def _statement_unit(
    connection: Connection,
    write: bool,
    work: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> T:
    """A unit on prepared statements, on PostgreSQL (in the greenlet of the async engine)."""
    driver: Any = connection.connection.dbapi_connection
    if not write:
        # A read unit is a single SELECT (as on SQLite): in autocommit it is one round trip
        # instead of three (BEGIN, SELECT, COMMIT).
        driver.autocommit = True
    try:
        result = work(Transaction(driver, connection.dialect), *args, **kwargs)
        driver.commit()
        return result
    except BaseException:
        driver.rollback()
        raise
    finally:
        if not write:
            driver.autocommit = False
