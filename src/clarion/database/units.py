"""Units of work: the one way code reaches the database.

A unit is one transaction. The work it runs gets a :class:`Unit`: the compiled statements
(clarion.database.statements) and, on first use, an ORM session, both on the same connection
and the same snapshot. Work never commits: the unit commits when the work returns and rolls
back when it raises, then runs the hooks the work registered (``after_commit``: jobs that may
only start once their data is durable; ``on_rollback``).

Every unit runs on the event loop, whichever the database. On SQLite a unit is a few
microseconds of local work that never awaits: a read runs as it is, on a connection each
event-loop thread keeps, and the writes queued in one turn of the loop commit together
(clarion.database.group_commit). On PostgreSQL it runs in a greenlet on SQLAlchemy's asyncio
engine: each statement waits for the server on the loop, without a thread. Code without an
event loop (the command line, tests, benchmark seeding) uses :meth:`Database.unit`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from clarion.database.statements import Statements

T = TypeVar("T")
Hook = Callable[[], object]

log = logging.getLogger("clarion.database")


class Unit:
    """One transaction: compiled statements and an ORM session on one connection."""

    __slots__ = ("_committed", "_connection", "_rolled_back", "_session", "_shared", "statements")

    def __init__(self, statements: Statements, connection: Connection, shared: bool) -> None:
        self.statements = statements
        self._connection = connection
        self._shared = shared
        self._session: Session | None = None
        # Most units register no hook: the lists are made on first use.
        self._committed: list[Hook] | None = None
        self._rolled_back: list[Hook] | None = None

    @property
    def session(self) -> Session:
        """An ORM session inside this unit's transaction.

        When the transaction is shared with other units (SQLite's group commit), the session
        works in a savepoint of its own, so that a failed flush (a unique key already taken)
        undoes only its own changes.
        """
        if self._session is None:
            if not self._connection.in_transaction():
                # The transaction is open on the driver (SQLite on the event loop): let
                # SQLAlchemy know, without a second BEGIN (clarion.database.engines).
                self._connection.begin()
            self._session = Session(
                bind=self._connection,
                join_transaction_mode="create_savepoint" if self._shared else "rollback_only",
                expire_on_commit=False,
            )
        return self._session

    def after_commit(self, hook: Hook) -> None:
        """Run ``hook`` once this unit's changes are committed (never if they are not)."""
        if self._committed is None:
            self._committed = []
        self._committed.append(hook)

    def on_rollback(self, hook: Hook) -> None:
        """Run ``hook`` if this unit's changes are rolled back."""
        if self._rolled_back is None:
            self._rolled_back = []
        self._rolled_back.append(hook)

    @property
    def used_session(self) -> bool:
        """Whether the work asked for a session (which may have told SQLAlchemy of the
        transaction)."""
        return self._session is not None

    def finish(self) -> None:
        """The work returned: write what the session holds, still inside the transaction."""
        if self._session is not None:
            self._session.commit()  # flushes (and releases its savepoint): never commits
            self._session.close()

    def abandon(self) -> None:
        """The work raised: drop what the session holds, before the transaction rolls back."""
        if self._session is not None:
            self._session.close()

    def ended(self, committed: bool) -> None:
        """Run the hooks for how the transaction ended."""
        hooks = self._committed if committed else self._rolled_back
        for hook in hooks or ():
            try:
                hook()
            except Exception:
                log.exception("a hook after a unit of work failed")


def run_unit(
    statements: Statements,
    connection: Connection,
    work: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    shared: bool = False,
) -> tuple[Unit, T]:
    """Run ``work`` in a unit on a connection whose transaction is open: the unit, finished,
    and the result. When the work raises, its changes are to be rolled back by the caller:
    the unit is abandoned and its ``on_rollback`` hooks run."""
    unit = Unit(statements, connection, shared)
    try:
        result = work(unit, *args, **kwargs)
        unit.finish()
    except BaseException:
        unit.abandon()
        unit.ended(committed=False)
        raise
    return unit, result
