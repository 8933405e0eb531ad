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
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial

import aiohttp

from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.database.failures import unavailability
from clarion.outbound.guard import resolver_kwargs
from clarion.runtime.supervision import Step
from clarion.storage.secret_box import SecretBox
from clarion.webhooks import outbox
from clarion.webhooks.outbox import Claimed
from clarion.webhooks.sender import Outcome, attempt
from clarion.webhooks.signing import Signer

log = logging.getLogger("clarion.webhooks")

IDLE_POLL_SECONDS = 0.5
RECORD_BATCH = 256

Recorded = tuple[Claimed, dt.datetime, Outcome]


class DeliveryWorker:
    """Two loops: one claims due deliveries and starts their sends, one records outcomes."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        signer: Signer,
        secrets: SecretBox,
        due: asyncio.Event,
    ) -> None:
        self.database = database
        self.settings = settings
        self.signer = signer
        self.secrets = secrets
        self.due = due  # set when this process commits a delivery: no need to wait to poll
        self._outcomes: asyncio.Queue[Recorded] | None = None
        self._unrecorded: list[Recorded] = []  # a batch whose recording failed, tried again
        self._sending: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def running(self, stop: asyncio.Event) -> AsyncIterator[Mapping[str, Step]]:
        """The worker's loops; on leaving, the sends in flight finish and are recorded."""
        self._outcomes = asyncio.Queue()  # bound to the loop the worker runs on
        connector = aiohttp.TCPConnector(
            limit=self.settings.webhook_concurrency,
            **resolver_kwargs(self.settings.allowed_networks),
        )
        async with aiohttp.ClientSession(connector=connector) as session:
            yield {
                "webhook-claims": partial(self._claim, session, stop),
                "webhook-records": partial(self._record, stop),
            }
            if self._sending:
                await asyncio.wait(self._sending)
        await self._record_rest()

    async def _claim(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        """Claim what is due, as far as there is room, and start sending it."""
        if len(self._sending) > self.settings.webhook_concurrency // 2:
            # Claim in batches, not one delivery per freed slot.
            await asyncio.wait(self._sending, return_when=asyncio.FIRST_COMPLETED)
            return
        free = self.settings.webhook_concurrency - len(self._sending)
        lease = self.settings.webhook_lease_seconds
        claimed = await self.database.write(outbox.claim, free, lease, utcnow())
        for delivery in claimed:
            task = asyncio.create_task(self._send(session, delivery))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        if not claimed:
            await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        self.due.clear()
        waiters = [asyncio.create_task(self.due.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(
            [*waiters, *self._sending],
            timeout=IDLE_POLL_SECONDS,
            return_when=asyncio.FIRST_COMPLETED,
        )
        for waiter in waiters:
            waiter.cancel()

    async def _send(self, session: aiohttp.ClientSession, delivery: Claimed) -> None:
        started_at = utcnow()
        try:
            secret = (
                self.secrets.decrypt(delivery.secret_encrypted, delivery.organization_id)
                if delivery.secret_encrypted is not None
                else None
            )
        except Exception as error:
            # A server key changed under stored secrets: recorded like any failed attempt.
            kind = type(error).__name__
            reason = f"the webhook secret cannot be read ({kind}): was the server key changed?"
            outcome = Outcome(None, 0, reason, None, None)
        else:
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
        assert self._outcomes is not None  # noqa: S101 - set by running()
        await self._outcomes.put((delivery, started_at, outcome))

    async def _record(self, stop: asyncio.Event) -> None:
        """Record one batch of outcomes (a batch that failed to record first)."""
        outcomes = self._outcomes
        assert outcomes is not None  # noqa: S101 - set by running()
        batch, self._unrecorded = self._unrecorded, []
        if not batch:
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
                self._unrecorded = batch  # kept: the next step records it again
                raise

    async def _record_rest(self) -> None:
        """On the way out: record every outcome still held, once."""
        assert self._outcomes is not None  # noqa: S101 - set by running()
        rest = self._unrecorded
        while not self._outcomes.empty():
            rest.append(self._outcomes.get_nowait())
        self._unrecorded = []
        for start in range(0, len(rest), RECORD_BATCH):
            batch = rest[start : start + RECORD_BATCH]
            try:
                await self.database.write(
                    outbox.record, batch, self.settings.retry_delays, utcnow()
                )
            except Exception as error:
                # Their leases run out and they are sent again: at least once.
                log.warning(
                    "%d webhook attempts left unrecorded on stopping: %s",
                    len(batch),
                    unavailability(error) or type(error).__name__,  # no message: it may quote
                )
