"""The voices, heard as a person would hear them: loud enough, and in words a recognizer
gets back. ElevenLabs and OpenAI are reached over real HTTP on the fake voices; espeak-ng
speaks for real."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from clarion.speech.audio import duration_ms
from clarion.speech.errors import SpeechError
from clarion.speech.voices import VOICE_PROVIDERS, ElevenLabsVoice, EspeakVoice, OpenAIVoice
from clarion.speech.voices import espeak as espeak_module
from fake_voices import PROVIDER_WORDS, FakeVoices, running_fake_voices
from voice_support import heard_most_of, recognized

KEY = "sk-voice-test-5c2e9a"
# Of the sentences tried, one the recognizer gets back from espeak-ng's varying voice every time.
SENTENCE = "the doctor will call you back tomorrow afternoon"
REMINDER = "Please remember to bring your insurance card and your medicines. "
LONG_TEXT = REMINDER * 30  # minutes of speech

T = TypeVar("T")


@pytest.fixture
def fake() -> Iterator[FakeVoices]:
    with running_fake_voices() as running:
        running.api_key = KEY
        yield running


def rms_level(pcm: bytes, tmp_path: Path) -> float:
    """The audio's RMS amplitude (0 to 1) as sox measures it."""
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    path = tmp_path / "speech.raw"
    path.write_bytes(pcm)
    command = ["sox", "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1"]
    stat = subprocess.run([*command, str(path), "-n", "stat"], capture_output=True, text=True)
    match = re.search(r"RMS\s+amplitude:\s+([\d.]+)", stat.stderr)
    assert match, stat.stderr
    return float(match.group(1))


def run(scenario: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
    """``scenario`` on a fresh loop with a fresh session, as a call's engine would run it."""

    async def main() -> T:
        async with aiohttp.ClientSession() as session:
            return await scenario(session)

    return asyncio.run(main())


def spoken(make: Callable[[aiohttp.ClientSession], Any], text: str = SENTENCE) -> list[bytes]:
    """Every chunk of ``text`` spoken by the voice ``make`` builds."""

    async def scenario(session: aiohttp.ClientSession) -> list[bytes]:
        return [chunk async for chunk in make(session).synthesize(text)]

    return run(scenario)


def elevenlabs(
    fake: FakeVoices, model_id: str | None = None, idle_seconds: float = 10.0
) -> Callable[[aiohttp.ClientSession], ElevenLabsVoice]:
    return lambda session: ElevenLabsVoice(
        session, KEY, fake.elevenlabs_url, "voice-7", model_id, idle_seconds=idle_seconds
    )


def openai(
    fake: FakeVoices,
    voice: str | None = None,
    model: str | None = None,
    idle_seconds: float = 10.0,
) -> Callable[[aiohttp.ClientSession], OpenAIVoice]:
    return lambda session: OpenAIVoice(
        session, KEY, fake.openai_url, voice, model, idle_seconds=idle_seconds
    )


HOSTED = [elevenlabs, openai]


def test_espeak_speaks_a_sentence_a_person_can_hear(tmp_path: Path) -> None:
    chunks = spoken(lambda _session: EspeakVoice())
    pcm = b"".join(chunks)

    assert len(chunks) > 1  # streamed as it is made, not in one piece at the end
    assert all(len(chunk) % 2 == 0 for chunk in chunks)
    assert duration_ms(pcm) > 1500
    assert heard_most_of(SENTENCE, pcm), recognized(pcm)
    assert rms_level(pcm, tmp_path) > 0.03


def test_elevenlabs_speaks_through_its_stream_endpoint(fake: FakeVoices, tmp_path: Path) -> None:
    pcm = b"".join(spoken(elevenlabs(fake)))

    assert fake.last.path == "/v1/text-to-speech/voice-7/stream"
    assert fake.last.query == {"output_format": "pcm_16000"}
    assert fake.last.headers["xi-api-key"] == KEY
    assert "Authorization" not in fake.last.headers
    assert fake.last.json == {"text": SENTENCE, "model_id": "eleven_flash_v2_5"}
    assert heard_most_of(SENTENCE, pcm), recognized(pcm)
    assert rms_level(pcm, tmp_path) > 0.03


def test_elevenlabs_asks_for_the_assistants_model(fake: FakeVoices) -> None:
    spoken(elevenlabs(fake, model_id="eleven_turbo_v2_5"), "Goodbye.")

    assert fake.last.json["model_id"] == "eleven_turbo_v2_5"


def test_openai_speech_is_resampled_to_the_line_rate(fake: FakeVoices, tmp_path: Path) -> None:
    pcm = b"".join(spoken(openai(fake)))
    espeak = b"".join(spoken(lambda _session: EspeakVoice()))

    assert fake.last.path == "/v1/audio/speech"
    assert fake.last.headers["Authorization"] == f"Bearer {KEY}"
    assert fake.last.json == {
        "model": "gpt-4o-mini-tts",
        "input": SENTENCE,
        "voice": "alloy",
        "response_format": "pcm",
    }
    # The same speech, played at 16 kHz, lasts as long as it did when it was made.
    assert abs(duration_ms(pcm) - duration_ms(espeak)) < 0.02 * duration_ms(espeak)
    assert heard_most_of(SENTENCE, pcm), recognized(pcm)
    assert rms_level(pcm, tmp_path) > 0.03


def test_openai_asks_for_the_assistants_voice_and_model(fake: FakeVoices) -> None:
    spoken(openai(fake, voice="nova", model="tts-1"), "Goodbye.")

    assert (fake.last.json["voice"], fake.last.json["model"]) == ("nova", "tts-1")


@pytest.mark.parametrize("voice", HOSTED)
def test_a_wrong_key_fails_at_once_without_the_key_or_the_providers_words(
    fake: FakeVoices, voice: Callable[..., Any]
) -> None:
    fake.api_key = "the-right-key"

    with pytest.raises(SpeechError) as failure:
        spoken(voice(fake))

    assert (failure.value.status, failure.value.retryable) == (401, False)
    assert len(fake.received) == 1
    assert KEY not in str(failure.value)
    assert PROVIDER_WORDS not in str(failure.value)
    assert SENTENCE not in str(failure.value)


@pytest.mark.parametrize("voice", HOSTED)
def test_a_server_fault_is_tried_once_more(fake: FakeVoices, voice: Callable[..., Any]) -> None:
    fake.fail(503, times=2)

    with pytest.raises(SpeechError) as failure:
        spoken(voice(fake))

    assert (failure.value.status, failure.value.retryable) == (503, True)
    assert failure.value.provider in VOICE_PROVIDERS
    assert len(fake.received) == 2


@pytest.mark.parametrize("voice", HOSTED)
def test_a_passing_fault_before_any_audio_is_not_heard(
    fake: FakeVoices, voice: Callable[..., Any]
) -> None:
    fake.fail(503)

    pcm = b"".join(spoken(voice(fake)))

    assert len(fake.received) == 2
    assert heard_most_of(SENTENCE, pcm), recognized(pcm)


@pytest.mark.parametrize("voice", HOSTED)
def test_a_connection_dropped_midway_fails_without_starting_over(
    fake: FakeVoices, voice: Callable[..., Any]
) -> None:
    fake.cut_after = 3
    chunks: list[bytes] = []

    async def scenario(session: aiohttp.ClientSession) -> None:
        async for chunk in voice(fake)(session).synthesize(SENTENCE):
            chunks.append(chunk)

    with pytest.raises(SpeechError) as failure:
        run(scenario)

    assert failure.value.retryable
    assert chunks  # the person heard the start: saying it again would repeat it
    assert len(fake.received) == 1


@pytest.mark.parametrize("voice", HOSTED)
def test_a_provider_that_says_nothing_for_too_long_fails(
    fake: FakeVoices, voice: Callable[..., Any]
) -> None:
    fake.delay = 1.0

    with pytest.raises(SpeechError) as failure:
        spoken(voice(fake, idle_seconds=0.2))

    assert failure.value.retryable
    assert "no audio" in str(failure.value)
    assert len(fake.received) == 2


@pytest.mark.parametrize("voice", HOSTED)
def test_a_stream_that_stalls_after_audio_fails(
    fake: FakeVoices, voice: Callable[..., Any]
) -> None:
    fake.pace = 1.0
    chunks: list[bytes] = []

    async def scenario(session: aiohttp.ClientSession) -> None:
        async for chunk in voice(fake, idle_seconds=0.2)(session).synthesize(SENTENCE):
            chunks.append(chunk)

    with pytest.raises(SpeechError, match="no audio"):
        run(scenario)

    assert chunks
    assert len(fake.received) == 1


@pytest.mark.parametrize("voice", HOSTED)
def test_closing_early_hangs_up_at_once(fake: FakeVoices, voice: Callable[..., Any]) -> None:
    fake.pace = 0.05  # the answer takes seconds to send

    async def scenario(session: aiohttp.ClientSession) -> bool:
        audio = voice(fake)(session).synthesize(REMINDER * 5)
        assert isinstance(audio, AsyncGenerator)
        await anext(audio)
        await audio.aclose()  # the person spoke over the assistant
        # Asked while the session is open: closing it would hang up anyway.
        return await asyncio.to_thread(fake.hung_up.wait, 10)

    assert run(scenario)
    assert fake.answered == 0


@pytest.mark.parametrize("make", [*HOSTED, lambda _fake: lambda _session: EspeakVoice()])
def test_blank_text_is_silence_without_a_request(
    fake: FakeVoices, make: Callable[..., Any]
) -> None:
    assert spoken(make(fake), " \n") == []
    assert fake.received == []


def test_an_unknown_espeak_voice_fails_cleanly_and_others_still_speak() -> None:
    with pytest.raises(SpeechError) as failure:
        spoken(lambda _session: EspeakVoice("no-such-voice"))

    assert (failure.value.provider, failure.value.retryable) == ("espeak", False)
    assert spoken(lambda _session: EspeakVoice(), "Goodbye.")


def test_closing_espeak_early_stops_the_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = threading.Event()
    buffers: list[int] = []
    take = espeak_module._Job.take

    def take_after_the_close(job: Any, pcm: bytes) -> None:
        take(job, pcm)
        buffers.append(len(pcm))
        closed.wait(10)  # the next buffer is made only once the reader has gone

    monkeypatch.setattr(espeak_module._Job, "take", take_after_the_close)

    async def scenario(_session: aiohttp.ClientSession) -> None:
        audio = EspeakVoice().synthesize(LONG_TEXT)
        assert isinstance(audio, AsyncGenerator)
        await anext(audio)
        await audio.aclose()
        closed.set()
        # The worker is free once the synthesis has stopped.
        await asyncio.get_running_loop().run_in_executor(espeak_module._WORKER, lambda: None)

    run(scenario)

    assert len(buffers) == 1


def test_espeak_leaves_the_event_loop_free_while_it_speaks() -> None:
    async def scenario(_session: aiohttp.ClientSession) -> tuple[int, int]:
        ticks = 0
        speaking = True

        async def ticker() -> None:
            nonlocal ticks
            while speaking:
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        audio = EspeakVoice().synthesize(LONG_TEXT)
        first = await anext(audio)
        at_first = ticks
        async for _chunk in audio:
            pass
        speaking = False
        await ticking
        assert first
        return at_first, ticks

    at_first, at_end = run(scenario)

    # Between the first chunk and the last, the loop went on serving others.
    assert at_end > at_first


def test_the_providers_names() -> None:
    assert VOICE_PROVIDERS["11labs"] is VOICE_PROVIDERS["elevenlabs"] is ElevenLabsVoice
    assert VOICE_PROVIDERS["openai"] is OpenAIVoice
    assert VOICE_PROVIDERS["espeak"] is EspeakVoice
    assert {ElevenLabsVoice.name, OpenAIVoice.name, EspeakVoice.name} == {
        "11labs",
        "openai",
        "espeak",
    }
