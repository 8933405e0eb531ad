"""Draining before a server process stops.

The server (uvicorn) stops on SIGTERM or SIGINT by closing every connection at once, which
would cut live calls off mid-sentence. Once the server has installed its handlers, the
application puts its own in front: the first signal runs the application's drain (live calls
go on for a while, then end properly and their reports are queued) and only then hands the
signal to the server. A second signal goes to the server at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

log = logging.getLogger("clarion.runtime")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Drain = Callable[[int], Awaitable[None]]
"""Drains the application, given the signal that asked the server to stop."""


def drain_before_stopping(drain: Drain) -> None:
    """Run ``drain`` on the first stop signal, before the server's own handler sees it.

    Signal handlers belong to the main thread: elsewhere (a test serving the app from a
    thread) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    draining: list[int] = []  # the signal that started the drain, once one has
    running: set[asyncio.Task[None]] = set()

    for stop_signal in STOP_SIGNALS:
        server_handler = signal.getsignal(stop_signal)
        if not callable(server_handler):
            continue

        def handler(
            signum: int, frame: FrameType | None, server_handler: Any = server_handler
        ) -> None:
            if draining:
                server_handler(signum, frame)
                return
            draining.append(signum)

            def start() -> None:
                task = loop.create_task(_drained(drain, signum))
                task.add_done_callback(lambda _task: server_handler(signum, None))
                running.add(task)  # a task the loop alone refers to may be collected

            # A signal handler may interrupt the loop anywhere: hand the work to the loop.
            loop.call_soon_threadsafe(start)

        signal.signal(stop_signal, handler)


async def _drained(drain: Drain, signum: int) -> None:
    try:
        await drain(signum)
    except Exception:
        log.exception("draining before stopping failed")
