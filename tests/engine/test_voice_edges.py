"""The voice call's edges, on the channel itself over a stand-in socket: a turn cut off by
the end of the call, a caller who stops reading, a transcriber that falls behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import orjson
import pytest

from clarion.engine.channel import HungUp, Speaking, UserSaid
from clarion.engine.voice_channel import VoiceChannel
from clarion.engine.web_channel import WebChannel
from clarion.speech.audio import SAMPLE_BYTES, SAMPLE_RATE
from clarion.speech.transcriber import Interim
from voice_support import spoken

ENDPOINTING_MS = 700
ONE_SECOND = SAMPLE_RATE * SAMPLE_BYTES
SILENCE = b"\0" * ONE_SECOND


class StandInSocket:
    """The server's side of a WebSocket: what the client sends waits in ``incoming``; what
    the server sends is kept in order (text frames decoded). While ``reading`` is clear the
    client takes nothing, and the server's sends wait, as they do on a real socket."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any] | bytes] = []
        self.reading = asyncio.Event()
        self.reading.set()
        self.closed = False

    def send_frame(self, text: str | None = None, pcm: bytes | None = None) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": text, "bytes": pcm})

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        await self.reading.wait()
        self.sent.append(orjson.loads(text))

    async def send_bytes(self, data: bytes) -> None:
        await self.reading.wait()
        self.sent.append(data)

    async def close(self, code: int = 1000) -> None:
        self.closed = True

    def texts(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.sent if isinstance(f, dict) and f["type"] == kind]

    def audio_after(self, kind: str) -> list[bytes]:
        at = next(i for i, f in enumerate(self.sent) if isinstance(f, dict) and f["type"] == kind)
        return [f for f in self.sent[at:] if isinstance(f, bytes)]


class SteadyVoice:
    """Speaks any text as ``seconds`` of a tone, a tenth of a second at a time; with
    ``stalls``, the provider stops sending after the first second, its request open."""

    name = "steady"

    def __init__(self, seconds: float, stalls: bool = False) -> None:
        self.seconds = seconds
        self.stalls = stalls
        self.requests_open = 0

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        chunk = bytes([0x00, 0x10, 0x00, 0xF0]) * (ONE_SECOND // 40)
        self.requests_open += 1
        try:
            for number in range(round(self.seconds * 10)):
                if self.stalls and number == 10:
                    await asyncio.Event().wait()
                await asyncio.sleep(0)
                yield chunk
        finally:
            self.requests_open -= 1


class HeldTranscriber:
    """Hears every utterance as "words", once ``release`` is set; counts the audio fed."""

    name = "held"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.fed = 0
        self.finishing = 0

    async def open(self, interim: Interim) -> None:
        pass

    def begin(self) -> None:
        pass

    def feed(self, pcm: bytes) -> None:
        self.fed += len(pcm)

    def pause(self) -> None:
        pass

    async def finish(self) -> str:
        self.finishing += 1
        await self.release.wait()
        return "words"

    def discard(self) -> None:
        pass

    async def close(self) -> None:
        pass


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``; a test that never sees it fails at the bound, not hangs."""
    async with asyncio.timeout(20):
        while not condition():
            await asyncio.sleep(0.01)


async def settle() -> None:
    """Let every task run until none has anything left to do without waiting."""
    for _ in range(50):
        await asyncio.sleep(0)


async def voice_channel(socket: StandInSocket, voice: Any, transcriber: Any) -> VoiceChannel:
    channel = VoiceChannel(cast(Any, socket), ENDPOINTING_MS)
    await channel.connect(voice, transcriber)
    await channel.started(1)
    return channel


def test_a_turn_cut_off_by_the_end_of_the_call_stops_its_audio_and_its_voice() -> None:
    async def scenario() -> StandInSocket:
        socket, voice = StandInSocket(), SteadyVoice(seconds=4, stalls=True)
        channel = await voice_channel(socket, voice, HeldTranscriber())
        turn = channel.speak()
        await turn.piece("Hello, this is Northside Clinic calling about your appointment. ")
        await until(lambda: any(isinstance(f, bytes) for f in socket.sent))
        # The call ends mid-turn (its maximum duration, a stop, the person leaving): the
        # conversation gives the turn up without finishing it.
        await channel.ended("exceeded-max-duration")
        assert voice.requests_open == 0  # the voice's request was closed with the call
        return socket

    socket = asyncio.run(scenario())
    assert socket.texts("call-ended") and socket.closed
    assert socket.audio_after("call-ended") == []
    assert socket.texts("clear")  # the client drops what it holds of the turn


@pytest.mark.parametrize("line", ["text", "voice"])
def test_a_caller_who_stops_reading_is_not_read_from_without_end(line: str) -> None:
    bad_frames = 5000

    async def scenario() -> tuple[int, StandInSocket]:
        socket = StandInSocket()
        socket.reading.clear()
        channel: WebChannel | VoiceChannel
        if line == "text":
            channel = WebChannel(cast(Any, socket))
            await channel.started(1)
        else:
            channel = await voice_channel(socket, SteadyVoice(1), HeldTranscriber())
        hearing = asyncio.create_task(channel.hear())
        for number in range(bad_frames):
            if number % 2 or line == "text":
                socket.send_frame(text="[]")  # each answered with an error frame
            else:
                socket.send_frame(pcm=b"\0")  # an odd length: answered too
        await settle()
        unread = socket.incoming.qsize()
        # The client reads again: every bad frame is answered, in the end.
        socket.reading.set()
        await until(lambda: len(socket.texts("error")) == bad_frames)
        hearing.cancel()
        return unread, socket

    unread, socket = asyncio.run(scenario())
    # Its bad frames were left unread while their answers could not be sent: the server's
    # memory does not grow with them.
    assert unread > bad_frames * 9 // 10
    assert len(socket.texts("error")) == bad_frames


def test_a_transcriber_that_falls_behind_holds_back_the_reading() -> None:
    utterance = spoken("i would like to book an appointment") + SILENCE
    utterances = 200

    async def scenario() -> tuple[HeldTranscriber, list[object]]:
        socket, transcriber = StandInSocket(), HeldTranscriber()
        channel = await voice_channel(socket, SteadyVoice(1), transcriber)
        heard: list[object] = []

        async def hear() -> None:
            while not isinstance(said := await channel.hear(), HungUp):
                heard.append(said)

        hearing = asyncio.create_task(hear())
        # A client sending faster than real time, while its first utterance's words are
        # still awaited.
        for _ in range(utterances):
            for at in range(0, len(utterance), ONE_SECOND):
                socket.send_frame(pcm=utterance[at : at + ONE_SECOND])
        sent = socket.incoming.qsize()
        await until(lambda: transcriber.finishing == 1)
        await settle()
        unread = socket.incoming.qsize()
        assert unread > sent // 2, "the audio is all read while its words are awaited"
        transcriber.release.set()
        await until(lambda: socket.incoming.empty())
        await until(lambda: transcriber.finishing == utterances)
        await settle()
        socket.send_frame(text=orjson.dumps({"type": "hangup"}).decode())
        await hearing
        await channel.ended("customer-ended")
        return transcriber, heard

    transcriber, heard = asyncio.run(scenario())
    # Held back, nothing was lost: every utterance was heard, in full.
    said = [h for h in heard if isinstance(h, UserSaid)]
    assert len(said) == utterances and {h.text for h in said} == {"words"}
    assert len([h for h in heard if isinstance(h, Speaking)]) == utterances
    assert transcriber.fed >= utterances * (len(utterance) - ONE_SECOND)
