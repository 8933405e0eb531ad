"""The one writer of a call's WebSocket: text frames at once, audio paced in real time.

Whoever has something to send (the conversation, the listening task answering a bad frame,
a turn's synthesis) queues it here, and one task sends it, so frames never interleave. Audio
is queued with the time each 20 ms frame is due to play and leaves a little ahead of that
time (:data:`LEAD_SECONDS` at most), so the person's player never holds more than it needs
and a ``clear`` drops little. Times are the event loop's clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from clarion.speech.audio import FRAME_BYTES, FRAME_MS

LEAD_SECONDS = 0.12
"""How far ahead of its time a frame may leave."""
REFILL_SECONDS = 0.06
"""How far the lead may fall before the writer wakes to send more (a few frames a wake)."""
TEXTS_AHEAD = 64
"""Text frames that may wait for a client that reads slowly. Past that, whoever answers the
client's frames waits (:meth:`SocketWriter.caught_up`), and so reads no more of them: a client
that sends without reading cannot fill the server's memory with their answers."""
FRAME_SECONDS = FRAME_MS / 1000
NORMAL_CLOSURE = 1000

log = logging.getLogger("clarion.calls")


@dataclass(slots=True)
class AudioCounts:
    """Audio frames this process has sent, and how many left late (over a frame after
    their time): shown in health."""

    sent: int = 0
    late: int = 0


AUDIO = AudioCounts()


class Wire(Protocol):
    """How a line carries the writer's frames: the web call's JSON and raw PCM, or a
    telephony provider's messages."""

    def text(self, frame: dict[str, Any]) -> str | None:
        """The text message for ``frame``, or None when this line does not carry it."""
        ...

    def audio(self, pcm: bytes) -> list[bytes | str]:
        """Whole 20 ms frames of 16 kHz PCM as the line's messages, one per 20 ms."""
        ...

    def mark(self, name: str) -> str | None:
        """A message the far end echoes once the audio before it has played, or None when
        the line has no such thing (then what was heard is timed by the clock alone)."""
        ...


class WebWire:
    """The web call's frames: JSON text, and audio as binary frames of raw PCM."""

    def text(self, frame: dict[str, Any]) -> str | None:
        return orjson.dumps(frame).decode()

    def audio(self, pcm: bytes) -> list[bytes | str]:
        return [
            pcm[at : at + FRAME_BYTES] for at in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)
        ]

    def mark(self, name: str) -> str | None:
        return None


class SocketWriter:
    """Sends one WebSocket's frames from a task of its own."""

    def __init__(self, websocket: WebSocket, wire: Wire | None = None) -> None:
        self._websocket = websocket
        self._wire = wire or WebWire()
        self._loop = asyncio.get_running_loop()
        self._texts: deque[str] = deque()
        # Audio frames (bytes or text) and marks (None after a text), each with its time.
        self._frames: deque[tuple[float, bytes | str, bool]] = deque()
        # Marks sent and not yet echoed: the time the audio before each has played.
        self._marks: dict[str, float] = {}
        self._next_mark = 0
        self._heard = (0.0, 0.0)  # the audio played until, as of when the far end said so
        self._due_end = 0.0  # when the last queued frame has played
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._caught_up = asyncio.Event()
        self._caught_up.set()
        self.open = True
        self._task: asyncio.Task[None] | None = None

    def text(self, frame: dict[str, Any]) -> None:
        """Queue a JSON text frame; it leaves before any audio still queued."""
        message = self._wire.text(frame)
        if self.open and message is not None:
            self._texts.append(message)
            if len(self._texts) > TEXTS_AHEAD:
                self._caught_up.clear()
            self._poke()

    def audio(self, pcm: bytes) -> tuple[float, float]:
        """Queue whole 20 ms frames of audio to play right after what is queued (or now);
        when they are due to start and to end."""
        now = self._loop.time()
        start = due = max(now, self._due_end)
        if self.open:
            for frame in self._wire.audio(pcm):
                self._frames.append((due, frame, False))
                due += FRAME_SECONDS
            name = f"m{self._next_mark}"
            mark = self._wire.mark(name)
            if mark is not None:
                self._next_mark += 1
                self._marks[name] = due
                self._frames.append((due - FRAME_SECONDS, mark, True))
            self._due_end = due
            self._poke()
        return start, due

    def marked(self, name: str) -> None:
        """The far end has played the audio before the mark ``name``."""
        played = self._marks.pop(name, None)
        if played is not None:
            self._heard = (played, self._loop.time())

    def heard_until(self) -> float:
        """How far the audio has played, on the writer's clock: by the clock, or, on a line
        with marks, from the last one echoed and the time since (the far end may play
        behind the clock)."""
        now = self._loop.time()
        if not self._marks and self._heard == (0.0, 0.0):
            return now
        played, told = self._heard
        return min(now, played + (now - told))

    def clear(self) -> None:
        """Drop the audio not yet sent and tell the client to drop what it holds."""
        self._frames.clear()
        self._marks.clear()  # echoed at once after a clear, and played no further
        self._due_end = self._loop.time()
        self.text({"type": "clear"})

    @property
    def playing_until(self) -> float:
        """When the audio queued so far has played."""
        return self._due_end

    def now(self) -> float:
        """The writer's clock."""
        return self._loop.time()

    async def sent(self) -> None:
        """Return once everything queued has left (or the socket is gone)."""
        await self._idle.wait()

    async def caught_up(self) -> None:
        """Return once the client has taken the text frames queued for it, all but
        :data:`TEXTS_AHEAD` (or has gone)."""
        await self._caught_up.wait()

    async def close(self) -> None:
        """Send what is queued, then close the socket with 1000."""
        await self.sent()
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait((self._task,))
        self._caught_up.set()
        if self.open:
            self.open = False
            try:
                await self._websocket.close(NORMAL_CLOSURE)
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass  # the client has gone already

    def _poke(self) -> None:
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                await self._send_due()
                if not (self._texts or self._frames):
                    self._idle.set()
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if self._texts:
                    continue
                pause = self._frames[0][0] - LEAD_SECONDS + REFILL_SECONDS - self._loop.time()
                if pause > 0:
                    self._wake.clear()
                    try:
                        async with asyncio.timeout(pause):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client went away: its listening side reports it as a hangup.
            self.open = False
            self._texts.clear()
            self._frames.clear()
            self._idle.set()
            self._caught_up.set()

    async def _send_due(self) -> None:
        websocket = self._websocket
        while self._texts:
            await websocket.send_text(self._texts.popleft())
            if len(self._texts) <= TEXTS_AHEAD:
                self._caught_up.set()
        frames = self._frames
        while frames and not self._texts:
            due, frame, mark = frames[0]
            now = self._loop.time()
            if due - now > LEAD_SECONDS:
                return
            frames.popleft()
            if not mark:
                AUDIO.sent += 1
                if now > due + FRAME_SECONDS:
                    AUDIO.late += 1
            if isinstance(frame, bytes):
                await websocket.send_bytes(frame)
            else:
                await websocket.send_text(frame)
