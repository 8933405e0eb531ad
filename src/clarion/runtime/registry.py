"""What runs in the background, registered once for `clarion serve` and `clarion worker`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Protocol

from clarion.after_call.loops import AfterCalls
from clarion.config import Settings
from clarion.database import Database
from clarion.engine.live import LiveCalls
from clarion.runtime.supervision import LoopStatus, Step, supervise
from clarion.storage.secret_box import SecretBox
from clarion.webhooks.signing import Signer
from clarion.webhooks.worker import DeliveryWorker

log = logging.getLogger("clarion.runtime")


class BackgroundWork(Protocol):
    """A piece of background work: set up, it offers its loops, each as a step to repeat."""

    def running(self, stop: asyncio.Event) -> AbstractAsyncContextManager[Mapping[str, Step]]:
        """Set up, yield the loops by name, and on leaving finish what is in flight."""
        ...


class Runtime:
    """The process's background loops: started together, stopped together, seen by health."""

    def __init__(self) -> None:
        self.loops: dict[str, LoopStatus] = {}

    def status(self, name: str) -> LoopStatus:
        """The status of the loop called ``name`` (made on first use)."""
        return self.loops.setdefault(name, LoopStatus(name))

    async def run(self, works: Sequence[BackgroundWork], stop: asyncio.Event) -> None:
        """Run every loop of ``works`` until ``stop`` is set, then let each work finish."""
        async with AsyncExitStack() as stack:
            steps: dict[str, Step] = {}
            for work in works:
                steps.update(await stack.enter_async_context(work.running(stop)))
            if steps:
                log.info("background loops started: %s", ", ".join(steps))
            await asyncio.gather(
                *(supervise(self.status(name), step, stop) for name, step in steps.items())
            )


def background_work(
    settings: Settings,
    database: Database,
    signer: Signer,
    secrets: SecretBox,
    delivery_due: asyncio.Event,
    *,
    deliver: bool = True,
    live_calls: LiveCalls | None = None,
    after_calls: AfterCalls | None = None,
) -> list[BackgroundWork]:
    """Every piece of background work a process runs, registered once for `clarion serve` and
    `clarion worker`. ``delivery_due`` is set when this process commits a delivery.

    A server holds live calls (``live_calls``); every process ends the calls nobody holds
    and analyses and reports ended ones (``after_calls``, made here when not given).
    """
    works: list[BackgroundWork] = []
    if deliver:
        works.append(DeliveryWorker(database, settings, signer, secrets, delivery_due))
    if live_calls is not None:
        works.append(live_calls)
    works.append(
        after_calls or AfterCalls(settings, database, secrets, asyncio.Event(), delivery_due)
    )
    return works
