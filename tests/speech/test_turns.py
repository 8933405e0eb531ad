"""Where a person's turns begin and end, read from real audio: espeak-ng speech, a noise
burst, silence."""

from __future__ import annotations

import asyncio

from clarion.speech.audio import FRAME_BYTES
from clarion.speech.turns import (
    Blip,
    Paused,
    SoundBegan,
    TurnDetector,
    TurnEnded,
    TurnEvent,
    UtteranceAudio,
)
from clarion.speech.voices import EspeakVoice
from voice_support import noise_burst

SECOND = 32_000  # bytes of 16 kHz 16-bit audio


def spoken(text: str) -> bytes:
    async def speak() -> bytes:
        return b"".join([chunk async for chunk in EspeakVoice().synthesize(text)])

    return asyncio.run(speak())


def kinds(events: list[TurnEvent]) -> list[str]:
    return [type(e).__name__ for e in events if not isinstance(e, UtteranceAudio)]


def test_a_sentence_is_one_turn_ending_after_the_endpointing_silence() -> None:
    detector = TurnDetector(endpointing_ms=700)
    speech = spoken("I would like to book an appointment for tomorrow morning.")
    events = detector.push(bytes(SECOND // 2))
    events += detector.push(speech)
    assert kinds(events) == ["SoundBegan", "SpeechBegan"]
    began = next(e for e in events if isinstance(e, SoundBegan))
    assert 0 < len(began.pre_roll) <= 300 * 32  # at most 300 ms from before the sound
    ended: list[TurnEvent] = []
    while not any(isinstance(e, TurnEnded) for e in ended):
        ended += detector.push(bytes(FRAME_BYTES))
    assert kinds(ended) == ["Paused", "TurnEnded"]
    turn = next(e for e in ended if isinstance(e, TurnEnded))
    # Over once 700 ms have passed since the last voiced frame, not before.
    assert detector.samples - turn.ended == 700 * 16
    # The turn spans the speech: from its first voiced frame to its last, in samples.
    assert turn.began >= 16_000 // 2 - 320
    assert 0.8 * len(speech) / 2 <= turn.ended - turn.began <= len(speech) / 2 + 320


def test_audio_arrives_in_frames_of_any_length() -> None:
    speech = bytes(SECOND // 4) + spoken("Thank you, goodbye.") + bytes(SECOND)
    whole = TurnDetector(700).push(speech)
    pieces: list[TurnEvent] = []
    detector = TurnDetector(700)
    for at in range(0, len(speech), 998):  # 499 samples at a time
        pieces += detector.push(speech[at : at + 998])
    assert kinds(pieces) == kinds(whole) == ["SoundBegan", "SpeechBegan", "Paused", "TurnEnded"]
    assert b"".join(e.pcm for e in pieces if isinstance(e, UtteranceAudio)) == b"".join(
        e.pcm for e in whole if isinstance(e, UtteranceAudio)
    )


def test_a_burst_shorter_than_speech_is_a_blip() -> None:
    detector = TurnDetector(700)
    events = detector.push(bytes(FRAME_BYTES * 10) + noise_burst(150) + bytes(SECOND))
    # The VAD keeps saying "speech" for a while after the burst: that tail is not counted.
    assert kinds(events) == ["SoundBegan", "Blip"]
    assert not detector.hearing_speech


def test_a_longer_sound_is_speech() -> None:
    events = TurnDetector(700).push(noise_burst(400) + bytes(SECOND))
    assert [k for k in kinds(events) if k != "Paused"] == ["SoundBegan", "SpeechBegan", "TurnEnded"]


def test_no_pause_is_told_when_the_turn_ends_first() -> None:
    events = TurnDetector(endpointing_ms=200).push(noise_burst(400) + bytes(SECOND))
    assert not any(isinstance(e, Paused | Blip) for e in events)
    assert kinds(events)[-1] == "TurnEnded"


def test_silence_is_nothing() -> None:
    assert TurnDetector(700).push(bytes(SECOND * 3)) == []
