"""Which voice and transcriber a call's configuration chooses: the offline ones when it names
none, a 400's message naming the field when it names one calls cannot use."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.errors import InvalidInput
from clarion.speech.choice import SpeechChoice, SpeechInvalid, speech_choice


def _refusal(configuration: dict[str, Any]) -> SpeechInvalid:
    with pytest.raises(SpeechInvalid) as refused:
        speech_choice(configuration)
    assert isinstance(refused.value, InvalidInput)  # a 400 when a call is created
    return refused.value


@pytest.mark.parametrize(
    "configuration",
    [{}, {"voice": None, "transcriber": None}, {"voice": {}, "transcriber": {}}],
)
def test_a_call_that_names_no_speech_speaks_with_espeak_and_is_heard_locally(
    configuration: dict[str, Any],
) -> None:
    assert speech_choice(configuration) == SpeechChoice(
        voice_provider="espeak",
        voice_id=None,
        voice_model=None,
        voice_credential_id=None,
        transcriber_provider="local",
        transcriber_model=None,
        transcriber_language=None,
        transcriber_credential_id=None,
    )


def test_a_voice_without_a_provider_is_espeaks_own() -> None:
    # "rachel" names an ElevenLabs voice, not one espeak has.
    choice = speech_choice({"voice": {"voiceId": "rachel", "stability": 0.5}})
    assert (choice.voice_provider, choice.voice_id) == ("espeak", None)


def test_what_the_configuration_names_is_chosen() -> None:
    choice = speech_choice(
        {
            "voice": {
                "provider": "elevenlabs",
                "voiceId": "rachel",
                "model": "eleven_flash_v2_5",
                "credential_id": 4,
                "stability": 0.5,
            },
            "transcriber": {
                "provider": "deepgram",
                "model": "nova-2",
                "language": "fr",
                "credential_id": 7,
            },
        }
    )
    assert choice == SpeechChoice(
        voice_provider="11labs",
        voice_id="rachel",
        voice_model="eleven_flash_v2_5",
        voice_credential_id=4,
        transcriber_provider="deepgram",
        transcriber_model="nova-2",
        transcriber_language="fr",
        transcriber_credential_id=7,
    )


@pytest.mark.parametrize(
    ("voice", "expected"),
    [
        ({"provider": "openai"}, ("openai", None)),
        ({"provider": "openai", "voiceId": "nova"}, ("openai", "nova")),
        ({"provider": "espeak"}, ("espeak", None)),
        ({"provider": "espeak", "voiceId": "en-gb"}, ("espeak", "en-gb")),
        ({"provider": "11labs", "voiceId": "rachel"}, ("11labs", "rachel")),
    ],
)
def test_only_elevenlabs_needs_a_voice_named(voice: dict[str, Any], expected: Any) -> None:
    choice = speech_choice({"voice": voice})
    assert (choice.voice_provider, choice.voice_id) == expected


@pytest.mark.parametrize("provider", ["11labs", "elevenlabs"])
def test_elevenlabs_without_a_voice_is_refused(provider: str) -> None:
    refusal = _refusal({"voice": {"provider": provider, "model": "eleven_flash_v2_5"}})
    assert refusal.which == "voice"
    assert refusal.message == "voice.voiceId: name the ElevenLabs voice"


@pytest.mark.parametrize("language", [None, "en", "en-US", "en-us"])
def test_the_local_transcriber_hears_english(language: str | None) -> None:
    choice = speech_choice({"transcriber": {"provider": "local", "language": language}})
    assert (choice.transcriber_provider, choice.transcriber_language) == ("local", language)


@pytest.mark.parametrize("language", ["fr", "en-GB", "EN", "de-DE"])
def test_the_local_transcriber_refuses_a_language_it_cannot_hear(language: str) -> None:
    refusal = _refusal({"transcriber": {"language": language}})
    assert refusal.which == "transcriber"
    assert refusal.message.startswith("transcriber.language: ")
    assert repr(language) in refusal.message
    # Another transcriber hears it.
    choice = speech_choice({"transcriber": {"provider": "openai", "language": language}})
    assert choice.transcriber_language == language


@pytest.mark.parametrize(
    ("configuration", "which", "message"),
    [
        (
            {"voice": {"provider": "playht"}},
            "voice",
            "voice.provider: calls can speak with 11labs (elevenlabs), openai or espeak, "
            "not 'playht'",
        ),
        (
            {"voice": {"provider": "ElevenLabs", "voiceId": "rachel"}},
            "voice",
            "voice.provider: calls can speak with 11labs (elevenlabs), openai or espeak, "
            "not 'ElevenLabs'",
        ),
        (
            {"transcriber": {"provider": "assemblyai"}},
            "transcriber",
            "transcriber.provider: calls can be heard by deepgram, openai or local, "
            "not 'assemblyai'",
        ),
        ({"voice": "rachel"}, "voice", "voice: must be an object"),
        ({"voice": {"provider": "openai", "model": 1}}, "voice", "voice.model: must be"),
        ({"voice": {"provider": "openai", "voiceId": ""}}, "voice", "voice.voiceId: must be"),
        ({"transcriber": {"model": ["nova"]}}, "transcriber", "transcriber.model: must be"),
        ({"voice": {"credential_id": "4"}}, "voice", "voice.credential_id: must be the id"),
        ({"voice": {"credential_id": True}}, "voice", "voice.credential_id: must be the id"),
        (
            {"transcriber": {"credential_id": 0}},
            "transcriber",
            "transcriber.credential_id: must be the id",
        ),
    ],
)
def test_what_calls_cannot_use_is_refused_by_name(
    configuration: dict[str, Any], which: str, message: str
) -> None:
    refusal = _refusal(configuration)
    assert refusal.which == which
    assert refusal.message.startswith(message)


def test_a_long_provider_is_quoted_only_in_part() -> None:
    refusal = _refusal({"voice": {"provider": "p" * 500}})
    assert "p" * 64 in refusal.message
    assert "p" * 65 not in refusal.message
