"""A fake Deepgram (live, over a WebSocket) and a fake OpenAI transcriptions endpoint on
127.0.0.1: the tests' stand-ins for the paid transcribers.

Neither can hear, so each is given a script: the words to answer for each utterance in turn.
The Deepgram fake speaks the live protocol as Deepgram does: every half second of an
utterance's audio it sends an interim result with one more of the utterance's words, and on
``Finalize`` the words as a final result marked ``from_finalize``, its timings on the clock of
the audio received::

    async with deepgram_server(script=["I need to move my appointment"]) as server:
        transcriber = DeepgramTranscriber(session, server.api_key, server.url, None, None)
        ...
        assert server.audio_bytes == len(pcm)

    with deepgram_server_thread(script=[...]) as server:  # for a test that is not async
        ...
"""

from __future__ import annotations

import asyncio
import io
import threading
import wave
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import orjson
from aiohttp import web

SAMPLE_RATE = 16_000
SAMPLE_BYTES = 2
INTERIM_SECONDS = 0.5  # an interim result, one word longer, after each this much audio
API_KEY = "dg-test-key"
OPENAI_KEY = "sk-test-whisper"

_Server = TypeVar("_Server", "DeepgramServer", "WhisperServer")


@dataclass
class DeepgramServer:
    """The running Deepgram fake: its base URL, its knobs, and what it received."""

    script: list[str]
    url: str = ""
    api_key: str = API_KEY
    refuse: int | None = None  # answer the upgrade with this status
    finalize_delay: float = 0.0  # wait this long before answering a Finalize
    answer_finalize: bool = True
    drop_after_frames: int | None = None  # drop a connection after this many audio frames
    drops: int = 1  # how many connections are dropped so
    utterances_answered: int = 0  # which script entry the next utterance is given
    connections: int = 0
    audio_bytes: int = 0  # over every connection
    connection_bytes: list[int] = field(default_factory=list)  # audio on each connection
    controls: list[str] = field(default_factory=list)  # the types of the text messages
    queries: list[dict[str, str]] = field(default_factory=list)

    @property
    def keepalives(self) -> int:
        return self.controls.count("KeepAlive")

    @property
    def finalizes(self) -> int:
        return self.controls.count("Finalize")


@dataclass
class Transcription:
    """A request the OpenAI fake received: its form fields and the audio of its WAV file."""

    model: str
    language: str | None
    response_format: str | None
    filename: str
    pcm: bytes


@dataclass
class WhisperServer:
    """The running OpenAI fake: its base URL (with ``/v1``), knobs and what it received."""

    script: list[str]
    url: str = ""
    api_key: str = OPENAI_KEY
    delay: float = 0.0
    fail_times: int = 0  # answer the first requests with ``fail_status``
    fail_status: int = 503
    requests: int = 0
    received: list[Transcription] = field(default_factory=list)


@asynccontextmanager
async def deepgram_server(
    script: Sequence[str] = (), **knobs: Any
) -> AsyncIterator[DeepgramServer]:
    """A Deepgram fake on a free port of this event loop, until the block ends."""
    server = DeepgramServer(list(script), **knobs)
    app = web.Application()
    app.router.add_get("/v1/listen", partial(_listen, server))
    async with _serving(app) as port:
        server.url = f"ws://127.0.0.1:{port}"
        yield server


@asynccontextmanager
async def whisper_server(script: Sequence[str] = (), **knobs: Any) -> AsyncIterator[WhisperServer]:
    """An OpenAI transcriptions fake on a free port of this event loop, until the block ends."""
    server = WhisperServer(list(script), **knobs)
    app = web.Application(client_max_size=25 * 1024 * 1024)  # OpenAI's own limit
    app.router.add_post("/v1/audio/transcriptions", partial(_transcribe, server))
    async with _serving(app) as port:
        server.url = f"http://127.0.0.1:{port}/v1"
        yield server


@contextmanager
def deepgram_server_thread(script: Sequence[str] = (), **knobs: Any) -> Iterator[DeepgramServer]:
    """A Deepgram fake served from a thread of its own, for tests that are not async."""
    with _in_thread(lambda: deepgram_server(script, **knobs)) as server:
        yield server


@contextmanager
def whisper_server_thread(script: Sequence[str] = (), **knobs: Any) -> Iterator[WhisperServer]:
    """An OpenAI transcriptions fake served from a thread of its own."""
    with _in_thread(lambda: whisper_server(script, **knobs)) as server:
        yield server


@asynccontextmanager
async def _serving(app: web.Application) -> AsyncIterator[int]:
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@contextmanager
def _in_thread(serve: Callable[[], Any]) -> Iterator[_Server]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stop = asyncio.Event()
    started: asyncio.Future[Any] = loop.create_future()

    async def run() -> None:
        try:
            async with serve() as server:
                started.set_result(server)
                await stop.wait()
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            raise

    running = asyncio.run_coroutine_threadsafe(run(), loop)
    try:
        yield _wait(loop, _until(started))
    finally:
        loop.call_soon_threadsafe(stop.set)
        running.result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def _wait(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(5)


async def _until(future: asyncio.Future[Any]) -> Any:
    return await future


async def _listen(server: DeepgramServer, request: web.Request) -> web.StreamResponse:
    if request.headers.get("Authorization") != f"Token {server.api_key}":
        return web.json_response({"err_code": "INVALID_AUTH"}, status=401)
    if server.refuse is not None:
        return web.json_response({"err_code": "REFUSED"}, status=server.refuse)
    query = dict(request.query)
    server.queries.append(query)
    expected = {"encoding": "linear16", "sample_rate": "16000", "channels": "1"}
    if any(query.get(name) != value for name, value in expected.items()):
        return web.json_response({"err_code": "Bad Request"}, status=400)
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    server.connections += 1
    server.connection_bytes.append(0)
    dropped = server.connections <= server.drops
    stream = _Stream(server, socket)
    frames = 0
    async for message in socket:
        if message.type is web.WSMsgType.BINARY:
            frames += 1
            if dropped and frames == server.drop_after_frames and request.transport:
                request.transport.abort()
                break
            await stream.audio(message.data)
        elif message.type is web.WSMsgType.TEXT:
            kind = orjson.loads(message.data).get("type", "")
            server.controls.append(kind)
            if kind == "Finalize":
                await stream.finalize()
            elif kind == "CloseStream":
                await socket.close()
    return socket


class _Stream:
    """One connection's audio: where on its clock the utterance being heard began, and the
    words of it sent so far."""

    def __init__(self, server: DeepgramServer, socket: web.WebSocketResponse) -> None:
        self.server = server
        self.socket = socket
        self.received = 0  # bytes on this connection
        self.begun: int | None = None  # where the utterance being heard began
        self.final_from = 0  # where the words not yet sent as final begin

    @property
    def words(self) -> list[str]:
        script = self.server.script
        index = self.server.utterances_answered
        return script[index].split() if index < len(script) else []

    async def audio(self, pcm: bytes) -> None:
        self.server.audio_bytes += len(pcm)
        self.server.connection_bytes[-1] += len(pcm)
        if self.begun is None:
            self.begun = self.final_from = self.received
        before = self._seconds(self.received - self.begun) // INTERIM_SECONDS
        self.received += len(pcm)
        after = self._seconds(self.received - self.begun) // INTERIM_SECONDS
        if after > before and self.words:
            heard = self.words[: int(after)]
            await self._result(" ".join(heard), is_final=False, from_finalize=False)

    async def finalize(self) -> None:
        if self.begun is None:
            return  # nothing held: Deepgram sends nothing either
        self.begun = None
        await asyncio.sleep(self.server.finalize_delay)
        if self.server.answer_finalize:
            words = " ".join(self.words)
            self.server.utterances_answered += 1
            await self._result(words, is_final=True, from_finalize=True)
            self.final_from = self.received

    async def _result(self, transcript: str, *, is_final: bool, from_finalize: bool) -> None:
        start = self._seconds(self.final_from)
        message = {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": self._seconds(self.received) - start,
            "start": start,
            "is_final": is_final,
            "speech_final": from_finalize,
            "from_finalize": from_finalize,
            "channel": {"alternatives": [{"transcript": transcript, "confidence": 0.98}]},
        }
        await self.socket.send_str(orjson.dumps(message).decode())

    @staticmethod
    def _seconds(length: int) -> float:
        return round(length / (SAMPLE_RATE * SAMPLE_BYTES), 3)


async def _transcribe(server: WhisperServer, request: web.Request) -> web.Response:
    server.requests += 1
    if request.headers.get("Authorization") != f"Bearer {server.api_key}":
        return _openai_error(401, "Incorrect API key provided.")
    await asyncio.sleep(server.delay)
    if server.requests <= server.fail_times:
        return _openai_error(server.fail_status, "The fake is failing on purpose.")
    form = await request.post()
    file, model = form.get("file"), form.get("model")
    if not isinstance(file, web.FileField) or not isinstance(model, str):
        return _openai_error(400, "file and model are required")
    pcm = _pcm(file.file.read())
    if pcm is None:
        return _openai_error(400, "Invalid file format.")
    language, response_format = form.get("language"), form.get("response_format")
    server.received.append(
        Transcription(
            model,
            language if isinstance(language, str) else None,
            response_format if isinstance(response_format, str) else None,
            file.filename,
            pcm,
        )
    )
    index = len(server.received) - 1
    text = server.script[index] if index < len(server.script) else ""
    return web.json_response({"text": text})


def _pcm(file: bytes) -> bytes | None:
    """The audio of a WAV file in the format the transcribers send, else None."""
    try:
        with wave.open(io.BytesIO(file)) as reader:
            shape = (reader.getnchannels(), reader.getsampwidth(), reader.getframerate())
            if shape != (1, SAMPLE_BYTES, SAMPLE_RATE):
                return None
            return reader.readframes(reader.getnframes())
    except (wave.Error, EOFError):
        return None


def _openai_error(status: int, message: str) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    error = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(error, status=status)
