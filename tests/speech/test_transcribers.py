"""The transcribers: Deepgram and OpenAI against their stand-ins over real sockets, and the
offline recognizer for real, on speech made by espeak-ng."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import pytest

from clarion.speech.audio import FRAME_BYTES, SAMPLE_BYTES, SAMPLE_RATE
from clarion.speech.errors import SpeechError
from clarion.speech.transcribers import (
    LOCAL_LANGUAGES,
    TRANSCRIBER_PROVIDERS,
    DeepgramTranscriber,
    LocalRecognizer,
    LocalTranscriber,
    OpenAITranscriber,
)
from clarion.speech.voices import EspeakVoice
from fake_transcribers import (
    API_KEY,
    OPENAI_KEY,
    DeepgramServer,
    WhisperServer,
    deepgram_server,
    whisper_server,
)

WORDS = "I would like to book an appointment"
T = TypeVar("T")


def seconds_of_audio(seconds: float) -> bytes:
    """A steady tone: the stand-ins cannot hear, so any audio does."""
    frame = bytes([0x00, 0x10, 0x00, 0xF0]) * (FRAME_BYTES // 4)
    return frame * round(seconds * 1000 / 20)


def feed_in_frames(transcriber: Any, pcm: bytes) -> None:
    for offset in range(0, len(pcm), FRAME_BYTES):
        transcriber.feed(pcm[offset : offset + FRAME_BYTES])


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``; a test that never sees it fails at the bound, not hangs."""
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


def run(scenario: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with aiohttp.ClientSession() as session:
            return await scenario(session)

    return asyncio.run(main())


def deepgram(session: aiohttp.ClientSession, server: DeepgramServer, **knobs: Any) -> Any:
    return DeepgramTranscriber(session, API_KEY, server.url, None, None, **knobs)


def test_the_providers_are_named() -> None:
    assert TRANSCRIBER_PROVIDERS == ("deepgram", "openai", "local")


# Deepgram


def test_deepgram_passes_on_interim_words_then_gives_the_final_words() -> None:
    interims: list[str] = []
    audio = seconds_of_audio(1.6)

    async def scenario(session: aiohttp.ClientSession) -> tuple[str, DeepgramServer]:
        async with deepgram_server(script=[WORDS]) as server:
            transcriber = deepgram(session, server)
            await transcriber.open(interims.append)
            transcriber.begin()
            feed_in_frames(transcriber, audio)
            await until(lambda: len(interims) == 3)
            words = await transcriber.finish()
            await transcriber.close()
            return words, server

    words, server = run(scenario)

    assert interims == ["I", "I would", "I would like"]
    assert words == WORDS
    assert server.audio_bytes == len(audio)
    assert server.finalizes == 1
    query = server.queries[0]
    assert query["model"] == "nova-3" and query["language"] == "en"
    assert query["interim_results"] == "true" and query["endpointing"] == "false"
    assert query["punctuate"] == "true"


def test_deepgram_asks_for_the_assistants_model_and_language() -> None:
    async def scenario(session: aiohttp.ClientSession) -> DeepgramServer:
        async with deepgram_server() as server:
            transcriber = DeepgramTranscriber(session, API_KEY, server.url, "nova-2-medical", "es")
            await transcriber.open(lambda _words: None)
            await transcriber.close()
            return server

    query = run(scenario).queries[0]
    assert (query["model"], query["language"]) == ("nova-2-medical", "es")


def test_deepgram_utterances_in_turn_each_get_their_own_words() -> None:
    async def scenario(session: aiohttp.ClientSession) -> list[str]:
        async with deepgram_server(script=["Hello", "Tuesday at nine works"]) as server:
            transcriber = deepgram(session, server)
            await transcriber.open(lambda _words: None)
            heard = []
            for _ in range(2):
                transcriber.begin()
                feed_in_frames(transcriber, seconds_of_audio(0.7))
                heard.append(await transcriber.finish())
            await transcriber.close()
            return heard

    assert run(scenario) == ["Hello", "Tuesday at nine works"]


def test_deepgram_a_discarded_utterance_is_flushed_and_its_words_ignored() -> None:
    interims: list[str] = []

    async def scenario(session: aiohttp.ClientSession) -> tuple[str, DeepgramServer]:
        async with deepgram_server(script=["cough", "Tuesday at nine works"]) as server:
            transcriber = deepgram(session, server)
            await transcriber.open(interims.append)
            transcriber.begin()
            feed_in_frames(transcriber, seconds_of_audio(0.3))
            transcriber.discard()
            transcriber.begin()
            feed_in_frames(transcriber, seconds_of_audio(0.6))
            words = await transcriber.finish()
            await transcriber.close()
            return words, server

    words, server = run(scenario)

    assert words == "Tuesday at nine works"
    assert server.finalizes == 2
    assert "cough" not in interims


def test_deepgram_keeps_an_idle_connection_alive() -> None:
    async def scenario(session: aiohttp.ClientSession) -> tuple[str, DeepgramServer]:
        async with deepgram_server(script=[WORDS]) as server:
            transcriber = deepgram(session, server, keepalive_seconds=0.05)
            await transcriber.open(lambda _words: None)
            await until(lambda: server.keepalives >= 3)
            assert server.audio_bytes == 0  # nothing but KeepAlive between utterances
            transcriber.begin()
            feed_in_frames(transcriber, seconds_of_audio(0.6))
            words = await transcriber.finish()
            await transcriber.close()
            return words, server

    words, server = run(scenario)

    assert words == WORDS
    assert server.controls[-1] == "CloseStream"


def test_deepgram_a_dropped_connection_is_made_again_and_the_utterance_sent_again() -> None:
    audio = seconds_of_audio(1.0)

    async def scenario(session: aiohttp.ClientSession) -> tuple[str, DeepgramServer]:
        async with deepgram_server(script=[WORDS], drop_after_frames=10) as server:
            transcriber = deepgram(session, server)
            await transcriber.open(lambda _words: None)
            transcriber.begin()
            feed_in_frames(transcriber, audio)
            await until(lambda: server.connections == 2)
            words = await transcriber.finish()
            await transcriber.close()
            return words, server

    words, server = run(scenario)

    assert words == WORDS
    assert server.connection_bytes[-1] == len(audio)  # the whole utterance, sent again


def test_deepgram_a_connection_dropped_again_before_any_answer_fails() -> None:
    async def scenario(session: aiohttp.ClientSession) -> SpeechError:
        async with deepgram_server(script=[WORDS], drop_after_frames=1, drops=2) as server:
            transcriber = deepgram(session, server)
            await transcriber.open(lambda _words: None)
            transcriber.begin()
            feed_in_frames(transcriber, seconds_of_audio(1.0))
            await until(lambda: server.connections == 2)
            with pytest.raises(SpeechError) as caught:
                await transcriber.finish()
            await transcriber.close()
            return caught.value

    error = run(scenario)

    assert error.provider == "deepgram" and error.retryable


def test_deepgram_a_refused_key_fails_cleanly() -> None:
    async def scenario(session: aiohttp.ClientSession) -> SpeechError:
        async with deepgram_server(api_key="another-key") as server:
            transcriber = deepgram(session, server)
            with pytest.raises(SpeechError) as caught:
                await transcriber.open(lambda _words: None)
            assert server.connections == 0
            return caught.value

    error = run(scenario)

    assert error.status == 401 and not error.retryable
    assert API_KEY not in str(error)


def test_deepgram_a_finalize_left_unanswered_fails_the_utterance() -> None:
    async def scenario(session: aiohttp.ClientSession) -> SpeechError:
        async with deepgram_server(script=[WORDS], answer_finalize=False) as server:
            transcriber = deepgram(session, server, finalize_seconds=0.3)
            await transcriber.open(lambda _words: None)
            transcriber.begin()
            feed_in_frames(transcriber, seconds_of_audio(0.6))
            with pytest.raises(SpeechError) as caught:
                await transcriber.finish()
            await transcriber.close()
            return caught.value

    error = run(scenario)

    assert error.provider == "deepgram"
    assert WORDS not in str(error)


def test_deepgram_an_utterance_without_audio_has_no_words() -> None:
    async def scenario(session: aiohttp.ClientSession) -> tuple[str, DeepgramServer]:
        async with deepgram_server(script=[WORDS]) as server:
            transcriber = deepgram(session, server)
            await transcriber.open(lambda _words: None)
            transcriber.begin()
            words = await transcriber.finish()
            await transcriber.close()
            return words, server

    words, server = run(scenario)

    assert words == "" and server.finalizes == 0


# OpenAI and Whisper servers


def openai(session: aiohttp.ClientSession, server: WhisperServer, **options: Any) -> Any:
    model, language = options.pop("model", None), options.pop("language", "en")
    return OpenAITranscriber(session, OPENAI_KEY, server.url, model, language, **options)


def transcribe_with_openai(
    audio: bytes, script: list[str], **knobs: Any
) -> tuple[str | SpeechError, WhisperServer]:
    """One utterance through the OpenAI transcriber: its words (or its error), and the fake."""
    options = {name: knobs.pop(name) for name in ("model", "language") if name in knobs}

    async def scenario(session: aiohttp.ClientSession) -> tuple[str | SpeechError, WhisperServer]:
        async with whisper_server(script=script, **knobs) as server:
            transcriber = openai(session, server, **options)
            await transcriber.open(lambda _words: None)
            transcriber.begin()
            feed_in_frames(transcriber, audio)
            try:
                words: str | SpeechError = await transcriber.finish()
            except SpeechError as exc:
                words = exc
            await transcriber.close()
            return words, server

    return run(scenario)


def test_openai_sends_the_utterance_as_a_wav_file() -> None:
    audio = seconds_of_audio(1.0)

    words, server = transcribe_with_openai(audio, ["I need a refill."])

    assert words == "I need a refill."
    [request] = server.received
    assert request.pcm == audio  # the fake read it as 16 kHz mono 16-bit, or refused it
    assert request.filename == "utterance.wav"
    assert (request.model, request.language, request.response_format) == ("whisper-1", "en", "json")


def test_openai_sends_the_assistants_model_and_no_language_unless_named() -> None:
    _words, server = transcribe_with_openai(
        seconds_of_audio(0.5), ["Yes."], model="large-v3", language=None
    )

    assert (server.received[0].model, server.received[0].language) == ("large-v3", None)


def test_openai_a_passing_fault_is_tried_once_more() -> None:
    words, server = transcribe_with_openai(seconds_of_audio(0.5), ["Yes."], fail_times=1)

    assert words == "Yes."
    assert server.requests == 2


def test_openai_a_fault_that_does_not_pass_fails_after_the_second_try() -> None:
    error, server = transcribe_with_openai(seconds_of_audio(0.5), ["Yes."], fail_times=2)

    assert isinstance(error, SpeechError)
    assert (error.status, error.retryable, server.requests) == (503, True, 2)


def test_openai_a_refused_request_is_not_tried_again() -> None:
    error, server = transcribe_with_openai(
        seconds_of_audio(0.5), ["Yes."], fail_times=5, fail_status=400
    )

    assert isinstance(error, SpeechError)
    assert (error.status, error.retryable, server.requests) == (400, False, 1)


def test_openai_a_wrong_key_fails_without_showing_it() -> None:
    error, _server = transcribe_with_openai(seconds_of_audio(0.5), ["Yes."], api_key="other")

    assert isinstance(error, SpeechError) and error.status == 401
    assert OPENAI_KEY not in str(error)


def test_openai_keeps_the_first_minute_of_a_longer_utterance() -> None:
    _words, server = transcribe_with_openai(seconds_of_audio(61), ["Yes."])

    assert len(server.received[0].pcm) == 60 * SAMPLE_RATE * SAMPLE_BYTES


def test_openai_a_discarded_utterance_is_never_sent() -> None:
    async def scenario(session: aiohttp.ClientSession) -> tuple[str, WhisperServer]:
        async with whisper_server(script=["cough"]) as server:
            transcriber = openai(session, server)
            transcriber.begin()
            feed_in_frames(transcriber, seconds_of_audio(0.5))
            transcriber.discard()
            return await transcriber.finish(), server

    words, server = run(scenario)

    assert words == "" and server.requests == 0


# Offline


async def spoken(text: str) -> bytes:
    voice = EspeakVoice("en-us+f5")
    return b"".join([chunk async for chunk in voice.synthesize(text)])


def test_local_recognizes_real_speech() -> None:
    sentence = "i would like to book an appointment for tomorrow morning"

    async def scenario() -> str:
        recognizer = LocalRecognizer(1)
        transcriber = LocalTranscriber(recognizer, "en-US")
        try:
            await transcriber.open(lambda _words: None)
            transcriber.begin()
            feed_in_frames(transcriber, await spoken(sentence))
            return await transcriber.finish()
        finally:
            await recognizer.close()

    heard = asyncio.run(scenario()).split()

    right = sum(word in heard for word in sentence.split())
    assert right >= 7, heard


class CountingRecognizer(LocalRecognizer):
    """The recognizer, counting the utterances it is asked to recognize."""

    asked = 0

    async def recognize(self, pcm: bytes) -> str:
        self.asked += 1
        return await super().recognize(pcm)


def test_local_words_asked_for_at_the_last_pause_are_the_turns() -> None:
    first, second = "i need to cancel", "my appointment for tomorrow morning"

    async def scenario() -> tuple[str, int]:
        recognizer = CountingRecognizer(1)
        transcriber = LocalTranscriber(recognizer)
        try:
            transcriber.begin()
            feed_in_frames(transcriber, await spoken(first))
            transcriber.pause()  # the person paused, then went on
            feed_in_frames(transcriber, await spoken(second))
            transcriber.pause()  # and paused again, for good this time
            feed_in_frames(transcriber, bytes(16_000))
            return await transcriber.finish(), recognizer.asked
        finally:
            await recognizer.close()

    words, asked = asyncio.run(scenario())

    # The words asked for at the last pause are the turn's, both parts of it, and nothing
    # more was asked at its end.
    assert asked == 2
    assert "cancel" in words.split() and "appointment" in words.split(), words


def test_local_a_worker_that_dies_is_replaced() -> None:
    sentence = "i need to cancel my appointment"

    async def scenario() -> tuple[SpeechError, str]:
        recognizer = LocalRecognizer(1)
        transcriber = LocalTranscriber(recognizer)
        audio = await spoken(sentence)
        try:
            await recognizer.start()
            kill_workers()
            with pytest.raises(SpeechError) as caught:
                await recognizer.recognize(audio)
            await recognizer.start()  # a new pool
            kill_workers()  # the transcriber tries once more, on yet another
            transcriber.begin()
            transcriber.feed(audio)
            return caught.value, await transcriber.finish()
        finally:
            await recognizer.close()

    error, heard = asyncio.run(scenario())

    assert error.provider == "local" and error.retryable
    assert "cancel" in heard.split()


def kill_workers() -> None:
    for worker in multiprocessing.active_children():
        if worker.pid is not None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(5)


def test_local_hears_english_only() -> None:
    assert {None, "en", "en-US"} <= LOCAL_LANGUAGES
    with pytest.raises(ValueError):
        LocalTranscriber(LocalRecognizer(1), "fr")


def test_local_an_utterance_without_audio_has_no_words() -> None:
    async def scenario() -> str:
        recognizer = LocalRecognizer(1)
        transcriber = LocalTranscriber(recognizer)
        transcriber.begin()
        words = await transcriber.finish()
        await recognizer.close()
        return words

    assert asyncio.run(scenario()) == ""
