"""A fake ElevenLabs and OpenAI text to speech on 127.0.0.1, speaking real speech.

It answers at the real paths with what each API promises for the format the voices ask for:
raw 16-bit mono PCM, at 16,000 Hz for ElevenLabs' ``pcm_16000`` and 24,000 Hz for OpenAI's
``pcm``. The audio is the request's text really spoken (by espeak-ng), so a test can listen to
it. Knobs make it slow, fail or break off; it records every request::

    async with fake_voices() as fake:          # on the test's own loop
        voice = ElevenLabsVoice(session, "xi-test", fake.url, "voice-1", None)
        fake.fail(503, times=1)
        ...
        assert fake.last.headers["xi-api-key"] == "xi-test"

    with running_fake_voices() as fake:       # served from a thread, for synchronous tests
        ...
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from aiohttp import web
from multidict import CIMultiDict

from clarion.speech.audio import SAMPLE_RATE, resampled
from clarion.speech.voices import EspeakVoice

OPENAI_PCM_RATE = 24_000
CHUNK_BYTES = 3_200  # 100 ms at 16 kHz, about what the real APIs send at a time
# Said in every error body: an adapter that passes the provider's words on would show it.
PROVIDER_WORDS = "the provider's own words, quoting the text"


@dataclass(frozen=True)
class Received:
    """A request the fake received: which API, its path, query, headers and JSON body."""

    api: str  # "elevenlabs" or "openai"
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    json: dict[str, Any]


@dataclass
class FakeVoices:
    """The running fake: its base URLs, its knobs, and what it received and saw.

    ``delay`` waits before the answer's first byte; ``pace`` between chunks of audio;
    ``cut_after`` drops the connection after that many chunks; :meth:`fail` answers the next
    requests with an error status. ``hung_up`` is set when a client closed its connection
    before all its audio was sent.
    """

    url: str = ""
    api_key: str | None = None  # when set, a request with another key is answered 401
    delay: float = 0.0
    pace: float = 0.0
    chunk_bytes: int = CHUNK_BYTES
    cut_after: int | None = None
    failures: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    answered: int = 0  # requests whose audio was all sent
    hang_ups: int = 0
    hung_up: threading.Event = field(default_factory=threading.Event)
    _speech: dict[tuple[str, int], bytes] = field(default_factory=dict)

    @property
    def elevenlabs_url(self) -> str:
        return self.url

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    @property
    def last(self) -> Received:
        return self.received[-1]

    def fail(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and an error body."""
        self.failures += [status] * times


@asynccontextmanager
async def fake_voices() -> AsyncIterator[FakeVoices]:
    """A fake on a free port, served on the running loop until the block ends."""
    fake = FakeVoices()
    runner = await _start(fake)
    try:
        yield fake
    finally:
        await runner.cleanup()


@contextmanager
def running_fake_voices() -> Iterator[FakeVoices]:
    """A fake on a free port, served from a thread of its own until the block ends."""
    fake = FakeVoices()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = asyncio.run_coroutine_threadsafe(_start(fake), loop).result(5)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def _start(fake: FakeVoices) -> web.AppRunner:
    app = web.Application()
    app.router.add_post(
        "/v1/text-to-speech/{voice_id}/stream", partial(_answer, fake, "elevenlabs")
    )
    app.router.add_post("/v1/audio/speech", partial(_answer, fake, "openai"))
    # Cancelled when the client hangs up, so the fake sees it at once, as a provider would.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner


async def _answer(fake: FakeVoices, api: str, request: web.Request) -> web.StreamResponse:
    body = orjson.loads(await request.read())
    headers = CIMultiDict(request.headers)
    fake.received.append(Received(api, request.path, dict(request.query), headers, body))
    await asyncio.sleep(fake.delay)
    refusal = _refusal(fake, api, request, body)
    if refusal is not None:
        return _error(api, refusal)
    if fake.failures:
        return _error(api, fake.failures.pop(0))
    text, rate = (
        (body["text"], SAMPLE_RATE) if api == "elevenlabs" else (body["input"], OPENAI_PCM_RATE)
    )
    audio = await _speech(fake, text, rate)
    kind = "audio/pcm" if api == "openai" else "application/octet-stream"
    response = web.StreamResponse(headers={"Content-Type": kind})
    try:
        await response.prepare(request)
        for number, start in enumerate(range(0, len(audio), fake.chunk_bytes)):
            if number == fake.cut_after and request.transport is not None:
                request.transport.abort()
                return response
            if number:
                await asyncio.sleep(fake.pace)
            await response.write(audio[start : start + fake.chunk_bytes])
        await response.write_eof()
    except (ConnectionError, asyncio.CancelledError):
        fake.hang_ups += 1
        fake.hung_up.set()
        raise
    fake.answered += 1
    return response


def _refusal(fake: FakeVoices, api: str, request: web.Request, body: dict[str, Any]) -> int | None:
    """What the real API would refuse: a wrong key, a missing field, a format it lacks."""
    if api == "elevenlabs":
        key = request.headers.get("xi-api-key")
        fine = isinstance(body.get("text"), str) and body["text"].strip()
        fine = fine and request.query.get("output_format") == f"pcm_{SAMPLE_RATE}"
    else:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        fields = ("model", "input", "voice")
        fine = all(isinstance(body.get(name), str) and body[name] for name in fields)
        fine = fine and body.get("response_format") == "pcm"
    if fake.api_key is not None and key != fake.api_key:
        return 401
    return None if fine else 400


def _error(api: str, status: int) -> web.Response:
    if api == "elevenlabs":
        document: dict[str, Any] = {"detail": {"status": "error", "message": PROVIDER_WORDS}}
    else:
        kind = "invalid_request_error" if status < 500 else "server_error"
        document = {"error": {"message": PROVIDER_WORDS, "type": kind, "param": None}}
    return web.json_response(document, status=status, dumps=lambda d: orjson.dumps(d).decode())


async def _speech(fake: FakeVoices, text: str, rate: int) -> bytes:
    """``text`` spoken at ``rate``, made once per text and rate."""
    if (text, rate) not in fake._speech:
        pcm = b"".join([chunk async for chunk in EspeakVoice().synthesize(text)])
        fake._speech[text, rate] = resampled(pcm, SAMPLE_RATE, rate)
    return fake._speech[text, rate]
