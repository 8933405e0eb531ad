"""Stores what is said in this process's calls, as it is said, many calls to a transaction.

A conversation hands each message over; the recorder writes whatever has gathered in one
transaction as soon as the previous one is committed, so under load one write carries the
messages of many calls. A user's message never waits for the database: the model is asked
while it is written. An assistant's turn waits for its commit before the frame that closes
it is sent (:meth:`Recorder.keep`), and a call's end for all of its messages
(:meth:`Recorder.written`).
"""

from __future__ import annotations

import asyncio
import logging

from clarion.calls.models import SaidMessage
from clarion.database import Database
from clarion.database.failures import unavailability
from clarion.engine import moves
from clarion.runtime.supervision import first_of

log = logging.getLogger("clarion.calls")


class Recorder:
    """The process's pending messages and the loop step that writes them."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._pending: list[SaidMessage] = []
        self._gathered = asyncio.Event()
        self._committed = asyncio.Condition()
        self._taken = 0  # messages handed over so far
        self._written = 0  # of which committed

    def record(self, message: SaidMessage) -> None:
        """Queue a message to be stored; it is written within the next transaction."""
        self._pending.append(message)
        self._taken += 1
        self._gathered.set()

    async def keep(self, message: SaidMessage) -> None:
        """Store a message and return once it is committed."""
        self.record(message)
        await self.written()

    async def written(self) -> None:
        """Return once every message handed over until now is committed."""
        target = self._taken
        async with self._committed:
            await self._committed.wait_for(lambda: self._written >= target)

    async def write(self, stop: asyncio.Event) -> None:
        """One step of the recorder's loop: wait for messages, write them all at once. A
        failed write keeps them, to be written by the next step."""
        if not self._pending:
            self._gathered.clear()
            await first_of(stop, self._gathered)
            if not self._pending:
                return
        batch, self._pending = self._pending, []
        try:
            await self._store(batch)
        finally:
            async with self._committed:
                self._committed.notify_all()

    async def _store(self, batch: list[SaidMessage]) -> None:
        """Write a batch in one transaction. While the database is away the batch waits for
        it (put back, the failure raised for the loop to back off). Any other failure is a
        message that can never be stored: the batch is written one message at a time, and a
        message that still fails is dropped with a line naming its call (never its words),
        so it holds up neither the others nor the calls waiting on them."""
        try:
            await self._database.write(moves.record_messages, batch)
            self._written += len(batch)
            return
        except Exception as exc:
            if unavailability(exc) is not None:
                self._pending[:0] = batch
                raise
        for index, message in enumerate(batch):
            try:
                await self._database.write(moves.record_messages, [message])
            except Exception as exc:
                if unavailability(exc) is not None:
                    self._pending[:0] = batch[index:]
                    raise
                log.error(
                    "call %d: message %d cannot be stored and is dropped: %s",
                    message.call_id,
                    message.position,
                    type(exc).__name__,
                )
            self._written += 1

    async def write_rest(self) -> None:
        """Write what is still pending (the process is stopping)."""
        if self._pending:
            batch, self._pending = self._pending, []
            await self._store(batch)
