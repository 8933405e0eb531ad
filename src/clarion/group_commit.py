"""Group commit: on SQLite, the write units queued in one turn of the event loop share one
transaction.

Served, a commit costs far more than its statements: taking and releasing the write lock (six
fcntl calls on the shared-memory index), and the log frames of every page it touched, the
version records' last page among them, written again for each commit. Under 32 clients about
14 PATCHes arrive in one turn of the event loop; committing them together took the server's
CPU per PATCH from about 150 us to about 100 us (bench/assistant_api.py's PATCH workload).

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

from clarion.statements import Transaction

T = TypeVar("T")


@dataclass(slots=True)
class _Unit:
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

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction
        self._queued: list[_Unit] = []

    async def run(self, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        """``work(transaction, *args, **kwargs)``'s result, once its transaction committed."""
        loop = asyncio.get_running_loop()
        unit = _Unit(work, args, kwargs, loop.create_future())
        self._queued.append(unit)
        if len(self._queued) == 1:
            # Runs after every task that is ready in this turn, so their units join this one.
            loop.call_soon(self._commit_queued)
        result: T = await unit.outcome
        return result

    def _commit_queued(self) -> None:
        # A caller cancelled while queued is not waiting for its change: it is not made.
        units = [unit for unit in self._queued if not unit.outcome.cancelled()]
        self._queued = []
        if not units:
            return
        transaction = self._transaction
        results: list[tuple[_Unit, Any]] = []
        try:
            transaction.control("BEGIN IMMEDIATE")
            for unit in units:
                transaction.control("SAVEPOINT unit")
                try:
                    result = unit.work(transaction, *unit.args, **unit.kwargs)
                except Exception as exc:
                    transaction.control("ROLLBACK TO unit")
                    transaction.control("RELEASE unit")
                    unit.outcome.set_exception(exc)
                    continue
                transaction.control("RELEASE unit")
                results.append((unit, result))
            transaction.control("COMMIT")
        except BaseException as exc:
            # The write lock not taken, or the commit failed: none of these changes is kept.
            with contextlib.suppress(sqlite3.OperationalError):  # no transaction to undo
                transaction.control("ROLLBACK")
            for unit in units:
                if not unit.outcome.done():
                    unit.outcome.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for unit, result in results:
            unit.outcome.set_result(result)
