"""Deepgram's live transcription: one WebSocket per call, kept open between utterances.

The engine decides where utterances begin and end, so Deepgram's own endpointing is off and
only an utterance's audio is sent; between utterances a ``KeepAlive`` holds the connection
(Deepgram closes one that hears nothing for ten seconds). At an utterance's end a ``Finalize``
makes Deepgram transcribe what it still holds and answer with a result marked
``from_finalize``. Deepgram times every result from the start of the audio it was sent, so a
result belongs to the utterance whose audio it covers, and one that covers a discarded
utterance is ignored. Interim results go to the engine as the utterance's words so far.

A connection that drops is made again once, and the audio of the utterances still awaited is
sent again; a second drop before Deepgram answers anything, or a connection refused, fails
the transcriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from yarl import URL

from clarion.providers.endpoint import endpoint_url
from clarion.providers.errors import retryable_status
from clarion.speech.audio import SAMPLE_BYTES, SAMPLE_RATE
from clarion.speech.errors import SpeechError
from clarion.speech.transcriber import Interim
from clarion.speech.transcribers.utterance import UtteranceAudio

DEFAULT_BASE_URL = "wss://api.deepgram.com"
DEFAULT_MODEL = "nova-3"
DEFAULT_LANGUAGE = "en"
KEEPALIVE_SECONDS = 5.0
FINALIZE_SECONDS = 5.0
CONNECT_SECONDS = 10.0
CLOSE_SECONDS = 2.0
RESEND_BYTES = 8 * 1024  # an utterance sent again goes in frames no larger than this

PROVIDER = "deepgram"
KEEPALIVE = '{"type":"KeepAlive"}'
SEND_BYTES = 3_200  # 100 ms: audio goes to Deepgram five frames at a time
FINALIZE = '{"type":"Finalize"}'
CLOSE_STREAM = '{"type":"CloseStream"}'

# Deepgram rounds its timings; a result this close to an utterance's edge is still its own.
_EDGE_SECONDS = 0.05

log = logging.getLogger("clarion.speech")

_Outbox = asyncio.Queue[bytes | str]
"""What is waiting to be sent on the connection: audio, and Deepgram's control messages."""


def listen_url(base_url: str, model: str | None, language: str | None) -> URL:
    """The live endpoint with the options every call uses."""
    return endpoint_url(base_url, "v1/listen").update_query(
        model=model or DEFAULT_MODEL,
        language=language or DEFAULT_LANGUAGE,
        encoding="linear16",
        sample_rate=SAMPLE_RATE,
        channels=1,
        interim_results="true",
        punctuate="true",
        endpointing="false",
    )


@dataclass(eq=False)
class _Utterance:
    """An utterance as sent on the current connection: where its audio lies on Deepgram's
    clock (seconds of audio sent), and the words heard in it."""

    start: float
    end: float
    audio: UtteranceAudio = field(default_factory=UtteranceAudio)
    finals: list[str] = field(default_factory=list)
    interim: str = ""
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    error: SpeechError | None = None

    def words(self) -> str:
        return " ".join(part for part in (*self.finals, self.interim) if part)

    def covers(self, moment: float) -> bool:
        return self.start - _EDGE_SECONDS <= moment <= self.end + _EDGE_SECONDS

    def fail(self, error: SpeechError) -> None:
        self.error = error
        self.answered.set()


class DeepgramTranscriber:
    """One call's transcriber over Deepgram's live API; see the module docstring."""

    name = PROVIDER

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        model: str | None = None,
        language: str | None = None,
        *,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        finalize_seconds: float = FINALIZE_SECONDS,
    ) -> None:
        self._session = session
        self._url = listen_url(base_url, model, language)
        self._headers = {"Authorization": f"Token {api_key}"}
        self._keepalive_seconds = keepalive_seconds
        self._finalize_seconds = finalize_seconds
        self._interim: Interim = _unheard
        self._current: _Utterance | None = None
        self._awaited: list[_Utterance] = []  # ended, waiting for Deepgram's last words
        self._outbox: _Outbox | None = None  # None while not connected
        self._clock = 0.0  # seconds of audio sent on this connection
        # Audio gathered to go out a few frames at a time: one WebSocket message per 20 ms
        # frame costs the server a copy and a system call each.
        self._gathered = bytearray()
        self._failure: SpeechError | None = None
        self._task: asyncio.Task[None] | None = None
        self._answered = False  # whether Deepgram has sent a result on this connection
        self._closing = False

    async def open(self, interim: Interim) -> None:
        """Connect (twice, if the first attempt met a passing fault)."""
        self._interim = interim
        try:
            socket = await self._connect()
        except SpeechError as exc:
            if not exc.retryable:
                raise
            socket = await self._connect()
        self._task = asyncio.create_task(self._serve(socket, self._attach(socket)))

    def begin(self) -> None:
        """An utterance begins: its audio is sent from here."""
        self.discard()
        self._current = _Utterance(self._clock, self._clock)

    def feed(self, pcm: bytes) -> None:
        """More of the utterance, sent as it comes."""
        utterance = self._current
        if utterance is None or not pcm:
            return
        utterance.audio.add(pcm)  # kept to be sent again should the connection drop
        if self._outbox is not None:
            self._gathered += pcm
            if len(self._gathered) >= SEND_BYTES:
                self._send_gathered()
            self._clock += _seconds(len(pcm))
            utterance.end = self._clock

    def _send_gathered(self) -> None:
        if self._gathered and self._outbox is not None:
            self._outbox.put_nowait(bytes(self._gathered))
        self._gathered.clear()

    def pause(self) -> None:
        """Nothing to do early: Deepgram hears the audio as it comes."""

    async def finish(self) -> str:
        """The utterance's words, once Deepgram has answered its ``Finalize``."""
        utterance, self._current = self._current, None
        if self._failure is not None:
            raise self._failure
        if utterance is None or not len(utterance.audio):
            return ""
        self._awaited.append(utterance)
        self._send_gathered()
        if self._outbox is not None:
            self._outbox.put_nowait(FINALIZE)  # else sent with its audio once reconnected
        try:
            async with asyncio.timeout(self._finalize_seconds):
                await utterance.answered.wait()
        except TimeoutError:
            raise SpeechError(
                PROVIDER,
                f"no final words within {self._finalize_seconds:g}s of the utterance's end",
                retryable=True,
            ) from None
        finally:
            if utterance in self._awaited:
                self._awaited.remove(utterance)
        if utterance.error is not None:
            raise utterance.error
        return utterance.words()

    def discard(self) -> None:
        """Forget the utterance; Deepgram is told to flush it, and its words are ignored."""
        utterance, self._current = self._current, None
        self._send_gathered()
        if utterance is not None and utterance.end > utterance.start and self._outbox is not None:
            self._outbox.put_nowait(FINALIZE)

    async def close(self) -> None:
        """Close the stream (Deepgram closes the connection once it has answered all it
        heard), then the connection, whether Deepgram closed it in time or not."""
        self._current = None
        self._closing = True
        task, self._task = self._task, None
        if self._outbox is not None:
            self._outbox.put_nowait(CLOSE_STREAM)
        if task is not None:
            await asyncio.wait((task,), timeout=CLOSE_SECONDS)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail(SpeechError(PROVIDER, "the transcriber was closed", retryable=False))

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                return await self._session.ws_connect(
                    self._url,
                    headers=self._headers,
                    timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_SECONDS),
                )
        except aiohttp.WSServerHandshakeError as exc:
            raise SpeechError(
                PROVIDER,
                f"refused the connection with {exc.status}",
                retryable=retryable_status(exc.status),
                status=exc.status,
            ).at(self._url.host) from None
        except TimeoutError:
            raise SpeechError(
                PROVIDER, f"no connection within {CONNECT_SECONDS:g}s", retryable=True
            ).at(self._url.host) from None
        except aiohttp.ClientError as exc:
            raise SpeechError(
                PROVIDER, f"connection failed: {type(exc).__name__}", retryable=True
            ).at(self._url.host) from exc

    def _attach(self, socket: aiohttp.ClientWebSocketResponse) -> _Outbox:
        """Start sending on a new connection: first, again, the audio of every utterance
        not yet answered, on the new connection's clock."""
        self._answered = False
        self._gathered.clear()  # sent again below, with the rest of its utterance
        self._outbox = outbox = _Outbox()
        self._clock = 0.0
        ongoing = [*self._awaited, *([self._current] if self._current is not None else [])]
        for utterance in ongoing:
            pcm = utterance.audio.pcm
            utterance.start = self._clock
            utterance.finals.clear()
            utterance.interim = ""
            for offset in range(0, len(pcm), RESEND_BYTES):
                outbox.put_nowait(pcm[offset : offset + RESEND_BYTES])
            self._clock += _seconds(len(pcm))
            utterance.end = self._clock
            if utterance is not self._current:
                outbox.put_nowait(FINALIZE)
        return outbox

    async def _serve(self, socket: aiohttp.ClientWebSocketResponse, outbox: _Outbox) -> None:
        """Exchange on the connection until it ends, then make it again; a connection made
        again that drops before Deepgram answered anything on it fails the transcriber."""
        again = False
        while True:
            await self._exchange(socket, outbox)
            self._outbox = None
            if self._closing:
                return
            if again and not self._answered:
                self._fail(SpeechError(PROVIDER, "the connection dropped again", retryable=True))
                return
            log.info("deepgram: the connection dropped; connecting again")
            try:
                socket = await self._connect()
            except SpeechError as exc:
                self._fail(exc)
                return
            outbox = self._attach(socket)
            again = True

    async def _exchange(self, socket: aiohttp.ClientWebSocketResponse, outbox: _Outbox) -> None:
        """Send and receive until the connection ends, from either side."""
        sending = asyncio.create_task(self._send(socket, outbox))
        receiving = asyncio.create_task(self._receive(socket))
        try:
            await asyncio.wait((sending, receiving), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, receiving):
                task.cancel()
            await asyncio.gather(sending, receiving, return_exceptions=True)
            with contextlib.suppress(aiohttp.ClientError, ConnectionError, TimeoutError):
                await socket.close()

    async def _send(self, socket: aiohttp.ClientWebSocketResponse, outbox: _Outbox) -> None:
        with contextlib.suppress(aiohttp.ClientError, ConnectionError):
            while True:
                try:
                    async with asyncio.timeout(self._keepalive_seconds):
                        item = await outbox.get()
                except TimeoutError:
                    await socket.send_str(KEEPALIVE)
                    continue
                if isinstance(item, bytes):
                    await socket.send_bytes(item)
                else:
                    await socket.send_str(item)

    async def _receive(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket:
            if message.type is aiohttp.WSMsgType.TEXT:
                with contextlib.suppress(orjson.JSONDecodeError):
                    self._heard(orjson.loads(message.data))

    def _heard(self, message: Any) -> None:
        """Take in one of Deepgram's messages (only its results matter here)."""
        if not isinstance(message, dict) or message.get("type") != "Results":
            return
        try:
            transcript = str(message["channel"]["alternatives"][0]["transcript"]).strip()
            start = float(message.get("start", 0.0))
            ending = start + float(message.get("duration", 0.0))
        except (KeyError, IndexError, TypeError, ValueError):
            return  # not a result this adapter reads
        self._answered = True
        ongoing = [*self._awaited, *([self._current] if self._current is not None else [])]
        owner = next((u for u in ongoing if u.covers((start + ending) / 2)), None)
        if owner is not None:
            if message.get("is_final"):
                owner.finals += [transcript] if transcript else []
                owner.interim = ""
            else:
                owner.interim = transcript
            if owner is self._current and owner.words():
                self._tell_interim(owner.words())
        if message.get("from_finalize"):
            # The flush reached the end of the audio sent: every utterance awaited that it
            # reached into has all its words (the midpoint, as Deepgram's timings are rounded).
            for utterance in self._awaited:
                if ending >= (utterance.start + utterance.end) / 2:
                    utterance.answered.set()

    def _tell_interim(self, words: str) -> None:
        try:
            self._interim(words)
        except Exception as exc:  # the engine's fault; the connection goes on
            log.error("deepgram: passing on interim words failed: %s", type(exc).__name__)

    def _fail(self, error: SpeechError) -> None:
        """Fail every utterance awaited, and every one to come."""
        self._failure = self._failure or error.at(self._url.host)
        for utterance in self._awaited:
            utterance.fail(error)


def _seconds(length: int) -> float:
    return length / (SAMPLE_RATE * SAMPLE_BYTES)


def _unheard(_words: str) -> None:
    """Where interim words go before :meth:`DeepgramTranscriber.open`."""
