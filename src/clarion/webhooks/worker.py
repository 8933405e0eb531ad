"""The delivery worker: claims due deliveries, sends them concurrently, records every attempt.

Runs inside ``clarion serve`` by default, or as ``clarion worker`` processes (any number, on
any machine sharing one PostgreSQL). Outcomes are written in batches: one transaction per
batch of attempts rather than one per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import aiohttp

from clarion.config import Settings
from clarion.db import Database, utcnow
from clarion.encryption import SecretBox
from clarion.webhooks import outbox
from clarion.webhooks.guard import resolver_kwargs
from clarion.webhooks.outbox import Claimed
from clarion.webhooks.sender import Outcome, attempt
from clarion.webhooks.signing import Signer

log = logging.getLogger("clarion.webhooks")

IDLE_POLL_SECONDS = 0.5
RECORD_BATCH = 256


class DeliveryWorker:
    def __init__(
        self, database: Database, settings: Settings, signer: Signer, secrets: SecretBox
    ) -> None:
        self.database = database
        self.settings = settings
        self.signer = signer
        self.secrets = secrets
        self.wakeup = asyncio.Event()  # set when this process enqueues, to skip the idle wait
        self._outcomes: asyncio.Queue[tuple[Claimed, dt.datetime, Outcome]] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; then finish what is in flight and record it."""
        self._outcomes = asyncio.Queue()  # bound to the loop the worker runs on
        connector = aiohttp.TCPConnector(
            limit=self.settings.webhook_concurrency,
            **resolver_kwargs(self.settings.allowed_networks),
        )
        async with aiohttp.ClientSession(connector=connector) as session:
            recorder = asyncio.create_task(self._record_forever(stop))
            sending: set[asyncio.Task[None]] = set()
            while not stop.is_set():
                if len(sending) > self.settings.webhook_concurrency // 2:
                    # Claim in batches, not one delivery per freed slot.
                    await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
                    continue
                free = self.settings.webhook_concurrency - len(sending)
                claimed = []
                if free:
                    lease = self.settings.webhook_lease_seconds
                    claimed = await self.database.write(outbox.claim, free, lease, utcnow())
                for delivery in claimed:
                    task = asyncio.create_task(self._send(session, delivery))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
                if not claimed:
                    await self._idle(stop, sending)
            if sending:
                await asyncio.wait(sending)
            await recorder

    async def _idle(self, stop: asyncio.Event, sending: set[asyncio.Task[None]]) -> None:
        self.wakeup.clear()
        waiters = [asyncio.create_task(self.wakeup.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(
            [*waiters, *sending] if sending else waiters,
            timeout=IDLE_POLL_SECONDS,
            return_when=asyncio.FIRST_COMPLETED,
        )
        for waiter in waiters:
            waiter.cancel()

    async def _send(self, session: aiohttp.ClientSession, delivery: Claimed) -> None:
        started_at = utcnow()
        secret = (
            self.secrets.decrypt(delivery.secret_encrypted, delivery.organization_id)
            if delivery.secret_encrypted is not None
            else None
        )
        outcome = await attempt(
            session,
            self.signer,
            delivery.url,
            delivery.body,
            delivery.webhook_id,
            secret,
            self.settings.webhook_timeout_seconds,
            self.settings.allowed_networks,
        )
        assert self._outcomes is not None  # noqa: S101 - set by run()
        await self._outcomes.put((delivery, started_at, outcome))

    async def _record_forever(self, stop: asyncio.Event) -> None:
        outcomes = self._outcomes
        assert outcomes is not None  # noqa: S101 - set by run()
        while True:
            batch = []
            with contextlib.suppress(TimeoutError):
                batch.append(await asyncio.wait_for(outcomes.get(), IDLE_POLL_SECONDS))
            while batch and len(batch) < RECORD_BATCH and not outcomes.empty():
                batch.append(outcomes.get_nowait())
            if batch:
                try:
                    await self.database.write(
                        outbox.record, batch, self.settings.retry_delays, utcnow()
                    )
                except Exception:
                    # The leases run out and the deliveries are tried again: at least once.
                    log.exception("recording %d webhook attempts failed", len(batch))
            elif stop.is_set():
                return
