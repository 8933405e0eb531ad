"""The web call's channel: JSON text frames over the WebSocket a chat widget opens.

Client to server: ``{"type": "user-message", "text": "…"}`` and ``{"type": "hangup"}``.
Server to client: ``call-started``, ``assistant-delta``, ``assistant-message``, ``error`` (a
frame the server cannot take; the call goes on) and ``call-ended``, after which the socket
closes with 1000. A voice web call (clarion.engine.voice_channel) speaks the same frames
and audio besides.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from clarion.engine.channel import Delivered, Heard, HungUp, UserSaid, now_ms
from clarion.engine.socket_writer import SocketWriter

USER_MESSAGE_MAX = 10_000


class WebChannel:
    """A joined web call's WebSocket, speaking the web call protocol."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        # The conversation speaks and the listening task answers bad frames: one writer.
        self._writer = SocketWriter(websocket)

    async def started(self, call_id: int) -> None:
        """Send ``call-started``."""
        await self._send({"type": "call-started", "call_id": call_id})

    async def hear(self) -> Heard:
        """The next user message or hangup; other frames are answered with an error frame."""
        while True:
            try:
                message = await self._websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return HungUp()
            if message["type"] == "websocket.disconnect":
                return HungUp()
            heard, problem = read_text_frame(message)
            if heard is not None:
                return heard
            await self.complain(problem)

    async def complain(self, message: str) -> None:
        """Send an ``error`` frame (waiting, while the client reads none, for it to catch
        up)."""
        await self._send({"type": "error", "message": message})
        await self._writer.caught_up()

    def speak(self) -> WrittenTurn:
        """Begin an assistant turn, sent as text."""
        return WrittenTurn(self)

    async def ended(self, ended_reason: str, failure_detail: str | None = None) -> None:
        """Send ``call-ended`` and close the socket with 1000."""
        await self._send(call_ended(ended_reason, failure_detail))
        await self._writer.close()

    async def _send(self, frame: dict[str, Any]) -> None:
        self._writer.text(frame)


def call_ended(ended_reason: str, failure_detail: str | None) -> dict[str, Any]:
    """The ``call-ended`` frame: why, and what failed when the pipeline failed the call."""
    frame = {"type": "call-ended", "ended_reason": ended_reason}
    if failure_detail is not None:
        frame["failure_detail"] = failure_detail
    return frame


class WrittenTurn:
    """An assistant turn in text: each piece an ``assistant-delta``, closed by the
    ``assistant-message`` with the whole turn. Text is read as soon as it is sent, so what
    was sent is what the person got."""

    def __init__(self, channel: WebChannel) -> None:
        self._channel = channel
        self._sent: list[str] = []
        self._began_ms = 0

    async def piece(self, text: str) -> None:
        """Send an ``assistant-delta``."""
        if not self._sent:
            self._began_ms = now_ms()
        self._sent.append(text)
        await self._channel._send({"type": "assistant-delta", "text": text})

    async def finish(self, text: str) -> Delivered:
        """All of ``text``, sent now."""
        now = now_ms()
        return Delivered(text, self._began_ms or now, now)

    async def interrupt(self) -> Delivered:
        """What the pieces sent so far hold."""
        now = now_ms()
        return Delivered("".join(self._sent), self._began_ms or now, now, cut=True)

    async def close(self, delivered: Delivered) -> None:
        """Send the ``assistant-message`` that closes the turn."""
        await self._channel._send({"type": "assistant-message", "text": delivered.text})


def read_text_frame(message: Any) -> tuple[Heard | None, str]:
    """What a frame means, or None and the error frame's message. The message never quotes
    the frame: it may hold what the patient said."""
    text = message.get("text")
    if text is None:
        return None, 'frames are JSON text: send {"type": "user-message", "text": "…"}'
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None, "the frame is not valid JSON"
    if not isinstance(frame, dict):
        return None, "the frame must be a JSON object with a type"
    kind = frame.get("type")
    if kind == "hangup":
        return HungUp(), ""
    if kind != "user-message":
        shown = kind[:64] if isinstance(kind, str) else None
        return None, (
            f"type: unknown frame type {shown!r}: send user-message or hangup"
            if shown is not None
            else "type: every frame needs a type: user-message or hangup"
        )
    said = frame.get("text")
    if not isinstance(said, str) or not said.strip():
        return None, "text: a user-message carries the text said, a non-empty string"
    if len(said) > USER_MESSAGE_MAX:
        return None, f"text: at most {USER_MESSAGE_MAX} characters in one message"
    if "\x00" in said:
        return None, "text: must not contain the NUL character (\\u0000)"
    return UserSaid(said), ""
