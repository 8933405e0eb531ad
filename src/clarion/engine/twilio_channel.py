"""A phone call's channel: Twilio's Media Streams, on the voice call's engine.

The stream carries the caller's audio in (8 kHz μ-law ``media`` messages) and the
assistant's voice out (``media`` 20 ms at a time, paced as on the web), with a ``mark`` after
each piece of audio: Twilio echoes it once that audio has played, so a turn cut by the caller
keeps what the marks say was heard. ``clear`` drops what Twilio holds. The web call's text
frames have no place on a phone line and are not sent. The caller hanging up ends the stream
(``stop``); when the engine ends the call, the goodbye plays out and the call is then
completed through Twilio's REST API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from clarion.engine.channel import HungUp
from clarion.engine.voice_channel import VoiceChannel
from clarion.telephony.media import (
    Connected,
    LineDecoder,
    LineEncoder,
    MalformedMessage,
    Mark,
    Media,
    Start,
    Stop,
    clear_message,
    mark_message,
    media_message,
    parsed,
)

log = logging.getLogger("clarion.calls")


class TwilioWire:
    """The writer's frames as Media Streams messages."""

    def __init__(self, stream_sid: str) -> None:
        self._stream_sid = stream_sid
        self._encoder = LineEncoder()

    def text(self, frame: dict[str, Any]) -> str | None:
        """``clear`` as Twilio's; the web call's other frames have no place on the line."""
        return clear_message(self._stream_sid) if frame.get("type") == "clear" else None

    def audio(self, pcm: bytes) -> list[bytes | str]:
        """The audio as 8 kHz μ-law, a ``media`` message per 20 ms."""
        return [media_message(self._stream_sid, frame) for frame in self._encoder.feed(pcm)]

    def mark(self, name: str) -> str | None:
        return mark_message(self._stream_sid, name)


class TwilioChannel(VoiceChannel):
    """A phone call's Media Stream, once its ``start`` has been read."""

    def __init__(
        self,
        websocket: WebSocket,
        endpointing_ms: int,
        start: Start,
        hang_up: Callable[[], Awaitable[None]],
    ) -> None:
        super().__init__(websocket, endpointing_ms, TwilioWire(start.stream_sid))
        self._hang_up = hang_up
        self._caller_gone = False

    async def ended(self, ended_reason: str, failure_detail: str | None = None) -> None:
        """Let the goodbye play, close the stream, and hang the call up unless the caller
        has."""
        await super().ended(ended_reason, failure_detail)
        if not self._caller_gone:
            await self._hang_up()

    async def _read(self) -> None:
        """Read the stream until it stops: the caller's audio to the turn detector, marks to
        the writer."""
        decoder = LineDecoder()
        try:
            while True:
                try:
                    message = await self._websocket.receive()
                except (WebSocketDisconnect, RuntimeError):
                    self._caller_gone = True
                    return
                if message["type"] == "websocket.disconnect":
                    self._caller_gone = True
                    return
                try:
                    event = parsed(message.get("text") or message.get("bytes") or b"")
                except MalformedMessage as problem:
                    log.warning(
                        "call %d: a stream message was not taken: %s", self.call_id, problem
                    )
                    continue
                if isinstance(event, Media):
                    self._audio(decoder.feed(event.payload))
                    await self._hold_back()
                elif isinstance(event, Mark):
                    self._writer.marked(event.name)
                elif isinstance(event, Stop):
                    self._caller_gone = True
                    return
        finally:
            self._heard.put_nowait(HungUp())


POLICY_VIOLATION = 1008
START_SECONDS = 10.0  # Twilio sends connected and start at once; a stream that does not is refused


async def stream_start(websocket: WebSocket) -> Start | None:
    """The stream's ``start`` (after ``connected``), or None when it does not come in time or
    is not Twilio's. Nothing from the stream is logged: its parameters carry the token."""
    try:
        async with asyncio.timeout(START_SECONDS):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return None
                event = parsed(message.get("text") or message.get("bytes") or b"")
                if isinstance(event, Start):
                    return event
                if event is not None and not isinstance(event, Connected):
                    return None
    except (TimeoutError, MalformedMessage, WebSocketDisconnect, RuntimeError):
        return None
