"""The process's background loops: each piece of background work offers its loops, and the
runtime starts, supervises and stops them together (which work a process runs is decided at
the top, in clarion.background)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Protocol

from clarion.runtime.supervision import LoopStatus, Step, supervise

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
