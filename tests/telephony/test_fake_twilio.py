"""The Twilio stand-in itself, held to Twilio's documented behaviour, so tests built on it test
against Twilio and not against its mistakes. The server side here is a bare WebSocket endpoint
that speaks the stream's messages through clarion.telephony.media."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import aiohttp
import numpy as np
import orjson
import pytest
from aiohttp import web

from clarion.speech.audio import SAMPLE_RATE, duration_ms
from clarion.speech.voices import EspeakVoice
from clarion.telephony.media import (
    LINE_FRAME_BYTES,
    Connected,
    Media,
    Start,
    Stop,
    StreamEvent,
    clear_message,
    from_line,
    mark_message,
    media_message,
    parsed,
    to_line,
)
from clarion.telephony.rest import TwilioClient
from clarion.telephony.signature import SIGNATURE_HEADER, signature_valid
from fake_twilio import (
    AUTH_TOKEN,
    FakeTwilio,
    TwilioStream,
    call_status_params,
    fake_twilio,
    running_fake_twilio,
    signed_post,
)
from voice_support import heard_most_of

T = TypeVar("T")
SENTENCE = "can you call me back later today"
PUBLIC_WS_URL = "wss://clarion.example.org/v1/call/c1/twilio"


class ClarionSide:
    """A bare stream endpoint: what Twilio sent it, and a queue of messages to send back."""

    def __init__(self) -> None:
        self.url = ""
        self.headers: dict[str, str] = {}
        self.events: list[StreamEvent | None] = []
        self.raw: list[dict[str, Any]] = []
        self.outgoing: asyncio.Queue[str | None] = asyncio.Queue()  # None: close the socket
        self.changed = asyncio.Event()

    @property
    def caller_audio(self) -> bytes:
        """The caller's audio so far, as 16 kHz PCM."""
        return from_line(b"".join(e.payload for e in self.events if isinstance(e, Media)))

    @property
    def stream_sid(self) -> str:
        return next(e.stream_sid for e in self.events if isinstance(e, Start))

    def send(self, message: str | None) -> None:
        self.outgoing.put_nowait(message)

    async def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        self.headers = dict(request.headers)
        ws = web.WebSocketResponse()
        await ws.prepare(request)

        async def sending() -> None:
            while (message := await self.outgoing.get()) is not None:
                await ws.send_str(message)
            await ws.close()

        sender = asyncio.create_task(sending())
        async for message in ws:
            self.raw.append(orjson.loads(message.data))
            self.events.append(parsed(message.data))
            self.changed.set()
        sender.cancel()
        self.changed.set()
        return ws


@asynccontextmanager
async def clarion_side() -> AsyncIterator[ClarionSide]:
    side = ClarionSide()
    app = web.Application()
    app.router.add_get("/v1/call/{call}/twilio", side.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    side.url = f"ws://127.0.0.1:{runner.addresses[0][1]}/v1/call/c1/twilio"
    try:
        yield side
    finally:
        await runner.cleanup()


def run(scenario: Callable[[FakeTwilio, ClarionSide], Awaitable[T]]) -> T:
    async def main() -> T:
        async with fake_twilio() as fake, clarion_side() as side:
            return await scenario(fake, side)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def speech() -> bytes:
    async def spoken() -> bytes:
        return b"".join([chunk async for chunk in EspeakVoice().synthesize(SENTENCE)])

    return asyncio.run(spoken())


def send_audio(side: ClarionSide, pcm: bytes) -> None:
    line = to_line(pcm)
    for start in range(0, len(line), LINE_FRAME_BYTES):
        side.send(media_message(side.stream_sid, line[start : start + LINE_FRAME_BYTES]))


def tone(ms: int) -> bytes:
    """A quiet hum, ``ms`` long, at 16 kHz."""
    t = np.arange(SAMPLE_RATE * ms // 1000) / SAMPLE_RATE
    return (np.sin(2 * np.pi * 440 * t) * 3000).astype("<i2").tobytes()


def test_the_stream_opens_signed_and_the_caller_is_heard(speech: bytes) -> None:
    async def scenario(fake: FakeTwilio, side: ClarionSide) -> tuple[ClarionSide, TwilioStream]:
        stream = await fake.stream(
            side.url, "tok-1", "CA1", auth_token=AUTH_TOKEN, signed_url=PUBLIC_WS_URL
        )
        stream.say(speech)
        await stream.until(lambda: not stream.saying)
        await side.until(lambda: duration_ms(side.caller_audio) > duration_ms(speech) + 200)
        await stream.hang_up()
        await side.until(lambda: isinstance(side.events[-1], Stop))
        return side, stream

    side, stream = run(scenario)
    signature = side.headers[SIGNATURE_HEADER]
    assert signature_valid(AUTH_TOKEN, PUBLIC_WS_URL, {}, signature)
    connected, start, *rest = side.events
    assert connected == Connected("Call", "1.0.0")
    assert isinstance(start, Start)
    assert (start.call_sid, start.stream_sid) == ("CA1", stream.stream_sid)
    assert start.custom_parameters == {"token": "tok-1"}
    assert start.media_format.sample_rate == 8000
    media = [event for event in rest if isinstance(event, Media)]
    assert [m.chunk for m in media] == list(range(1, len(media) + 1))
    assert {len(m.payload) for m in media} == {LINE_FRAME_BYTES}
    assert rest[-1] == Stop(stream.stream_sid, "CA1", stream.account_sid)
    sequence = [int(message["sequenceNumber"]) for message in side.raw[1:]]
    assert sequence == list(range(1, len(sequence) + 1))
    # What the caller said, in the line's audio, is what clarion's recognizer would get.
    assert heard_most_of(SENTENCE, side.caller_audio)


def test_a_mark_comes_back_once_the_audio_before_it_has_played() -> None:
    async def scenario(fake: FakeTwilio, side: ClarionSide) -> None:
        stream = await fake.stream(side.url, "tok-1", "CA1")
        await side.until(lambda: any(isinstance(e, Start) for e in side.events))
        send_audio(side, tone(1000))
        side.send(mark_message(side.stream_sid, "first"))
        send_audio(side, tone(300))
        side.send(mark_message(side.stream_sid, "second"))
        await stream.until(lambda: bool(stream.marks))
        assert stream.marks == ["first"]
        assert 1000 <= stream.played_ms < 1300  # the first second played, no more
        await stream.until(lambda: len(stream.marks) == 2)
        assert stream.marks == ["first", "second"]
        assert stream.played_ms >= 1300
        assert 1250 < duration_ms(stream.heard) < 1350
        await side.until(lambda: sum(m["event"] == "mark" for m in side.raw) == 2)
        echoes = [m for m in side.raw if m["event"] == "mark"]
        assert [m["mark"] for m in echoes] == [{"name": "first"}, {"name": "second"}]
        assert {m["streamSid"] for m in echoes} == {stream.stream_sid}
        assert stream.errors == []

    run(scenario)


def test_clear_drops_what_has_not_played_and_returns_the_waiting_marks() -> None:
    async def scenario(fake: FakeTwilio, side: ClarionSide) -> None:
        stream = await fake.stream(side.url, "tok-1", "CA1")
        await side.until(lambda: any(isinstance(e, Start) for e in side.events))
        send_audio(side, tone(5000))
        side.send(mark_message(side.stream_sid, "reply-1"))
        await stream.until(lambda: stream.played_ms > 200)
        side.send(clear_message(side.stream_sid))
        await stream.until(lambda: bool(stream.marks))
        assert stream.marks == ["reply-1"] and stream.cleared == 1
        assert not stream.playing
        assert stream.played_ms < 2000  # the rest of the five seconds never played
        # The line plays again what comes after the clear.
        before = stream.played_ms
        send_audio(side, tone(200))
        side.send(mark_message(side.stream_sid, "reply-2"))
        await stream.until(lambda: len(stream.marks) == 2)
        assert stream.played_ms - before >= 200

    run(scenario)


def test_a_message_twilio_would_refuse_is_noted() -> None:
    async def scenario(fake: FakeTwilio, side: ClarionSide) -> list[str]:
        stream = await fake.stream(side.url, "tok-1", "CA1")
        await side.until(lambda: any(isinstance(e, Start) for e in side.events))
        side.send(media_message("MZ-another", bytes(160)))
        garbled = {"event": "media", "streamSid": stream.stream_sid, "media": {"payload": "%"}}
        side.send(orjson.dumps(garbled).decode())
        side.send(mark_message(side.stream_sid, "m"))
        await stream.until(lambda: bool(stream.marks))
        return stream.errors

    errors = run(scenario)
    assert errors == ["media for another stream", "media without a base64 payload"]


def test_the_server_ending_the_stream_closes_it() -> None:
    async def scenario(fake: FakeTwilio, side: ClarionSide) -> None:
        stream = await fake.stream(side.url, "tok-1", "CA1")
        await side.until(lambda: any(isinstance(e, Start) for e in side.events))
        side.send(None)
        await stream.until(lambda: stream.closed)
        assert not stream.hung_up

    run(scenario)


def test_completing_the_call_over_the_api_hangs_its_stream_up() -> None:
    async def scenario(fake: FakeTwilio, side: ClarionSide) -> None:
        async with aiohttp.ClientSession() as session:
            client = TwilioClient(session, fake.account_sid, fake.auth_token, fake.url)
            placed = await client.place_call(
                "+15558675310", "+15550001111", twiml="<Response/>", status_callback="https://x/s"
            )
            stream = await fake.stream(side.url, "tok-1", placed.sid)
            await client.complete_call(placed.sid)
        await stream.until(lambda: stream.closed)
        await side.until(lambda: bool(side.events) and isinstance(side.events[-1], Stop))
        assert fake.completed == [placed.sid]

    run(scenario)


def test_a_signed_callback_is_valid_for_the_url_twilio_was_given() -> None:
    public = "https://clarion.example.org/v1/twilio/status?call=c1"

    async def scenario() -> list[bool]:
        checked: list[bool] = []

        async def status(request: web.Request) -> web.Response:
            form = await request.post()
            pairs = [(name, str(value)) for name, value in form.items()]
            checked.append(
                signature_valid(AUTH_TOKEN, public, pairs, request.headers.get(SIGNATURE_HEADER))
            )
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/v1/twilio/status", status)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        local = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/twilio/status?call=c1"
        params = call_status_params("CA1", "ringing", To="+15558675310")
        try:
            answer = await signed_post(local, params, signed_url=public)
            assert (answer.status, answer.text) == (200, "ok")
            await signed_post(local, params)  # signed for the local URL: not the public one
            await signed_post(local, params, "another-token", signed_url=public)
        finally:
            await runner.cleanup()
        return checked

    assert asyncio.run(scenario()) == [True, False, False]


@contextmanager
def clarion_side_in_a_thread() -> Iterator[ClarionSide]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = clarion_side()
    side = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(5)
    try:
        yield side
    finally:
        asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_the_fake_served_from_a_thread_for_a_synchronous_test() -> None:
    with clarion_side_in_a_thread() as side, running_fake_twilio() as twilio:
        stream = twilio.stream(side.url, "tok-1", "CA1")
        stream.press("5")
        stream.until(lambda: any(m.get("event") == "dtmf" for m in side.raw))
        stream.hang_up()
        stream.until(lambda: stream.closed)
        assert stream.errors == []
    dtmf = next(m for m in side.raw if m["event"] == "dtmf")
    assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "5"}
