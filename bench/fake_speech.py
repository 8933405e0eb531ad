"""Fake Deepgram and ElevenLabs for the voice benchmark: each answers after a fixed delay and
nothing else, so what a call's turn waits on beyond those delays is the server's own doing.

    .venv/bin/python bench/fake_speech.py --port 8200 --stt-delay-ms 50 --tts-delay-ms 50

One process serves both at their real paths: Deepgram's live WebSocket at ``/v1/listen``
(base URL ``ws://127.0.0.1:PORT``) and ElevenLabs' streamed speech at
``/v1/text-to-speech/{voice_id}/stream`` (base URL ``http://127.0.0.1:PORT``). It runs in a
process of its own, so the CPU it spends is not counted as the server's.

The Deepgram fake takes the audio, counting it on the connection's clock; it answers each
``Finalize`` that follows audio, after the STT delay, with one final result marked
``from_finalize`` that carries :data:`TRANSCRIPT` and covers all the audio since the last one
(an interim result goes out every half second of audio, as Deepgram's do). ``KeepAlive`` is
taken and ``CloseStream`` closes the connection. The ElevenLabs fake answers, after the TTS
delay, with one sentence spoken by espeak-ng at 16 kHz (made once at start, whatever the text
asked), written at once in 100 ms chunks. ``GET /stats`` tells how much later than their delays
the fakes answered (their own loop's lag, to be told apart from the server's).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time

import orjson
import uvloop
from aiohttp import web

from clarion.speech.audio import SAMPLE_BYTES, SAMPLE_RATE
from clarion.speech.voices import EspeakVoice

TRANSCRIPT = "I would like to book an appointment for tomorrow morning."
REPLY_SPOKEN = "Thursday at nine works."  # what bench/fake_llm.py answers
CHUNK_BYTES = 3_200  # 100 ms, about what ElevenLabs sends at a time
INTERIM_BYTES = SAMPLE_RATE * SAMPLE_BYTES // 2  # an interim result per half second of audio
EXPECTED_QUERY = {"encoding": "linear16", "sample_rate": "16000", "channels": "1"}


class Fakes:
    """The fakes' fixed delays, the speech they answer with, and how late they answered."""

    def __init__(self, stt_delay: float, tts_delay: float, speech: bytes) -> None:
        self.stt_delay = stt_delay
        self.tts_delay = tts_delay
        self.speech = speech
        self.finalize_lag: list[float] = []  # seconds beyond the delay, each Finalize answered
        self.speech_lag: list[float] = []  # the same, each speech's first byte
        self.finalizes = 0
        self.speeches = 0


FAKES = web.AppKey("fakes", Fakes)


async def listen(request: web.Request) -> web.StreamResponse:
    """Deepgram's live transcription, as the benchmark needs it."""
    fakes = request.app[FAKES]
    if not request.headers.get("Authorization", "").startswith("Token "):
        return web.json_response({"err_code": "INVALID_AUTH"}, status=401)
    if any(request.query.get(name) != value for name, value in EXPECTED_QUERY.items()):
        return web.json_response({"err_code": "Bad Request"}, status=400)
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    received = 0  # bytes of audio on this connection
    final_from = 0  # where the audio not yet answered begins
    next_interim = INTERIM_BYTES
    answering: set[asyncio.Task[None]] = set()
    async for message in socket:
        if message.type is web.WSMsgType.BINARY:
            received += len(message.data)
            if received - final_from >= next_interim:
                next_interim += INTERIM_BYTES
                await _result(socket, final_from, received, "i would like", final=False)
        elif message.type is web.WSMsgType.TEXT:
            kind = orjson.loads(message.data).get("type")
            if kind == "Finalize" and received > final_from:
                task = asyncio.create_task(_finalized(fakes, socket, final_from, received))
                answering.add(task)
                task.add_done_callback(answering.discard)
                final_from, next_interim = received, INTERIM_BYTES
            elif kind == "CloseStream":
                await asyncio.gather(*answering, return_exceptions=True)
                await socket.close()
    return socket


async def _finalized(fakes: Fakes, socket: web.WebSocketResponse, start: int, end: int) -> None:
    asked = time.monotonic()
    await asyncio.sleep(fakes.stt_delay)
    fakes.finalize_lag.append(time.monotonic() - asked - fakes.stt_delay)
    fakes.finalizes += 1
    await _result(socket, start, end, TRANSCRIPT, final=True)


async def _result(
    socket: web.WebSocketResponse, start: int, end: int, transcript: str, *, final: bool
) -> None:
    seconds = SAMPLE_RATE * SAMPLE_BYTES
    message = {
        "type": "Results",
        "channel_index": [0, 1],
        "start": round(start / seconds, 3),
        "duration": round((end - start) / seconds, 3),
        "is_final": final,
        "speech_final": final,
        "from_finalize": final,
        "channel": {"alternatives": [{"transcript": transcript, "confidence": 0.98}]},
    }
    if not socket.closed:
        await socket.send_str(orjson.dumps(message).decode())


async def speak(request: web.Request) -> web.StreamResponse:
    """ElevenLabs' streamed speech, raw PCM at 16 kHz."""
    fakes = request.app[FAKES]
    asked = time.monotonic()
    body = orjson.loads(await request.read())
    if not request.headers.get("xi-api-key"):
        return web.json_response({"detail": {"status": "needs_authorization"}}, status=401)
    if request.query.get("output_format") != f"pcm_{SAMPLE_RATE}" or not body.get("text"):
        return web.json_response({"detail": {"status": "invalid_request"}}, status=400)
    await asyncio.sleep(fakes.tts_delay)
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    speech = fakes.speech
    for start in range(0, len(speech), CHUNK_BYTES):
        await response.write(speech[start : start + CHUNK_BYTES])
        if not start:
            fakes.speech_lag.append(time.monotonic() - asked - fakes.tts_delay)
    await response.write_eof()
    fakes.speeches += 1
    return response


async def stats(request: web.Request) -> web.Response:
    """How many answers each fake gave, and how late beyond its delay (ms, p50 and p99)."""
    fakes = request.app[FAKES]
    return web.json_response(
        {
            "finalizes": fakes.finalizes,
            "speeches": fakes.speeches,
            "finalize_lag_ms": _percentiles(fakes.finalize_lag),
            "speech_lag_ms": _percentiles(fakes.speech_lag),
        }
    )


def _percentiles(lags: list[float]) -> dict[str, float]:
    ordered = sorted(lags)
    if not ordered:
        return {}
    at = {"p50": 0.5, "p99": 0.99, "max": 1.0}
    return {
        name: round(1000 * ordered[max(0, math.ceil(share * len(ordered)) - 1)], 1)
        for name, share in at.items()
    }


async def spoken(text: str) -> bytes:
    """``text`` said by espeak-ng: 16-bit mono PCM at 16 kHz."""
    return b"".join([chunk async for chunk in EspeakVoice().synthesize(text)])


def app(stt_delay: float, tts_delay: float, speech: bytes) -> web.Application:
    application = web.Application()
    application[FAKES] = Fakes(stt_delay, tts_delay, speech)
    application.router.add_get("/v1/listen", listen)
    application.router.add_post("/v1/text-to-speech/{voice_id}/stream", speak)
    application.router.add_get("/stats", stats)
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stt-delay-ms", type=float, default=50.0, help="before a final result")
    parser.add_argument(
        "--tts-delay-ms", type=float, default=50.0, help="before speech's first byte"
    )
    args = parser.parse_args()
    loop = uvloop.new_event_loop()
    speech = loop.run_until_complete(spoken(REPLY_SPOKEN))
    web.run_app(
        app(args.stt_delay_ms / 1000, args.tts_delay_ms / 1000, speech),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
        backlog=4096,
        loop=loop,
    )


if __name__ == "__main__":
    main()
