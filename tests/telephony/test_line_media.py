"""The phone line's audio and Twilio's media stream messages.

The μ-law tables are checked against G.711's defining values and, where this Python still has
it, against audioop's reference codec; real speech (espeak-ng) is sent down the line and back
and is still heard, by ear-like measure and by pocketsphinx."""

from __future__ import annotations

import asyncio
import base64
import importlib
import warnings
from types import ModuleType

import numpy as np
import orjson
import pytest

from clarion.speech.audio import FRAME_BYTES, SAMPLE_RATE, Resampler, duration_ms, resampled
from clarion.speech.voices import EspeakVoice
from clarion.telephony.media import (
    LINE_FRAME_BYTES,
    LINE_QUALITY,
    LINE_RATE,
    Connected,
    Dtmf,
    LineDecoder,
    LineEncoder,
    MalformedMessage,
    Mark,
    Media,
    Start,
    Stop,
    clear_message,
    from_line,
    mark_message,
    media_message,
    mulaw_decoded,
    mulaw_encoded,
    parsed,
    to_line,
)
from voice_support import heard_most_of

# Of the sentences tried, the one pocketsphinx's 16 kHz model hears best once the line has
# cut it to telephone bandwidth; others lose more words to the band than to the codec.
SENTENCE = "can you call me back later today"
EVERY_SAMPLE = np.arange(-32768, 32768, dtype="<i2").tobytes()


@pytest.fixture(scope="module")
def speech() -> bytes:
    async def spoken() -> bytes:
        return b"".join([chunk async for chunk in EspeakVoice().synthesize(SENTENCE)])

    return asyncio.run(spoken())


def audioop() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return importlib.import_module("audioop")
        except ImportError:
            pytest.skip("this Python has no audioop to compare with")


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def snr_db(original: bytes, copy: bytes) -> float:
    """How far above the difference between them ``original`` stands, in decibels."""
    a, b = samples(original), samples(copy)
    n = min(len(a), len(b))
    return float(10 * np.log10(np.sum(a[:n] ** 2) / np.sum((a[:n] - b[:n]) ** 2)))


# The codec


def test_mulaw_has_g711s_defining_values() -> None:
    assert mulaw_encoded(np.array([0], dtype="<i2").tobytes()) == b"\xff"
    loudest = np.frombuffer(mulaw_decoded(bytes([0x00, 0x80, 0x7F, 0xFF])), dtype="<i2")
    assert loudest.tolist() == [-32124, 32124, 0, 0]
    # Every code but the second zero (0x7F, "negative zero") survives decoding and encoding.
    codes = bytes(code for code in range(256) if code != 0x7F)
    assert mulaw_encoded(mulaw_decoded(codes)) == codes


def test_mulaw_agrees_with_the_reference_codec_on_every_sample() -> None:
    reference = audioop()
    assert mulaw_encoded(EVERY_SAMPLE) == reference.lin2ulaw(EVERY_SAMPLE, 2)
    assert mulaw_decoded(bytes(range(256))) == reference.ulaw2lin(bytes(range(256)), 2)


def test_speech_comes_back_from_mulaw_close_to_itself(speech: bytes) -> None:
    assert snr_db(speech, mulaw_decoded(mulaw_encoded(speech))) > 30


def test_speech_down_the_line_and_back_is_still_heard(speech: bytes) -> None:
    assert heard_most_of(SENTENCE, speech)  # as spoken, for comparison
    back = from_line(to_line(speech))
    assert abs(duration_ms(back) - duration_ms(speech)) < 1
    assert heard_most_of(SENTENCE, back)


def test_a_stream_through_the_line_matches_the_whole_piece(speech: bytes) -> None:
    encoder, decoder = LineEncoder(), LineDecoder()
    frames: list[bytes] = []
    for start in range(0, len(speech), 1234):  # chunks that end mid-sample and mid-frame
        frames += encoder.feed(speech[start : start + 1234])
    frames += encoder.feed(b"", last=True)
    assert {len(frame) for frame in frames} == {LINE_FRAME_BYTES}
    # Whole frames of the 8 kHz audio, the last padded with silence.
    assert len(frames) == -(-len(speech) // 4 // LINE_FRAME_BYTES)
    # The same audio as the whole piece converted at once: no clicks at the seams.
    whole = to_line(speech)
    streamed = b"".join(frames)
    assert snr_db(mulaw_decoded(whole), mulaw_decoded(streamed[: len(whole)])) > 40
    raised = [decoder.feed(frame) for frame in frames]
    # Each 20 ms payload is 20 ms of PCM at once: a turn's last frame is not held back.
    assert {len(pcm) for pcm in raised} == {FRAME_BYTES}
    back = b"".join(raised) + decoder.feed(b"", last=True)
    # Raised as a live call raises it (quick): the same as the whole piece raised that way,
    # behind the few samples of silence that align the frames.
    quick = resampled(mulaw_decoded(whole), LINE_RATE, SAMPLE_RATE, LINE_QUALITY)
    held_back = Resampler(LINE_RATE, SAMPLE_RATE, LINE_QUALITY).feed(mulaw_decoded(frames[0]))
    silence = FRAME_BYTES - len(held_back)
    assert 0 < silence < 20 and not any(back[:silence])
    assert snr_db(quick, back[silence:]) > 40
    assert heard_most_of(SENTENCE, back)


# Twilio's messages, as its documentation shows them


def test_the_messages_twilio_sends() -> None:
    assert parsed('{"event": "connected", "protocol": "Call", "version": "1.0.0"}') == Connected(
        "Call", "1.0.0"
    )
    start = parsed(
        orjson.dumps(
            {
                "event": "start",
                "sequenceNumber": "1",
                "start": {
                    "accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                    "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                    "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": {"token": "tok-1", "FirstName": "Jane"},
                },
                "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            }
        )
    )
    assert isinstance(start, Start)
    assert start.stream_sid.startswith("MZ") and start.call_sid.startswith("CA")
    assert start.custom_parameters == {"token": "tok-1", "FirstName": "Jane"}
    assert (start.media_format.encoding, start.media_format.sample_rate) == ("audio/x-mulaw", 8000)
    assert start.tracks == ("inbound",)

    audio = bytes(range(160))
    media = parsed(
        orjson.dumps(
            {
                "event": "media",
                "sequenceNumber": "3",
                "media": {
                    "track": "inbound",
                    "chunk": "1",
                    "timestamp": "5",
                    "payload": base64.b64encode(audio).decode(),
                },
                "streamSid": "MZ1",
            }
        )
    )
    assert media == Media("MZ1", audio, "inbound", 1, 5)
    mark = '{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"my label"}}'
    assert parsed(mark) == Mark("MZ1", "my label")
    dtmf = '{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5",'
    dtmf += '"dtmf":{"track":"inbound_track","digit":"1"}}'
    assert parsed(dtmf) == Dtmf("MZ1", "1", "inbound_track")
    stop = '{"event":"stop","sequenceNumber":"5","streamSid":"MZ1",'
    stop += '"stop":{"accountSid":"AC1","callSid":"CA1"}}'
    assert parsed(stop) == Stop("MZ1", "CA1", "AC1")


def test_an_event_twilio_may_add_is_passed_over() -> None:
    assert parsed('{"event": "something-new", "streamSid": "MZ1"}') is None


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        '{"streamSid": "MZ1"}',
        '{"event": "media", "streamSid": "MZ1"}',
        '{"event": "media", "streamSid": "MZ1", "media": {"payload": "%%%", "chunk": "1",'
        ' "timestamp": "0"}}',
        '{"event": "media", "streamSid": "MZ1", "media": {"payload": "AAAA", "chunk": "one",'
        ' "timestamp": "0"}}',
        '{"event": "start", "start": {"streamSid": "MZ1"}}',
        '{"event": "mark", "streamSid": "MZ1", "mark": {}}',
    ],
)
def test_a_malformed_message_is_refused_without_quoting_it(message: str) -> None:
    with pytest.raises(MalformedMessage) as raised:
        parsed(message)
    assert "%%%" not in str(raised.value) and "AAAA" not in str(raised.value)


def test_the_messages_clarion_sends() -> None:
    audio = bytes([0xFF]) * LINE_FRAME_BYTES
    assert orjson.loads(media_message("MZ1", audio)) == {
        "event": "media",
        "streamSid": "MZ1",
        "media": {"payload": base64.b64encode(audio).decode()},
    }
    assert orjson.loads(mark_message("MZ1", 'reply "1"')) == {
        "event": "mark",
        "streamSid": "MZ1",
        "mark": {"name": 'reply "1"'},
    }
    assert orjson.loads(clear_message("MZ1")) == {"event": "clear", "streamSid": "MZ1"}
