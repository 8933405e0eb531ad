"""Twilio Media Streams: the messages of a call's WebSocket and the audio they carry.

Twilio sends ``connected``, then ``start`` (the stream's and call's SIDs, the custom
parameters of the TwiML's ``<Stream>``, the media format), then the caller's audio as ``media``
messages of 20 ms each, ``dtmf`` for keys pressed, ``mark`` when audio sent to it has played
(or was cleared), and ``stop`` when the call ends. The server sends ``media`` to be played,
``mark`` to learn when the audio before it has played, and ``clear`` to drop what has not.

The audio on the line is G.711 μ-law at 8,000 Hz, base64 in the messages; the rest of clarion
speaks 16-bit PCM at 16,000 Hz. The converters here carry their resampler's state from one
chunk to the next, so a stream is converted without clicks at the seams.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from clarion.speech.audio import SAMPLE_RATE, Resampler, resampled

LINE_RATE = 8_000
LINE_FRAME_MS = 20
LINE_FRAME_BYTES = LINE_RATE * LINE_FRAME_MS // 1000  # one μ-law byte per sample: 160
MULAW_SILENCE = 0xFF  # μ-law's code for zero
# A live call's audio is raised from the line's rate with soxr's quick cubic resampling: its
# better qualities hold a stream back in blocks of about 100 ms, and the end of the caller's
# turn would be heard that much later (bench/voice.py --twilio measures it). A whole piece
# (from_line) keeps the best quality, and so does the voice going down to the line: it comes
# faster than real time, so the blocks cost no wait there.
LINE_QUALITY = "QQ"


# G.711 μ-law, as in the ITU's and Sun's reference code: the 16-bit sample is taken to
# 14 bits, biased, and coded as a sign, a 3-bit segment and a 4-bit step within it, all
# inverted. Both directions are tables, so converting a frame is one lookup per sample.
def _encode_table() -> np.ndarray[Any, np.dtype[np.uint8]]:
    samples = np.arange(-32768, 32768, dtype=np.int32)
    value = samples >> 2
    mask = np.where(value < 0, 0x7F, 0xFF)
    value = np.minimum(np.abs(value), 8159) + 0x21
    segment_ends = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    segment = np.searchsorted(segment_ends, value)
    step = (value >> (segment + 1)) & 0x0F
    code = np.where(segment < 8, (segment << 4) | step, 0x7F)  # past the last: the loudest
    codes: np.ndarray[Any, np.dtype[np.uint8]] = (code ^ mask).astype(np.uint8)
    return codes


def _decode_table() -> np.ndarray[Any, np.dtype[np.int16]]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return np.where(code & 0x80, 0x84 - magnitude, magnitude - 0x84).astype(np.int16)


_ENCODE = _encode_table()  # indexed by sample + 32768
_DECODE = _decode_table()  # indexed by code


def mulaw_encoded(pcm: bytes) -> bytes:
    """16-bit PCM as μ-law, sample for sample (the rate is unchanged)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int32)
    return bytes(_ENCODE[samples + 32768].tobytes())


def mulaw_decoded(mulaw: bytes) -> bytes:
    """μ-law as 16-bit PCM, sample for sample (the rate is unchanged)."""
    codes = np.frombuffer(mulaw, dtype=np.uint8)
    return bytes(_DECODE[codes].astype("<i2").tobytes())


def to_line(pcm: bytes) -> bytes:
    """A whole piece of 16 kHz PCM as the line's 8 kHz μ-law."""
    return mulaw_encoded(resampled(pcm, SAMPLE_RATE, LINE_RATE))


def from_line(mulaw: bytes) -> bytes:
    """A whole piece of the line's 8 kHz μ-law as 16 kHz PCM."""
    return resampled(mulaw_decoded(mulaw), LINE_RATE, SAMPLE_RATE)


class LineEncoder:
    """A stream of 16 kHz PCM chunks as the line's μ-law, handed out in whole 20 ms frames."""

    def __init__(self) -> None:
        self._resampler = Resampler(SAMPLE_RATE, LINE_RATE)
        self._pending = bytearray()

    def feed(self, pcm: bytes, last: bool = False) -> list[bytes]:
        """The frames ``pcm`` completes; ``last`` also flushes the rest, padded with silence."""
        self._pending += mulaw_encoded(self._resampler.feed(pcm, last=last))
        whole = len(self._pending) // LINE_FRAME_BYTES * LINE_FRAME_BYTES
        if last and len(self._pending) > whole:
            whole += LINE_FRAME_BYTES
            self._pending += bytes([MULAW_SILENCE]) * (whole - len(self._pending))
        frames = [
            bytes(self._pending[start : start + LINE_FRAME_BYTES])
            for start in range(0, whole, LINE_FRAME_BYTES)
        ]
        del self._pending[:whole]
        return frames


class LineDecoder:
    """A stream of the line's μ-law payloads as 16 kHz PCM."""

    def __init__(self) -> None:
        self._resampler = Resampler(LINE_RATE, SAMPLE_RATE, LINE_QUALITY)
        self._aligned = False

    def feed(self, mulaw: bytes, last: bool = False) -> bytes:
        """The PCM of ``mulaw``, as long as it (20 ms of the line: 20 ms of PCM); ``last``
        flushes what the resampler holds back."""
        pcm = self._resampler.feed(mulaw_decoded(mulaw), last=last)
        if not self._aligned and pcm:
            # The filter holds back a few samples of the first payload. Silence in their
            # place makes every payload one whole frame for the turn detector, so the last
            # frame of speech is heard as it arrives, not 20 ms later with the next payload.
            self._aligned = True
            pcm = bytes(max(0, len(mulaw) * 4 - len(pcm))) + pcm
        return pcm


# Twilio's messages


class MalformedMessage(ValueError):
    """A message that is not Twilio's: not JSON, or missing what its event must carry. The
    text says which event and field, never the message's contents."""


@dataclass(frozen=True)
class Connected:
    """The stream's WebSocket is open."""

    protocol: str
    version: str


@dataclass(frozen=True)
class MediaFormat:
    """The audio's encoding (``audio/x-mulaw``), rate and channels."""

    encoding: str
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class Start:
    """The stream has started: which call it belongs to and what its ``<Stream>`` carried."""

    stream_sid: str
    call_sid: str
    account_sid: str
    custom_parameters: dict[str, str]
    media_format: MediaFormat
    tracks: tuple[str, ...] = field(default=("inbound",))


@dataclass(frozen=True)
class Media:
    """A piece of the caller's audio (μ-law, decoded from base64)."""

    stream_sid: str
    payload: bytes
    track: str
    chunk: int
    timestamp: int  # milliseconds since the stream started


@dataclass(frozen=True)
class Mark:
    """The audio sent before the mark ``name`` has played, or was cleared."""

    stream_sid: str
    name: str


@dataclass(frozen=True)
class Dtmf:
    """The caller pressed a key."""

    stream_sid: str
    digit: str
    track: str


@dataclass(frozen=True)
class Stop:
    """The stream has ended: the call hung up, or its TwiML moved on."""

    stream_sid: str
    call_sid: str
    account_sid: str


StreamEvent = Connected | Start | Media | Mark | Dtmf | Stop


def parsed(message: str | bytes) -> StreamEvent | None:
    """The event a message from Twilio carries; None for an event this module does not know,
    as Twilio may add some."""
    try:
        document = orjson.loads(message)
    except orjson.JSONDecodeError:
        raise MalformedMessage("a message that is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedMessage("a message that is not a JSON object")
    event = document.get("event")
    if event == "connected":
        return Connected(_text(document, "protocol", event), _text(document, "version", event))
    if event == "start":
        return _start(document)
    if event == "media":
        media = _object(document, "media")
        try:
            payload = base64.b64decode(_text(media, "payload", event), validate=True)
        except binascii.Error:
            raise MalformedMessage("media: a payload that is not base64") from None
        return Media(
            _text(document, "streamSid", event),
            payload,
            str(media.get("track", "inbound")),
            _number(media, "chunk", event),
            _number(media, "timestamp", event),
        )
    if event == "mark":
        mark = _object(document, "mark")
        return Mark(_text(document, "streamSid", event), _text(mark, "name", event))
    if event == "dtmf":
        dtmf = _object(document, "dtmf")
        return Dtmf(
            _text(document, "streamSid", event),
            _text(dtmf, "digit", event),
            str(dtmf.get("track", "inbound_track")),
        )
    if event == "stop":
        stop = _object(document, "stop")
        return Stop(
            _text(document, "streamSid", event),
            _text(stop, "callSid", event),
            _text(stop, "accountSid", event),
        )
    if not isinstance(event, str):
        raise MalformedMessage("a message with no event")
    return None


def media_message(stream_sid: str, mulaw: bytes) -> str:
    """Audio for Twilio to play: μ-law at 8 kHz, a 20 ms frame (:data:`LINE_FRAME_BYTES`)."""
    payload = base64.b64encode(mulaw).decode("ascii")
    return _json({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark_message(stream_sid: str, name: str) -> str:
    """Ask Twilio to send ``name`` back once the audio sent before it has played."""
    return _json({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    """Drop the audio Twilio has not played yet; it sends back the marks that were waiting."""
    return _json({"event": "clear", "streamSid": stream_sid})


def _start(document: dict[str, Any]) -> Start:
    start = _object(document, "start")
    parameters = start.get("customParameters") or {}
    if not isinstance(parameters, dict):
        raise MalformedMessage("start: customParameters that are not an object")
    form = start.get("mediaFormat") or {}
    if not isinstance(form, dict):
        raise MalformedMessage("start: a mediaFormat that is not an object")
    tracks = start.get("tracks") or ["inbound"]
    return Start(
        stream_sid=_text(start, "streamSid", "start"),
        call_sid=_text(start, "callSid", "start"),
        account_sid=str(start.get("accountSid", "")),
        custom_parameters={str(name): str(value) for name, value in parameters.items()},
        media_format=MediaFormat(
            str(form.get("encoding", "audio/x-mulaw")),
            _number(form, "sampleRate", "start", default=LINE_RATE),
            _number(form, "channels", "start", default=1),
        ),
        tracks=tuple(str(track) for track in tracks) if isinstance(tracks, list) else ("inbound",),
    )


def _object(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise MalformedMessage(f"{document.get('event')}: no {name} object")
    return value


def _text(document: dict[str, Any], name: str, event: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise MalformedMessage(f"{event}: no {name}")
    return value


def _number(document: dict[str, Any], name: str, event: str, default: int | None = None) -> int:
    """A number Twilio may send as a JSON number or, as it does for most, a string."""
    value = document.get(name, default)
    if isinstance(value, bool):
        raise MalformedMessage(f"{event}: {name} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise MalformedMessage(f"{event}: {name} is not a number")


def _json(document: dict[str, Any]) -> str:
    return orjson.dumps(document).decode()
