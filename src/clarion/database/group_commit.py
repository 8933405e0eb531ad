"""Group commit: on SQLite, the write units queued in one turn of the event loop share one
transaction.

Served, a commit costs far more than its statements: taking and releasing the write lock (six
fcntl calls on the shared-memory index), and the log frames of every page it touched, the
version records' last page among them, written again for each commit. Under load many writes
arrive in one turn of the event loop; committing them together saves most of that (the
README's performance section has the figures).

Each unit runs inside a SAVEPOINT of its own: a unit that raises undoes only its own changes
and its caller gets its error, while the others commit. No caller hears of its change before
the COMMIT that makes it durable, so what a client is told is never lost on a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from clarion.database.statements import Statements
from clarion.database.units import Unit, run_unit

T = TypeVar("T")


@dataclass(slots=True)
class _Queued:
    work: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outcome: asyncio.Future[Any]


class GroupCommit:
    """Runs write units on one connection, those queued in the same turn of the event loop in
    one transaction.

    One per event-loop thread: the connection, the queue and the callers' futures all belong
    to that thread's loop.
    """

    def __init__(self, statements: Statements, connection: Connection) -> None:
        self._statements = statements
        self._connection = connection
        self._queued: list[_Queued] = []

    async def run(self, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        """``work(unit, *args, **kwargs)``'s result, once its transaction committed."""
        loop = asyncio.get_running_loop()
        unit = _Queued(work, args, kwargs, loop.create_future())
        self._queued.append(unit)
        if len(self._queued) == 1:
            # Runs after every task that is ready in this turn, so their units join this one.
            loop.call_soon(self._commit_queued)
        result: T = await unit.outcome
        return result

    def _commit_queued(self) -> None:
        # A caller cancelled while queued is not waiting for its change: it is not made.
        units = [queued for queued in self._queued if not queued.outcome.cancelled()]
        self._queued = []
        if not units:
            return
        statements = self._statements
        done: list[tuple[_Queued, Unit, Any]] = []
        try:
            statements.control("BEGIN IMMEDIATE")
            for queued in units:
                statements.control("SAVEPOINT unit")
                try:
                    unit, result = run_unit(
                        statements,
                        self._connection,
                        queued.work,
                        queued.args,
                        queued.kwargs,
                        shared=True,
                    )
                except Exception as exc:
                    statements.control("ROLLBACK TO unit")
                    statements.control("RELEASE unit")
                    queued.outcome.set_exception(exc)
                    continue
                statements.control("RELEASE unit")
                done.append((queued, unit, result))
            statements.control("COMMIT")
        except BaseException as exc:
            # The write lock not taken, or the commit failed: none of these changes is kept.
            with contextlib.suppress(sqlite3.OperationalError):  # no transaction to undo
                statements.control("ROLLBACK")
            for queued in units:
                if not queued.outcome.done():
                    queued.outcome.set_exception(exc)
            for _queued, unit, _result in done:
                unit.ended(committed=False)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            forget_transaction(self._connection)
        for queued, unit, result in done:
            unit.ended(committed=True)
            queued.outcome.set_result(result)


def forget_transaction(connection: Connection) -> None:
    """Tell SQLAlchemy the transaction a session joined is over: it ended on the driver."""
    if connection.in_transaction():
        connection.rollback()  # nothing left to roll back: the driver does nothing
