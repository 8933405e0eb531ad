"""Voice web calls on the paid speech providers, each reached at its real protocol by a
stand-in on loopback: Deepgram's live stream and ElevenLabs' streaming speech, OpenAI's
transcriptions and speech (as a self-hosted server would serve them); and each failing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from calls_support import failed_as, model_of
from fake_providers import Reply
from fake_transcribers import API_KEY as DEEPGRAM_KEY
from fake_transcribers import OPENAI_KEY as WHISPER_KEY
from fake_transcribers import deepgram_server_thread, whisper_server_thread
from fake_voices import FakeVoices, running_fake_voices
from voice_support import heard_most_of, join_by_voice, sox_rms, spoken

# Of the sentences tried, one the recognizer gets back from espeak-ng's varying voice every time.
GREETING = "The doctor will call you back tomorrow afternoon."
SENTENCE = "i would like to book an appointment for tomorrow morning"


@pytest.fixture
def voices() -> Iterator[FakeVoices]:
    with running_fake_voices() as fake:
        yield fake


def _assistant(api: Any, fake: Any, **fields: Any) -> dict[str, Any]:
    system = {"role": "system", "content": "You book appointments."}
    return api.assistant_on(fake, "openai", model={"messages": [system]}, **fields)


def test_deepgram_and_elevenlabs_from_join_to_report(
    served: Any, tenant: Any, fake: Any, voices: FakeVoices
) -> None:
    api = served(tenant)
    with deepgram_server_thread(script=["I need to move my appointment."]) as deepgram:
        api.credential("deepgram", deepgram.url, api_key=DEEPGRAM_KEY)
        api.credential("elevenlabs", voices.url, api_key="xi-test")
        assistant = _assistant(
            api,
            fake,
            first_message=GREETING,
            voice={"provider": "11labs", "voiceId": "rachel"},
            transcriber={"provider": "deepgram", "model": "nova-3", "language": "en"},
        )
        created = api.start_call(assistant["id"])
        fake.reply_in_turn(Reply("Of course. Which day suits you better?"))
        with join_by_voice(created["web_call_url"]) as caller:
            caller.until("call-started")
            assert caller.until("assistant-message")[-1]["text"] == GREETING
            greeting = caller.audio.pcm()
            assert sox_rms(greeting) > 0.02
            assert heard_most_of(GREETING, greeting)
            caller.say(spoken(SENTENCE))
            frames = caller.until("assistant-message")
            heard = [f for f in frames if f["type"] == "user-transcript"]
            assert any(not f["final"] for f in heard)  # Deepgram's interim words, passed on
            assert [f["text"] for f in heard if f["final"]] == ["I need to move my appointment."]
            assert frames[-1]["text"] == "Of course. Which day suits you better?"
            deltas = [f["text"] for f in frames if f["type"] == "assistant-delta"]
            assert "".join(deltas) == frames[-1]["text"]  # captions, as the model wrote it
            caller.hang_up()
            assert caller.until("call-ended")[-1]["ended_reason"] == "customer-ended"
        assert deepgram.queries[0]["model"] == "nova-3"
        assert deepgram.finalizes >= 1 and deepgram.audio_bytes > 0

    requests = [r for r in voices.received if r.api == "elevenlabs"]
    assert requests and all(r.path.endswith("/v1/text-to-speech/rachel/stream") for r in requests)
    assert all(r.query["output_format"] == "pcm_16000" for r in requests)
    assert all(r.headers["xi-api-key"] == "xi-test" for r in requests)
    assert fake.received[0].json["messages"][-1] == {
        "role": "user",
        "content": "I need to move my appointment.",
    }
    messages = api.call(created["id"])["messages"]
    assert [m["message"] for m in messages] == [
        GREETING,
        "I need to move my appointment.",
        "Of course. Which day suits you better?",
    ]


def test_openai_compatible_transcriptions_and_speech(
    served: Any, tenant: Any, fake: Any, voices: FakeVoices
) -> None:
    api = served(tenant)
    with whisper_server_thread(script=["Can I come on Friday instead?"]) as whisper:
        # The model, the voice and the transcriber are each an openai credential of their
        # own here, as self-hosted servers of each may be; each names the one it uses.
        assistant = api.assistant(
            model=model_of("openai", credential_id=api.credential("openai", fake.openai_url)),
            first_message=GREETING,
            voice={
                "provider": "openai",
                "voiceId": "nova",
                "credential_id": api.credential("openai", voices.openai_url, api_key=WHISPER_KEY),
            },
            transcriber={
                "provider": "openai",
                "model": "whisper-large-v3",
                "credential_id": api.credential("openai", whisper.url, api_key=WHISPER_KEY),
            },
        )
        created = api.start_call(assistant["id"])
        fake.reply_in_turn(Reply("Friday at ten is free."))
        with join_by_voice(created["web_call_url"]) as caller:
            caller.until("call-started")
            assert caller.until("assistant-message")[-1]["text"] == GREETING
            assert heard_most_of(GREETING, caller.audio.pcm())
            caller.say(spoken(SENTENCE))
            frames = caller.until("assistant-message")
            assert frames[-1]["text"] == "Friday at ten is free."
            caller.hang_up()
            caller.until("call-ended")
        sent = whisper.received[0]
        assert sent.model == "whisper-large-v3"
        # The utterance as it was said, sent whole: about as long as the sentence.
        assert len(sent.pcm) >= len(spoken(SENTENCE)) * 0.8

    speech = [r for r in voices.received if r.api == "openai"]
    assert speech[0].json["voice"] == "nova" and speech[0].json["response_format"] == "pcm"
    assert speech[0].headers["Authorization"] == f"Bearer {WHISPER_KEY}"


@pytest.mark.parametrize("provider", ["11labs", "openai"])
def test_a_voice_that_fails_ends_the_call_keeping_what_was_said(
    served: Any, tenant: Any, fake: Any, voices: FakeVoices, provider: str
) -> None:
    api = served(tenant)
    if provider == "11labs":
        api.credential("elevenlabs", voices.url, api_key="xi-test")
        voice: dict[str, Any] = {"provider": "11labs", "voiceId": "rachel"}
    else:
        credential = api.credential("openai", voices.openai_url, api_key="sk-speech")
        voice = {"provider": "openai", "credential_id": credential}
    assistant = api.assistant(
        model=model_of("openai", credential_id=api.credential("openai", fake.openai_url)),
        first_message=GREETING,
        voice=voice,
    )
    created = api.start_call(assistant["id"])
    fake.reply_in_turn(Reply("Let me check the calendar for you."))
    with join_by_voice(created["web_call_url"]) as caller:
        caller.until("call-started")
        caller.until("assistant-message")
        voices.fail(503, times=2)  # the reply's request fails, and once more
        caller.say(spoken(SENTENCE))
        frames = caller.until("call-ended")
        failed_as(frames[-1], "pipeline-error-voice", "answered 503", "127.0.0.1")
        assert "assistant-message" not in [f["type"] for f in frames]  # nothing of it played
    messages = api.call(created["id"])["messages"]
    assert [m["role"] for m in messages] == ["assistant", "user"]
    assert messages[0]["message"] == GREETING


def test_an_espeak_voice_it_does_not_have_ends_the_call(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = _assistant(
        api, fake, first_message=GREETING, voice={"provider": "espeak", "voiceId": "xx-nowhere"}
    )
    created = api.start_call(assistant["id"])
    with join_by_voice(created["web_call_url"]) as caller:
        frames = caller.until("call-ended")
        failed_as(frames[-1], "pipeline-error-voice", "espeak", "xx-nowhere")
    assert api.call(created["id"]).get("messages", []) == []  # the greeting never played


def test_a_deepgram_stream_that_drops_twice_ends_the_call(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    with deepgram_server_thread(script=["unused"], drop_after_frames=1, drops=2) as deepgram:
        api.credential("deepgram", deepgram.url, api_key=DEEPGRAM_KEY)
        assistant = _assistant(
            api, fake, first_message=GREETING, transcriber={"provider": "deepgram"}
        )
        created = api.start_call(assistant["id"])
        with join_by_voice(created["web_call_url"]) as caller:
            caller.until("assistant-message")
            caller.say(spoken(SENTENCE))
            frames = caller.until("call-ended")
            assert frames[-1]["ended_reason"] == "pipeline-error-transcriber"
        assert deepgram.connections == 2  # connected again once, then given up
    assert [m["message"] for m in api.call(created["id"])["messages"]] == [GREETING]


@pytest.mark.parametrize("status", [401, 403])
def test_a_transcriber_refusing_the_key_ends_the_call_at_once(
    served: Any, tenant: Any, fake: Any, status: int
) -> None:
    api = served(tenant)
    with deepgram_server_thread(refuse=status) as deepgram:
        api.credential("deepgram", deepgram.url, api_key=DEEPGRAM_KEY)
        assistant = _assistant(
            api, fake, first_message=GREETING, transcriber={"provider": "deepgram"}
        )
        created = api.start_call(assistant["id"])
        with join_by_voice(created["web_call_url"]) as caller:
            frames = caller.until("call-ended")
            assert frames[0]["type"] == "call-started"
            detail = failed_as(
                frames[-1], "pipeline-error-transcriber", "deepgram", str(status), "127.0.0.1"
            )
    ended = api.call(created["id"])
    assert ended["ended_reason"] == "pipeline-error-transcriber"
    assert ended["failure_detail"] == detail
    assert fake.received == []  # the model was never asked


def test_a_transcriber_that_fails_twice_ends_the_call_keeping_what_was_said(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    with whisper_server_thread(script=["unused"], fail_times=2, fail_status=503) as whisper:
        api.credential("openai", whisper.url, api_key=WHISPER_KEY)
        assistant = api.assistant(
            model={"provider": "openai", "model": "gpt-4o", "credential_id": None},
            first_message=GREETING,
            transcriber={"provider": "openai"},
        )
        created = api.start_call(assistant["id"])
        with join_by_voice(created["web_call_url"]) as caller:
            caller.until("assistant-message")
            caller.say(spoken(SENTENCE))
            ended = caller.until("call-ended")[-1]
            failed_as(ended, "pipeline-error-transcriber", "openai", "answered 503", "127.0.0.1")
        assert whisper.requests == 2  # tried once more, then given up
    messages = api.call(created["id"])["messages"]
    assert [m["message"] for m in messages] == [GREETING]
