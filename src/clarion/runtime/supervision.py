"""Supervised loops: a failed step is logged once, backed off and retried; health sees it."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from clarion.database.failures import unavailability

log = logging.getLogger("clarion.runtime")

LoopState = Literal["starting", "running", "failing", "stopped"]

FIRST_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 10.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class LoopStatus:
    """How one loop is doing. Written by the loop (any thread), read by health."""

    name: str
    state: LoopState = "starting"
    failures: int = 0
    """Steps failed in a row; 0 once a step succeeds."""
    last_error: str | None = None
    since: dt.datetime = field(default_factory=_now)
    """When the loop entered its current state."""

    def succeeded(self) -> None:
        """Record a step that worked: the loop is running, its failure count back to 0."""
        if self.state == "failing":
            log.info("%s recovered after %d failed steps", self.name, self.failures)
        if self.state != "running":
            self.state, self.since = "running", _now()
        self.failures = 0

    def failed(self, error: BaseException) -> float:
        """Log the failure once and say how long to wait before the next step."""
        self.failures += 1
        if self.state != "failing":
            self.state, self.since = "failing", _now()
        reason = unavailability(error)
        if reason is not None:
            # The database is away: what it said is the whole story, no traceback needed.
            self.last_error = f"database unavailable: {reason}"
            log.warning("%s failed (%s); retrying", self.name, self.last_error)
        else:
            # Its type only: health needs no key, and a message may quote what a patient
            # said. The log has where it was raised (its formatter leaves messages out too).
            self.last_error = type(error).__name__
            log.error("%s failed with %s; retrying", self.name, self.last_error, exc_info=error)
        return backoff(self.failures)

    def stopped(self) -> None:
        """Record that the loop has ended."""
        self.state, self.since = "stopped", _now()

    @property
    def healthy(self) -> bool:
        """Whether health counts this loop as fine: starting or running."""
        return self.state in ("starting", "running")


def backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failed steps in a row: doubling, up to a cap."""
    return min(FIRST_BACKOFF_SECONDS * 2.0 ** (failures - 1), MAX_BACKOFF_SECONDS)


Step = Callable[[], Awaitable[object]]


async def supervise(status: LoopStatus, step: Step, stop: asyncio.Event) -> None:
    """Run ``step`` over and over until ``stop`` is set, surviving any failure of it."""
    while not stop.is_set():
        try:
            await step()
        except Exception as error:
            await rest(stop, status.failed(error))
        else:
            status.succeeded()
    status.stopped()


async def rest(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile; whether it was."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def first_of(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Return once any of ``events`` is set, or ``timeout`` seconds have passed."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
