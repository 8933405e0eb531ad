"""The voice web call's channel: the web call's frames, plus audio both ways.

Joined with ``&audio=pcm16``, binary frames carry 16-bit mono PCM at 16 kHz: the person's
microphone in, the assistant's voice out in 20 ms frames paced in real time
(clarion.engine.socket_writer). The person's audio is read as it comes: the turn detector
(clarion.speech.turns) says where utterances begin and end, the transcriber hears them, and
their words come out as ``user-transcript`` frames and as what the conversation hears. Speech
over the assistant stops its audio at once (a ``clear`` frame) before the conversation is even
told. Typed ``user-message`` frames are heard too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial

from starlette.websockets import WebSocket, WebSocketDisconnect

from clarion.calls.endings import EndedReason
from clarion.engine.channel import Deaf, Heard, HungUp, Speaking, UserSaid
from clarion.engine.failures import server_failure, what_failed
from clarion.engine.socket_writer import SocketWriter, Wire
from clarion.engine.spoken_turn import SpokenTurn
from clarion.engine.web_channel import call_ended, read_text_frame
from clarion.speech.audio import FRAME_MS, SAMPLE_RATE
from clarion.speech.errors import SpeechError
from clarion.speech.transcriber import Transcriber
from clarion.speech.turns import (
    Blip,
    Paused,
    SoundBegan,
    SpeechBegan,
    TurnDetector,
    TurnEnded,
    UtteranceAudio,
)
from clarion.speech.voice import Voice

AUDIO_FRAME_MAX = SAMPLE_RATE * 2  # one second of 16-bit samples
TOLD_AHEAD = 60 * 1000 // FRAME_MS
"""What may wait to be told to a transcriber still finishing an utterance (a minute of
frames: longer than a provider is given to answer) before the person's audio is read no
further until it has: a client sending faster than real time cannot fill the memory."""

log = logging.getLogger("clarion.calls")


class VoiceChannel:
    """A joined voice web call's WebSocket."""

    def __init__(self, websocket: WebSocket, endpointing_ms: int, wire: Wire | None = None) -> None:
        self._websocket = websocket
        self._writer = SocketWriter(websocket, wire)
        self._transcriber: Transcriber | None = None
        self._voice: Voice | None = None
        self._detector = TurnDetector(endpointing_ms)
        self._heard: asyncio.Queue[Heard] = asyncio.Queue()
        self._reading: asyncio.Task[None] | None = None
        self._turn: SpokenTurn | None = None
        self.call_id = 0
        # Wall-clock ms of the event loop's time 0: frames are due on the loop's clock,
        # messages are timed in Unix ms.
        self._epoch_ms = time.time() * 1000 - asyncio.get_running_loop().time() * 1000
        # The position and arrival of the latest audio: an utterance's samples are timed
        # back from it.
        self._heard_until = (0, 0.0)
        # Transcriber calls wait here while an utterance's words are awaited, so that the
        # next one is told in order.
        self._finishing: asyncio.Task[None] | None = None
        self._backlog: list[Callable[[], None]] = []

    async def connect(self, voice: Voice, transcriber: Transcriber) -> None:
        """Speak with ``voice`` and hear with ``transcriber``, once it is ready (a streaming
        one connects here; SpeechError if it cannot)."""
        self._voice = voice
        await transcriber.open(self.interim)
        self._transcriber = transcriber

    async def started(self, call_id: int) -> None:
        """Send ``call-started``."""
        self.call_id = call_id
        self._writer.text({"type": "call-started", "call_id": call_id})

    async def hear(self) -> Heard:
        """The next thing the person does: speaking, their words, a typed message, leaving,
        or the transcriber failing."""
        if self._reading is None:
            self._reading = asyncio.create_task(self._read())
        return await self._heard.get()

    async def complain(self, message: str) -> None:
        """Send an ``error`` frame (waiting, while the client reads none, for it to catch
        up)."""
        self._writer.text({"type": "error", "message": message})
        await self._writer.caught_up()

    def speak(self) -> SpokenTurn:
        """Begin an assistant turn, spoken by the call's voice as it is written."""
        assert self._voice is not None  # noqa: S101 - connected before the conversation
        self._turn = SpokenTurn(self._writer, self._voice, self._epoch_ms, self.call_id)
        return self._turn

    async def ended(self, ended_reason: str, failure_detail: str | None = None) -> None:
        """Send ``call-ended`` once the goodbye has played, close the socket with 1000, and
        let the transcriber go. A turn the call ended in the middle of (its maximum duration,
        a stop, the person leaving) stops first: its audio and its voice's request."""
        if self._reading is not None:
            self._reading.cancel()
        if self._finishing is not None:
            self._finishing.cancel()
        try:
            if self._turn is not None:
                await self._turn.interrupt()  # a goodbye has played whole by now
            self._writer.text(call_ended(ended_reason, failure_detail))
            await self._writer.close()
        finally:
            if self._transcriber is not None:
                await self._transcriber.close()

    async def _read(self) -> None:
        """Read the socket until the person leaves: audio to the turn detector, text frames
        as the web call reads them."""
        try:
            while True:
                try:
                    message = await self._websocket.receive()
                except (WebSocketDisconnect, RuntimeError):
                    return
                if message["type"] == "websocket.disconnect":
                    return
                pcm = message.get("bytes")
                if pcm is not None:
                    self._audio(pcm)
                    await self._hold_back()
                    continue
                heard, problem = read_text_frame(message)
                if isinstance(heard, HungUp):
                    return
                if heard is not None:
                    self._heard.put_nowait(heard)
                else:
                    await self.complain(problem)
        finally:
            self._heard.put_nowait(HungUp())

    def _audio(self, pcm: bytes) -> None:
        if len(pcm) % 2 or len(pcm) > AUDIO_FRAME_MAX:
            self._writer.text(
                {
                    "type": "error",
                    "message": "audio: binary frames are 16-bit samples (an even number of "
                    f"bytes), at most {AUDIO_FRAME_MAX} bytes (1 s) each",
                }
            )
            return
        transcriber = self._transcriber
        if transcriber is None:
            return
        events = self._detector.push(pcm)
        self._heard_until = (self._detector.samples, time.time() * 1000)
        for event in events:
            if isinstance(event, UtteranceAudio):
                self._tell(partial(transcriber.feed, event.pcm))
            elif isinstance(event, SoundBegan):
                self._tell(transcriber.begin)
                if event.pre_roll:
                    self._tell(partial(transcriber.feed, event.pre_roll))
            elif isinstance(event, SpeechBegan):
                if self._turn is not None:
                    self._turn.cut()  # at once: the audio stops before anything is asked
                self._heard.put_nowait(Speaking())
            elif isinstance(event, Paused):
                self._tell(transcriber.pause)
            elif isinstance(event, TurnEnded):
                self._finish(self._wall_ms(event.began), self._wall_ms(event.ended))
            elif isinstance(event, Blip):
                self._tell(transcriber.discard)

    async def _hold_back(self) -> None:
        """Read no further while the client reads none of its answers, or while the
        transcriber is far behind."""
        await self._writer.caught_up()
        while len(self._backlog) > TOLD_AHEAD and (finishing := self._finishing) is not None:
            await asyncio.wait((finishing,))
            if finishing is self._finishing:  # it failed: the call is ending
                return

    def _wall_ms(self, sample: int) -> int:
        position, arrived_ms = self._heard_until
        return round(arrived_ms - (position - sample) * 1000 / SAMPLE_RATE)

    def _tell(self, call: Callable[[], None]) -> None:
        if self._finishing is None:
            call()
        elif not self._finishing.done():  # done while still set: it failed
            self._backlog.append(call)

    def _finish(self, began_ms: int, ended_ms: int) -> None:
        if self._finishing is None:
            self._finishing = asyncio.create_task(self._words(began_ms, ended_ms))
        elif not self._finishing.done():
            self._backlog.append(partial(self._finish, began_ms, ended_ms))

    async def _words(self, began_ms: int, ended_ms: int) -> None:
        """Ask for the utterance's words and pass them on; then tell the transcriber what
        came meanwhile."""
        assert self._transcriber is not None  # noqa: S101 - heard only once connected
        try:
            text = (await self._transcriber.finish()).strip()
        except SpeechError as error:
            log.warning(
                "call %d: the %s transcriber failed: %s (status %s)",
                self.call_id,
                error.provider,
                "retryable" if error.retryable else "not retryable",
                error.status,
            )
            self._heard.put_nowait(Deaf(EndedReason.PIPELINE_ERROR_TRANSCRIBER, what_failed(error)))
            self._backlog.clear()  # nothing more is told: the call is ending
            return
        except Exception as exc:  # not the provider's doing: the server failed the call
            log.error(
                "call %d: hearing an utterance failed with %s", self.call_id, type(exc).__name__
            )
            self._heard.put_nowait(
                Deaf(EndedReason.PIPELINE_ERROR, server_failure("hearing an utterance", exc))
            )
            self._backlog.clear()
            return
        if text:
            self._writer.text({"type": "user-transcript", "text": text, "final": True})
            self._heard.put_nowait(UserSaid(text, began_ms, ended_ms))
        self._finishing = None
        backlog, self._backlog = self._backlog, []
        for call in backlog:
            self._tell(call) if self._finishing is None else self._backlog.append(call)

    def interim(self, text: str) -> None:
        """The transcriber's words so far, passed on as they come."""
        self._writer.text({"type": "user-transcript", "text": text, "final": False})
