"""The database a process works with: its engines, and the read and write units it runs."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from clarion.database.checkpoints import WalCheckpointer, restart_log
from clarion.database.engines import (
    POOL_SIZE,
    create_async_database_engine,
    create_database_engine,
    no_checkpoints_on_commit,
)
from clarion.database.group_commit import GroupCommit, forget_transaction
from clarion.database.statements import Statements
from clarion.database.units import Unit, run_unit

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """Owns the engines and runs units of work (clarion.database.units), each one transaction.

    :meth:`read` and :meth:`write` run a unit on the event loop; :meth:`unit` is the same
    for code without one (the command line, tests, benchmark seeding).
    """

    def __init__(self, url: URL) -> None:
        self.engine = create_database_engine(url)
        self._writers = self.engine.execution_options(clarion_write=True)
        self._per_thread = threading.local()
        self._checkpointer: WalCheckpointer | None = None
        # Creating an async engine opens nothing: connections come with the first unit.
        self._async_engine = (
            None if url.get_backend_name() == "sqlite" else create_async_database_engine(url)
        )
        # A read unit sees one snapshot from its first statement to its last.
        self._async_readers = (
            None
            if self._async_engine is None
            else self._async_engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        )
        self._units: asyncio.Semaphore | None = None

    async def read(
        self, work: Callable[Concatenate[Unit, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``work(unit, ...)`` in a read transaction: one consistent snapshot."""
        if self._async_readers is None:
            return self._held().read(work, args, kwargs)
        return await self._on_postgres(self._async_readers, work, args, kwargs)

    async def write(
        self, work: Callable[Concatenate[Unit, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``work(unit, ...)`` in a write transaction, committed before this returns."""
        if self._async_engine is None:
            return await self._held().group_commit.run(work, args, kwargs)
        return await self._on_postgres(self._async_engine, work, args, kwargs)

    async def _on_postgres(
        self,
        engine: AsyncEngine,
        work: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        async with self._unit_slot(), engine.connect() as connection:
            return await connection.run_sync(_unit_on, work, args, kwargs)

    @contextmanager
    def unit(self, *, write: bool = False) -> Iterator[Unit]:
        """A unit for code without an event loop, committed when the block ends."""
        with (self._writers if write else self.engine).connect() as connection:
            with connection.begin():
                driver = connection.connection.dbapi_connection
                unit = Unit(Statements(driver, connection.dialect), connection, shared=False)
                try:
                    yield unit
                    unit.finish()
                except BaseException:
                    unit.abandon()
                    unit.ended(committed=False)
                    raise
            unit.ended(committed=True)

    def _unit_slot(self) -> asyncio.Semaphore:
        """One of the pool's connections, waited for in turn.

        Waiting in the pool itself is not first come, first served: a unit arriving as a
        connection comes back takes it ahead of one already waiting, which then queues again
        at the back, and the tail latency grows many times the median.
        """
        if self._units is None:  # made on first use: it belongs to the running event loop
            self._units = asyncio.Semaphore(POOL_SIZE)
        return self._units

    def _held(self) -> _HeldConnection:
        # Units on the event loop run one at a time, so each thread keeps one connection for
        # them instead of checking one out of the pool for every request.
        held: _HeldConnection | None = getattr(self._per_thread, "held", None)
        if held is None:
            held = self._per_thread.held = _HeldConnection(self.engine.connect())
        return held

    def start_checkpoints(self, **options: Any) -> None:
        """For a long-running process on SQLite: copy the WAL from a thread of its own
        (clarion.database.checkpoints) instead of inside whichever commit fills it."""
        path = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not path or path == ":memory:":
            return
        event.listen(self.engine, "connect", no_checkpoints_on_commit)
        held = getattr(self._per_thread, "held", None)
        if held is not None:
            no_checkpoints_on_commit(held.driver, None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # no event loop: the checkpoint thread restarts the log itself
        if loop is not None and "restart" not in options:
            options["restart"] = partial(loop.call_soon_threadsafe, self._restart_log)
        self._checkpointer = WalCheckpointer(path, **options)
        self._checkpointer.start()

    def _restart_log(self) -> None:
        # On the event loop, between units of work: no lock to wait for (see checkpoints).
        held = getattr(self._per_thread, "held", None)
        if held is not None:
            restart_log(held.driver, wait=False)
            return
        with self.engine.connect() as connection:
            restart_log(connection.connection.driver_connection, wait=False)  # type: ignore[arg-type]

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

    def __init__(self, connection: Connection) -> None:
        self.connection = connection  # checked out for the thread's lifetime
        self.driver: Any = connection.connection.driver_connection
        self.statements = Statements(self.driver, connection.dialect)
        self.group_commit = GroupCommit(self.statements, connection)

    def read(self, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        """A read unit: a deferred transaction, so every statement sees one snapshot."""
        statements = self.statements
        statements.control("BEGIN")
        try:
            unit, result = run_unit(statements, self.connection, work, args, kwargs)
        except BaseException:
            with contextlib.suppress(sqlite3.OperationalError):  # a session ended it already
                statements.control("ROLLBACK")
            forget_transaction(self.connection)
            raise
        statements.control("COMMIT")
        if unit.used_session:
            forget_transaction(self.connection)
        unit.ended(committed=True)
        return result


def _unit_on(
    connection: Connection, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    """A unit on PostgreSQL, in the greenlet of the async engine."""
    with connection.begin():
        driver = connection.connection.dbapi_connection
        unit, result = run_unit(
            Statements(driver, connection.dialect), connection, work, args, kwargs
        )
    unit.ended(committed=True)
    return result
