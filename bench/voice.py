"""Benchmark of voice web calls: N concurrent calls in real time on one server process, callers
speaking espeak-ng sentences into their microphones and hearing the replies.

    .venv/bin/python bench/voice.py      # 100 calls, stand-in Deepgram, ElevenLabs and model, 60 s
    .venv/bin/python bench/voice.py --calls 100 --client-processes 2
    .venv/bin/python bench/voice.py --offline --calls 10    # espeak and the local transcriber
    .venv/bin/python bench/voice.py --stt-delay-ms 150 --llm-delay-ms 300 --tts-delay-ms 100
    .venv/bin/python bench/voice.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/voice.py --barge-in   # callers speak over each reply
    .venv/bin/python bench/voice.py --twilio     # phone calls over Twilio Media Streams

It starts `clarion serve` (one process) on a database of its own, the fake model of
bench/fake_llm.py (``--llm-delay-ms`` before its first chunk) and the fake Deepgram and
ElevenLabs of bench/fake_speech.py (``--stt-delay-ms`` before a final result,
``--tts-delay-ms`` before speech's first byte), each in a process of its own, so their CPU is
not the server's. The assistant hears with Deepgram and speaks with ElevenLabs, both the
fakes; with ``--offline`` it names neither, so the server speaks with espeak-ng and hears
with the local transcriber (pocketsphinx in worker processes the server starts), and only the
model is a fake.

The client processes (``--client-processes``) join the N calls with ``&audio=pcm16``,
staggered over ``--ramp`` seconds. Each call is a microphone: a 20 ms frame of 16 kHz PCM
every 20 ms, silence unless the caller is speaking. Once the greeting has played, the caller
says :data:`SENTENCE` (espeak-ng, made once), stays silent until the reply has played (its
``assistant-message``), pauses, and says it again. With ``--barge-in`` the caller says it
again over each reply, 0.3 s after the reply's first audio, and waits for the reply to that.
Once every call is live, the measured window (``--duration``) starts.

It prints, for the turns whose speech ended in the window, the latency clarion adds: from the
last loud frame (RMS >= 200, the turn detector's floor) of the sentence leaving the caller to
the reply's first audio frame arriving, less the endpointing silence and the fakes' fixed
delays (p50, p99, max). Offline the whole wait is printed, recognizing the sentence included,
and then that less the endpointing and the model's delay. Then late frames (a 20 ms frame that
left the server over 20 ms after its time, from ``/v1/health``), and what the callers' players
saw: how far ahead of real time the audio ever arrived (a player starting at each turn's first
frame) and gaps (a frame arriving over 20 ms after it should have played). Then the server's
CPU (with its worker processes) per call, as a share of a core, and so how many calls one core
holds; its RSS (with its workers) before the calls and with them, per call; and failures by
kind: a call not joined, an error frame, a call that ends unasked, a turn without its reply
within ``--reply-timeout``. With ``--barge-in``, how long the ``clear`` took to arrive after
the first loud frame of the caller's speech left (p50, p99, max). Last, the CPU the
machine's other processes took in the window: on a busy machine the server, the callers and
the fakes all wait their turn for a core.

With ``--twilio`` the calls are phone calls instead, as Twilio would make them (the caller's
end is bench/twilio_caller.py): the clinic's number is put on Twilio for the assistant, and
each call is Twilio's signed voice request, answered with TwiML, then the Media Stream it
names: ``connected`` and ``start`` with the TwiML's token, the microphone as a ``media``
message of 20 ms of 8 kHz μ-law every 20 ms (the sentence converted to the line), and
``stop`` and the socket's close to hang up. The player plays the ``media`` it is sent in real
time and echoes each ``mark`` once the audio sent before it has played, by the player's
clock, or at once on ``clear``. A phone line carries no text frames, so a reply (and the
greeting) has ended when no audio has come for :data:`REPLY_QUIET_SECONDS` and every mark
has been echoed; the caller's pause starts then. The figures are taken as for the web call;
the loud frames are found in the line's audio, as the server hears it. A stream the server
closes before the caller hangs up is a call that ends unasked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import resource
import secrets
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import orjson
import uvloop
from harness import (
    create_organization,
    free_port,
    percentile,
    post_json,
    prepare_database,
    receive_from,
    running_process,
    wait_ready,
)
from twilio_caller import (
    LINE_SILENCE,
    NotAnswered,
    StreamMessages,
    line_frames,
    media_frames,
    phone_number,
    ring,
)

from clarion.speech.audio import FRAME_BYTES, FRAME_MS
from clarion.speech.turns import VOICE_FLOOR
from clarion.speech.voices import EspeakVoice
from clarion.telephony.media import mulaw_decoded

BENCH = Path(__file__).resolve().parent
SENTENCE = "i would like to book an appointment for tomorrow morning"
CALLER_VOICE = "en-us+f2"
FIRST_MESSAGE = "Hello, how can I help?"
FRAME_SECONDS = FRAME_MS / 1000
SILENCE = b"\0" * FRAME_BYTES
HANGUP = orjson.dumps({"type": "hangup"}).decode()
PAUSE_SECONDS = 0.5  # after a reply has played, before the caller speaks again
BARGE_AFTER_SECONDS = 0.3  # with --barge-in: after a reply's first audio, speak over it
REPLY_QUIET_SECONDS = 0.3  # a phone call: no audio this long, marks all echoed, the reply ended
LATE_SECONDS = 0.020  # a frame this much behind its time is heard as a gap
MIC_LATE_SECONDS = 0.010  # a microphone frame sent this much behind its time: the client lags
WARM_UP_CALLS, WARM_UP_TURNS = 2, 2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="concurrent voice calls")
    parser.add_argument("--offline", action="store_true", help="espeak and the local transcriber")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which calls join")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--stt-delay-ms", type=float, default=50.0)
    parser.add_argument("--llm-delay-ms", type=float, default=100.0)
    parser.add_argument("--tts-delay-ms", type=float, default=50.0)
    parser.add_argument("--endpointing-ms", type=int, default=700)
    parser.add_argument("--reply-timeout", type=float, default=15.0, help="seconds per reply")
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--barge-in", action="store_true", help="callers speak over replies")
    parser.add_argument("--twilio", action="store_true", help="phone calls over Twilio streams")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as workdir:
        bench(Path(workdir), args)


@dataclass
class Plan:
    """What one client process does: its share of the calls, and how."""

    base: str
    api_key: str
    assistant_id: int
    sentence: list[bytes]  # 20 ms frames (16 kHz PCM, or the line's μ-law with --twilio)
    last_loud: int  # the index of the sentence's last loud frame
    first_loud: int  # and of its first
    barge_in: bool
    indexes: list[int]
    calls: int
    ramp: float
    reply_timeout: float
    twilio: bool = False


@dataclass
class Playback:
    """One stretch of the assistant's audio as a caller's player heard it."""

    began: float  # the first frame's arrival (monotonic)
    ahead: float = 0.0  # the most audio held beyond what had played, seconds
    gaps: int = 0  # frames that came over LATE_SECONDS after their time to play
    worst_gap: float = 0.0


@dataclass
class Turn:
    """One sentence said and its reply (monotonic times)."""

    spoken: float  # the sentence's last loud frame left
    first_audio: float = math.nan  # the reply's first frame arrived
    replied: float = math.nan  # its assistant-message arrived


@dataclass
class Outcome:
    """What one client process saw; times are monotonic, for the parent to window."""

    joined: int = 0
    turns: list[Turn] = field(default_factory=list)
    playbacks: list[Playback] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)
    mic_late: list[tuple[float, float]] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)
    barge_ins: list[tuple[float, float]] = field(default_factory=list)
    """(when, seconds from the first loud frame of speech over a reply to its clear)"""
    hangup_failures: Counter[str] = field(default_factory=Counter)


class CallFailed(Exception):
    """The call failed the benchmark; the message is its kind, counted in the summary."""


# ---- the client side: one WebSocket per call, a microphone and a player


class Caller:
    """One voice call: its microphone, what it hears, and its turns."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, plan: Plan, outcome: Outcome):
        self.socket = socket
        self.plan = plan
        self.outcome = outcome
        self.to_say: list[bytes] = []
        self.said = asyncio.Event()
        self.replied = asyncio.Event()
        self.turn: Turn | None = None  # awaiting its first audio
        self.playback: Playback | None = None
        self.played_frames = 0
        self.hanging_up = False
        self.barging = False
        self.barged_at = math.nan  # the first loud frame of speech over a reply left
        self.reply_heard = asyncio.Event()  # a reply's first audio arrived
        self.ended = asyncio.Event()
        self.ended_reason = ""
        self.silence = SILENCE
        self.tasks = [
            asyncio.create_task(self._microphone()),
            asyncio.create_task(self._listen()),
        ]

    async def _microphone(self) -> None:
        """A frame every 20 ms on the monotonic clock: the sentence when saying it, else
        silence."""
        due = time.monotonic()
        position = 0
        try:
            while True:
                if self.to_say:
                    frame = self.to_say[position]
                    if position == self.plan.last_loud and self.turn is not None:
                        self.turn.spoken = time.monotonic()
                    if position == self.plan.first_loud and self.barging:
                        self.barged_at = time.monotonic()
                    position += 1
                    if position == len(self.to_say):
                        self.to_say, position = [], 0
                        self.said.set()
                else:
                    frame = self.silence
                await self._send_frame(frame)
                due += FRAME_SECONDS
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif -wait > MIC_LATE_SECONDS:
                    self.outcome.mic_late.append((time.monotonic(), -wait))
        except (ConnectionError, aiohttp.ClientError):
            return  # the listening side reports why the call went

    async def _send_frame(self, frame: bytes) -> None:
        await self.socket.send_bytes(frame)

    async def _listen(self) -> None:
        try:
            while True:
                message = await self.socket.receive()
                if message.type is aiohttp.WSMsgType.BINARY:
                    self._audio(time.monotonic())
                elif message.type is aiohttp.WSMsgType.TEXT:
                    self._text(orjson.loads(message.data))
                else:
                    break
        finally:
            if not self.ended.is_set():
                self._fail("socket closed without call-ended")
            self.ended.set()

    def _audio(self, now: float) -> None:
        playback = self.playback
        if playback is None:
            self.playback = playback = Playback(now)
            self.played_frames = 0
            self.outcome.playbacks.append(playback)
            self.reply_heard.set()
            turn = self.turn
            if turn is not None and not math.isnan(turn.spoken):
                turn.first_audio = now
                self.turn = None
        # The player plays frame n from began + n * 20 ms; one that comes later leaves a gap,
        # and the player starts again from it.
        plays_at = playback.began + self.played_frames * FRAME_SECONDS
        if now > plays_at + LATE_SECONDS:
            playback.gaps += 1
            playback.worst_gap = max(playback.worst_gap, now - plays_at)
            playback.began += now - plays_at
        self.played_frames += 1
        held = playback.began + self.played_frames * FRAME_SECONDS - now
        playback.ahead = max(playback.ahead, held)

    def _text(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "assistant-message":
            self.playback = None
            self.replied.set()
        elif kind == "clear":
            self.playback = None
            now = time.monotonic()
            self.outcome.clears.append(now)
            if not math.isnan(self.barged_at):
                self.outcome.barge_ins.append((now, now - self.barged_at))
                self.barged_at = math.nan
        elif kind == "error":
            self._fail("error frame")
        elif kind == "call-ended":
            self.ended_reason = str(frame.get("ended_reason"))
            if not self.hanging_up:
                self._fail(f"call ended unasked ({self.ended_reason})")
            self.ended.set()

    def _fail(self, kind: str, at: float | None = None) -> None:
        self.outcome.failures.append((time.monotonic() if at is None else at, kind))

    async def greeted(self) -> None:
        """Return once the greeting has played."""
        try:
            async with asyncio.timeout(self.plan.reply_timeout):
                await self.replied.wait()
        except TimeoutError:
            raise CallFailed("join: no greeting in time") from None

    async def converse(self, turns: int | None = None, stop: asyncio.Event | None = None) -> None:
        """Say the sentence, hear the reply, pause; again (``turns`` times, or until ``stop``
        is set: the turn under way is finished first)."""
        done = 0
        while turns is None or done < turns:
            if self.ended.is_set() or (stop is not None and stop.is_set()):
                return
            self.replied.clear()
            self.said.clear()
            self.reply_heard.clear()
            self.turn = turn = Turn(math.nan)
            self.to_say = self.plan.sentence
            await self.said.wait()
            self.outcome.turns.append(turn)
            if self.plan.barge_in:
                turn = await self._speak_over_reply(turn)
            try:
                async with asyncio.timeout(self.plan.reply_timeout):
                    await self.replied.wait()
                turn.replied = time.monotonic()
            except TimeoutError:
                # Counted when the sentence ended, as the latencies are.
                self._fail("turn without reply in time", turn.spoken)
                self.turn = None
            done += 1
            await asyncio.sleep(PAUSE_SECONDS)

    async def _speak_over_reply(self, turn: Turn) -> Turn:
        """Say the sentence again over the reply to ``turn``; the turn of that sentence."""
        try:
            async with asyncio.timeout(self.plan.reply_timeout):
                await self.reply_heard.wait()
        except TimeoutError:
            return turn  # counted as a turn without reply
        await asyncio.sleep(BARGE_AFTER_SECONDS)
        self.said.clear()
        self.barging = True
        self.turn = over = Turn(math.nan)
        self.to_say = self.plan.sentence
        await self.said.wait()
        self.barging = False
        self.replied.clear()  # the cut reply's message came meanwhile: wait for the next
        self.outcome.turns.append(over)
        return over

    async def hang_up(self) -> None:
        """Stop the microphone, hang up, and wait for call-ended."""
        self.hanging_up = True
        self.tasks[0].cancel()
        try:
            if not self.ended.is_set():
                await self.socket.send_str(HANGUP)
                async with asyncio.timeout(30):
                    await self.ended.wait()
            # The server closes the socket after call-ended: let it, as a browser does.
            await asyncio.wait(self.tasks[1:], timeout=5)
        except TimeoutError:
            raise CallFailed("hangup: no call-ended") from None
        except (ConnectionError, aiohttp.ClientError):
            raise CallFailed("hangup: the socket had gone") from None
        finally:
            await self.socket.close()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.ended_reason != "customer-ended":
            raise CallFailed(f"hangup: ended as {self.ended_reason}")


class PhoneCaller(Caller):
    """One phone call: Twilio's end of its Media Stream. The microphone's frames go out as
    ``media`` messages; the player echoes marks as the audio before them plays."""

    def __init__(
        self,
        socket: aiohttp.ClientWebSocketResponse,
        plan: Plan,
        outcome: Outcome,
        messages: StreamMessages,
    ):
        self.messages = messages
        self.marks: list[tuple[float, str]] = []  # to echo once played: (when, name)
        self.last_media = math.nan
        super().__init__(socket, plan, outcome)
        self.silence = LINE_SILENCE

    async def _send_frame(self, frame: bytes) -> None:
        """Echo the marks that have played, see whether the reply has ended, and send the
        caller's frame: the line is served on the microphone's 20 ms clock, as Twilio's is."""
        now = time.monotonic()
        while self.marks and self.marks[0][0] <= now:
            await self.socket.send_str(self.messages.mark(self.marks.pop(0)[1]))
        quiet = now - self.last_media > REPLY_QUIET_SECONDS
        if self.playback is not None and quiet and not self.marks:
            self.playback = None  # what the web call's assistant-message says
            self.replied.set()
        await self.socket.send_str(self.messages.media(frame))

    async def _listen(self) -> None:
        try:
            while True:
                message = await self.socket.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                document = orjson.loads(message.data)
                event = document.get("event")
                if event == "media":
                    now = self.last_media = time.monotonic()
                    for _ in range(media_frames(document)):
                        self._audio(now)
                elif event == "mark":
                    self.marks.append((self._played_by(), str(document["mark"]["name"])))
                elif event == "clear":
                    now = time.monotonic()
                    self.marks = [(now, name) for _, name in self.marks]  # dropped: echoed
                    self._text({"type": "clear"})
        finally:
            if not self.hanging_up:
                self._fail("call ended unasked (the stream closed)")
            self.ended.set()

    def _played_by(self) -> float:
        """When the player will have played all the audio it has been sent."""
        now = time.monotonic()
        playback = self.playback
        if playback is None:
            return now
        return max(now, playback.began + self.played_frames * FRAME_SECONDS)

    async def hang_up(self) -> None:
        """Stop the microphone, send ``stop`` and close the stream, as Twilio does."""
        self.hanging_up = True
        self.tasks[0].cancel()
        try:
            await self.socket.send_str(self.messages.stop())
        except (ConnectionError, aiohttp.ClientError):
            raise CallFailed("hangup: the stream had gone") from None
        finally:
            await self.socket.close()
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def _join(session: aiohttp.ClientSession, plan: Plan, outcome: Outcome) -> Caller:
    """Create a call, join it as a voice call, and return once its greeting has played."""
    if plan.twilio:
        return await _ring(session, plan, outcome)
    headers = {"Authorization": f"Bearer {plan.api_key}"}
    body = {"assistant_id": plan.assistant_id}
    try:
        async with session.post(f"{plan.base}/v1/call", json=body, headers=headers) as response:
            if response.status != 201:
                raise CallFailed(f"create: HTTP {response.status}")
            url = (await response.json())["web_call_url"]
        socket = await session.ws_connect(url + "&audio=pcm16", compress=0)
    except aiohttp.WSServerHandshakeError as exc:
        raise CallFailed(f"join: HTTP {exc.status}") from None
    except aiohttp.ClientError as exc:
        raise CallFailed(f"create or join: {type(exc).__name__}") from None
    return await _greeted(Caller(socket, plan, outcome))


async def _ring(session: aiohttp.ClientSession, plan: Plan, outcome: Outcome) -> Caller:
    """Call the clinic's number as Twilio would, open the stream its answer names, and
    return once the greeting has played."""
    call_sid = "CA" + secrets.token_hex(16)
    messages = StreamMessages(call_sid)
    try:
        url, token = await ring(session, plan.base, call_sid)
        socket = await session.ws_connect(url, compress=0)
        await socket.send_str(messages.connected())
        await socket.send_str(messages.start(token))
    except NotAnswered as exc:
        raise CallFailed(str(exc)) from None
    except aiohttp.WSServerHandshakeError as exc:
        raise CallFailed(f"stream: HTTP {exc.status}") from None
    except aiohttp.ClientError as exc:
        raise CallFailed(f"ring or stream: {type(exc).__name__}") from None
    return await _greeted(PhoneCaller(socket, plan, outcome, messages))


async def _greeted(caller: Caller) -> Caller:
    try:
        await caller.greeted()
    except CallFailed:
        with contextlib.suppress(CallFailed):
            await caller.hang_up()
        raise
    return caller


async def _client(connection: Connection, plan: Plan) -> None:
    outcome = Outcome()
    connector = aiohttp.TCPConnector(limit=0)  # a WebSocket holds its connection
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.monotonic()
        stagger = plan.ramp / max(1, plan.calls)

        async def one(index: int) -> Caller | None:
            await asyncio.sleep(max(0.0, start + index * stagger - time.monotonic()))
            try:
                caller = await _join(session, plan, outcome)
            except CallFailed as failure:
                outcome.failures.append((time.monotonic(), f"not joined: {failure}"))
                return None
            talking.append(asyncio.create_task(caller.converse(stop=stop)))
            return caller

        talking: list[asyncio.Task[None]] = []
        stop = asyncio.Event()
        joined = [caller for caller in await asyncio.gather(*map(one, plan.indexes)) if caller]
        outcome.joined = len(joined)
        connection.send(("ready", outcome.joined))
        await asyncio.to_thread(connection.recv)  # the window is over
        stop.set()  # no new sentences; those said are heard out
        sentence_seconds = len(plan.sentence) * FRAME_SECONDS
        if talking:
            await asyncio.wait(talking, timeout=sentence_seconds + plan.reply_timeout + 5)
        for task in talking:
            task.cancel()
        await asyncio.gather(*talking, return_exceptions=True)
        ended = await asyncio.gather(
            *(caller.hang_up() for caller in joined), return_exceptions=True
        )
        for result in ended:
            if isinstance(result, BaseException):
                outcome.hangup_failures[str(result) or type(result).__name__] += 1
        connection.send(outcome)


def client_process(connection: Connection, plan: Plan) -> None:
    """A client process's body: join its calls, talk on them until told, hang up."""
    uvloop.run(_client(connection, plan))


async def _warm_up(plan: Plan) -> None:
    """A few calls of a few turns (in the server, the voice's and the transcriber's first
    uses: connections, worker processes), so start-up costs are not counted as the calls'."""
    outcome = Outcome()
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            caller = await _join(session, plan, outcome)
            await caller.converse(WARM_UP_TURNS)
            await caller.hang_up()

        try:
            await asyncio.gather(*(one() for _ in range(WARM_UP_CALLS)))
        except CallFailed as failure:
            raise SystemExit(f"a warm-up call failed: {failure}") from None
    if outcome.failures:
        raise SystemExit(f"a warm-up call failed: {outcome.failures[0][1]}")


# ---- the parent: processes, set-up, the window, the summary


def bench(workdir: Path, args: argparse.Namespace) -> None:
    # Every call is a socket on both sides (and one to Deepgram): lift the open-file limit.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    database_url = prepare_database(workdir, args.postgres)
    env = {
        **os.environ,
        "CLARION_DATA_DIR": str(workdir),
        "CLARION_DATABASE_URL": database_url,
        "CLARION_ALLOWED_NETWORKS": "127.0.0.0/8",  # the fakes are on loopback
        "CLARION_MAX_LIVE_CALLS_PER_ORGANIZATION": str(args.calls + WARM_UP_CALLS + 100),
        "CLARION_ENDPOINTING_MS": str(args.endpointing_ms),
        "CLARION_LOG_FORMAT": "text",
    }
    llm_port, speech_port, server_port = free_port(), free_port(), free_port()
    if args.twilio:  # what Twilio signs its requests over
        env["CLARION_PUBLIC_URL"] = f"http://127.0.0.1:{server_port}"
    log_path = workdir / "server.log"
    fake_llm = [sys.executable, str(BENCH / "fake_llm.py"), "--port", str(llm_port)]
    fake_speech = [
        sys.executable,
        str(BENCH / "fake_speech.py"),
        "--port",
        str(speech_port),
        "--stt-delay-ms",
        str(args.stt_delay_ms),
        "--tts-delay-ms",
        str(args.tts_delay_ms),
    ]
    sentence, first_loud, last_loud = _spoken_sentence(args.twilio)
    with (
        log_path.open("w") as log,
        running_process([*fake_llm, "--delay-ms", str(args.llm_delay_ms)]) as llm,
        running_process(fake_speech) as speech,
        running_process(
            [sys.executable, "-m", "clarion", "serve", "--port", str(server_port)],
            env=env,
            output=log,
        ) as server,
    ):
        base = f"http://127.0.0.1:{server_port}"
        speech_url = f"127.0.0.1:{speech_port}"
        wait_ready(f"{base}/v1/health")
        wait_ready(f"http://127.0.0.1:{llm_port}/")
        wait_ready(f"http://{speech_url}/stats")
        api_key = create_organization(env)
        model_url = f"127.0.0.1:{llm_port}/v1"
        post_json(f"{base}/v1/credential", api_key, _credential("openai", model_url, "http"))
        if not args.offline:
            post_json(f"{base}/v1/credential", api_key, _credential("deepgram", speech_url, "ws"))
            post_json(
                f"{base}/v1/credential", api_key, _credential("elevenlabs", speech_url, "http")
            )
        assistant_id = _assistant(base, api_key, args.offline)
        if args.twilio:
            post_json(f"{base}/v1/phone-number", api_key, phone_number(assistant_id))
        plan = Plan(
            base,
            api_key,
            assistant_id,
            sentence,
            last_loud,
            first_loud,
            args.barge_in,
            [],
            args.calls,
            args.ramp,
            args.reply_timeout,
            args.twilio,
        )
        uvloop.run(_warm_up(plan))
        time.sleep(1)  # let the warm-up calls' after-call work finish
        figures = _measure(plan, args, server.pid, [llm.pid, speech.pid])
        figures.fake_speech = _get(f"http://{speech_url}/stats")
    _print_summary(args, figures, log_path)


def _spoken_sentence(line: bool) -> tuple[list[bytes], int, int]:
    """The caller's sentence in whole 20 ms frames (the phone line's μ-law when ``line``), and
    the indexes of its first and last loud ones."""

    async def speak() -> bytes:
        voice = EspeakVoice(CALLER_VOICE)
        return b"".join([chunk async for chunk in voice.synthesize(SENTENCE)])

    pcm = asyncio.run(speak())
    if line:
        frames = line_frames(pcm)
        heard = [mulaw_decoded(frame) for frame in frames]
    else:
        pcm += b"\0" * (-len(pcm) % FRAME_BYTES)
        frames = heard = [pcm[at : at + FRAME_BYTES] for at in range(0, len(pcm), FRAME_BYTES)]
    loud = [number for number, frame in enumerate(heard) if _rms(frame) >= VOICE_FLOOR]
    return frames, loud[0], loud[-1]


def _rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples)))


def _credential(provider: str, address: str, scheme: str) -> dict[str, str]:
    return {"provider": provider, "api_key": "bench-key", "base_url": f"{scheme}://{address}"}


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        answer: dict[str, Any] = orjson.loads(response.read())
        return answer


def _assistant(base: str, api_key: str, offline: bool) -> int:
    assistant: dict[str, Any] = {
        "name": "Bench",
        "model": {
            "provider": "openai",
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": "You are brief."}],
        },
        "first_message": FIRST_MESSAGE,
        "silence_timeout_seconds": 3600,
        "max_duration_seconds": 43200,
    }
    if not offline:
        assistant["voice"] = {"provider": "11labs", "voiceId": "bench-voice"}
        assistant["transcriber"] = {"provider": "deepgram"}
    assistant_id: int = post_json(f"{base}/v1/assistant", api_key, assistant)["id"]
    return assistant_id


@dataclass
class Figures:
    """What the parent gathers for the summary."""

    joined: int
    window: tuple[float, float]
    outcome: Outcome
    rss_kb: dict[str, int]
    server_processes: int
    server_cpu: float
    server_main_cpu: float  # the server's own process, without its workers
    client_cpu: float
    fakes_cpu: float
    frames: dict[str, int]
    others_cpu: float  # every other process on the machine, over the window
    fake_speech: dict[str, Any] = field(default_factory=dict)


def _measure(
    plan: Plan, args: argparse.Namespace, server_pid: int, fake_pids: list[int]
) -> Figures:
    """Join the calls from the client processes, then run and measure the window."""
    context = multiprocessing.get_context("spawn")
    count = max(1, args.client_processes)
    clients = []
    for number in range(count):
        parent_end, child_end = context.Pipe()
        share = Plan(**{**vars(plan), "indexes": list(range(number, plan.calls, count))})
        process = context.Process(target=client_process, args=(child_end, share), daemon=True)
        process.start()
        clients.append((process, parent_end))
    try:
        rss = {"before": _family_rss_kb(server_pid)}
        joined = sum(receive_from(process, end, args.ramp + 120)[1] for process, end in clients)
        time.sleep(1.0)  # the last calls joined take their first turns
        rss["live"] = _family_rss_kb(server_pid)
        pids = [process.pid or 0 for process, _ in clients]
        health = _get(f"{plan.base}/v1/health")["calls"]
        family = _family(server_pid)
        cpu = {pid: _cpu_seconds(pid) for pid in (*family, *fake_pids, *pids)}
        machine = _machine_busy_seconds()
        start = time.monotonic()
        time.sleep(args.duration)
        end = time.monotonic()
        machine = _machine_busy_seconds() - machine
        used = {pid: _cpu_seconds(pid) - cpu.get(pid, 0.0) for pid in {*cpu, *_family(server_pid)}}
        health_after = _get(f"{plan.base}/v1/health")["calls"]
        rss["end"] = _family_rss_kb(server_pid)
        for _, connection in clients:
            connection.send("stop")
        outcome = Outcome(joined)
        for process, connection in clients:
            part: Outcome = receive_from(process, connection, args.reply_timeout + 120)
            outcome.turns += part.turns
            outcome.playbacks += part.playbacks
            outcome.failures += part.failures
            outcome.mic_late += part.mic_late
            outcome.clears += part.clears
            outcome.barge_ins += part.barge_ins
            outcome.hangup_failures += part.hangup_failures
            process.join(30)
    finally:
        for process, _ in clients:
            if process.is_alive():
                process.terminate()
    server_family = _family(server_pid) | family
    ours = sum(used.get(pid, 0.0) for pid in {*server_family, *pids, *fake_pids})
    frames = {
        name: health_after[f"audio_frames_{name}"] - health[f"audio_frames_{name}"]
        for name in ("sent", "late")
    }
    return Figures(
        joined,
        (start, end),
        outcome,
        rss,
        len(family),
        sum(used.get(pid, 0.0) for pid in server_family),
        used[server_pid],
        sum(used[pid] for pid in pids),
        sum(used[pid] for pid in fake_pids),
        frames,
        max(0.0, machine - ours),
    )


def _family(pid: int) -> set[int]:
    """The process and all its descendants (the server's recognizer workers, say)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat_fields(int(entry.name))
            except OSError:
                continue  # gone meanwhile
            parents[int(entry.name)] = int(fields[1])
    family = {pid}
    grown = True
    while grown:
        children = {child for child, parent in parents.items() if parent in family}
        grown = not children <= family
        family |= children
    return family


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the name (state first)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()  # the name, in parentheses, may hold spaces


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of the process, all its threads (0 once it has gone)."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent busy (not idle, not waiting on IO)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


def _family_rss_kb(pid: int) -> int:
    total = 0
    for member in _family(pid):
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1]) * PAGE_KB
        except OSError:
            continue
    return total


def _print_summary(args: argparse.Namespace, figures: Figures, log_path: Path) -> None:
    outcome = figures.outcome
    start, end = figures.window
    inside = [turn for turn in outcome.turns if start <= turn.spoken < end]
    heard = sorted(turn.first_audio - turn.spoken for turn in inside if turn.first_audio > 0)
    completed = sum(1 for turn in outcome.turns if start <= turn.replied < end)
    # Offline the whole wait is shown: recognizing the sentence is part of it.
    taken = 0.0
    if not args.offline:
        delays = args.stt_delay_ms + args.llm_delay_ms + args.tts_delay_ms
        taken = (args.endpointing_ms + delays) / 1000
    added = [1000 * (seconds - taken) for seconds in heard]
    ms = {name: percentile(added, share) for name, share in PERCENTILES.items()}
    playbacks = [playback for playback in outcome.playbacks if start <= playback.began < end]
    ahead = max((playback.ahead for playback in playbacks), default=math.nan)
    gaps = sum(playback.gaps for playback in playbacks)
    worst_gap = max((playback.worst_gap for playback in playbacks), default=0.0)
    failures = Counter(kind for at, kind in outcome.failures if start <= at < end)
    outside = Counter(kind for at, kind in outcome.failures if not start <= at < end)
    mic_late = [lag for at, lag in outcome.mic_late if start <= at < end]
    clears = sum(1 for at in outcome.clears if start <= at < end)
    joined = max(1, figures.joined)
    core_per_call = figures.server_cpu / args.duration / joined
    rss = {name: kb / 1024 for name, kb in figures.rss_kb.items()}
    per_call_kb = (figures.rss_kb["live"] - figures.rss_kb["before"]) / joined
    mode = "offline (espeak, local transcriber)" if args.offline else "stand-ins"
    mode = f"twilio phone calls, {mode}" if args.twilio else mode
    what = "end of speech to first audio" if args.offline else "added latency"
    print(
        f"voice calls={args.calls} joined={figures.joined} {mode} duration={args.duration:g}s "
        f"db={'postgresql' if args.postgres else 'sqlite'} "
        f"client-processes={args.client_processes} | turns={completed} | "
        f"{what} p50={ms['p50']:.1f}ms p99={ms['p99']:.1f}ms max={ms['max']:.1f}ms | "
        f"late frames={figures.frames['late']} of {figures.frames['sent']} | "
        f"server cpu={100 * figures.server_cpu / args.duration:.0f}% of a core, "
        f"{100 * core_per_call:.2f}% per call, one core holds {1 / core_per_call:.0f} calls | "
        f"rss before={rss['before']:.1f} MB, live={rss['live']:.1f} MB, "
        f"per call={per_call_kb:.0f} KB, end={rss['end']:.1f} MB | "
        f"failures={sum(failures.values())}"
    )
    if args.offline:
        fixed = args.endpointing_ms + args.llm_delay_ms
        print(
            f"  the time is the whole wait from the caller's last loud frame to the reply's "
            f"first frame: {args.endpointing_ms} ms of endpointing silence, recognizing the "
            "sentence (pocketsphinx, in the server's workers), the model's "
            f"{args.llm_delay_ms:g} ms and espeak; less the endpointing and the model, "
            f"p50={ms['p50'] - fixed:.0f}ms p99={ms['p99'] - fixed:.0f}ms"
        )
    else:
        print(
            f"  added latency: from the caller's last loud frame leaving to the reply's first "
            f"frame arriving, less {args.endpointing_ms} ms of endpointing and the fakes' delays "
            f"(stt {args.stt_delay_ms:g} + model {args.llm_delay_ms:g} + tts "
            f"{args.tts_delay_ms:g} ms); the fakes answered later than their delays by "
            f"{_lag(figures.fake_speech, 'finalize')} (stt) and "
            f"{_lag(figures.fake_speech, 'speech')} (tts)"
        )
    print(
        f"  {len(heard)} of {len(inside)} sentences ended in the window were answered with "
        f"audio; callers' players: audio at most {1000 * ahead:.0f} ms ahead of real time, "
        f"{gaps} gaps over {1000 * LATE_SECONDS:g} ms (worst {1000 * worst_gap:.0f} ms), "
        f"{clears} clear frames"
    )
    print(
        f"  server: {figures.server_processes} process(es) with its workers, its own "
        f"{100 * figures.server_main_cpu / args.duration:.0f}% of a core | clients: cpu "
        f"{100 * figures.client_cpu / args.duration:.0f}% of a core over "
        f"{args.client_processes} process(es), microphone frames over "
        f"{1000 * MIC_LATE_SECONDS:g} ms late: {len(mic_late)}"
        + (f" (max {1000 * max(mic_late):.0f} ms)" if mic_late else "")
        + f" | fakes: cpu {100 * figures.fakes_cpu / args.duration:.0f}% of a core"
    )
    print(
        f"  machine: {os.cpu_count()} cores; other processes than the benchmark's took "
        f"{100 * figures.others_cpu / args.duration:.0f}% of a core in the window (a busy "
        "machine delays the server, the callers and the fakes alike)"
    )
    if args.barge_in:
        barged = sorted(1000 * took for at, took in outcome.barge_ins if start <= at < end)
        print(
            f"  barge-in: {len(barged)} clears, from the first loud frame of speech over a "
            f"reply leaving to its clear arriving p50={percentile(barged, 0.5):.0f}ms "
            f"p99={percentile(barged, 0.99):.0f}ms max={percentile(barged, 1.0):.0f}ms "
            "(the turn detector waits for 200 ms of voice)"
        )
    for kind, number in failures.most_common():
        print(f"  failure: {kind}: {number}")
    for kind, number in (outside + outcome.hangup_failures).most_common():
        print(f"  outside the window: {kind}: {number}")
    problems = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if "WARNING" in line or "ERROR" in line or "Traceback" in line
    ]
    if problems:
        print(f"  server log: {len(problems)} warning or error lines, the first:")
        for line in problems[:5]:
            print(f"    {line[:200]}")
    sys.stdout.flush()


def _lag(stats: dict[str, Any], name: str) -> str:
    lags = stats.get(f"{name}_lag_ms") or {}
    return f"p50 {lags.get('p50', math.nan)} ms, p99 {lags.get('p99', math.nan)} ms"


PERCENTILES = {"p50": 0.50, "p99": 0.99, "max": 1.0}


if __name__ == "__main__":
    main()
