"""Creating a call checks what it will speak and hear with: a provider calls cannot use, or
one without a key, is a 400 naming the field, and creates nothing; the assistant itself keeps
any voice its client sends. The answer holds a page that joins the call from a browser."""

from __future__ import annotations

from typing import Any

from calls_support import CallsApi
from support import assert_error

ELEVENLABS = "https://api.elevenlabs.io"
DEEPGRAM = "wss://api.deepgram.com"


def _refused(api: CallsApi, assistant: dict[str, Any], *mentions: str, **fields: Any) -> None:
    """Creating a call of ``assistant`` is a 400 that mentions each of ``mentions``, and no
    call is made."""
    assert_error(api.create_call(assistant["id"], **fields), 400, *mentions)
    assert api.http.get("/v1/call").json() == []


def test_a_voice_calls_cannot_speak_with_is_a_400_but_the_assistant_keeps_it(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake)
    path = f"/v1/assistant/{assistant['id']}"

    # The assistant API takes any voice object...
    changed = api.http.patch(path, json={"voice": {"provider": "playht", "voiceId": "jennifer"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["voice"] == {"provider": "playht", "voiceId": "jennifer"}

    # ...a call cannot speak with it.
    _refused(api, assistant, "voice.provider", "11labs", "openai", "espeak", "'playht'")


def test_a_transcriber_calls_cannot_hear_with_is_a_400(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    unknown = api.assistant_on(fake, transcriber={"provider": "assemblyai"})
    _refused(api, unknown, "transcriber.provider", "deepgram", "local", "'assemblyai'")

    french = api.assistant(
        model=unknown["model"], transcriber={"provider": "local", "language": "fr"}
    )
    _refused(api, french, "transcriber.language", "'fr'")
    # No transcriber at all is the local one, which hears English.
    english = api.assistant(model=unknown["model"], transcriber={"language": "en-US"})
    assert api.start_call(english["id"])["call_status"] == "queued"


def test_elevenlabs_needs_a_key_and_a_voice_and_answers_to_both_its_names(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    short = api.assistant_on(fake, voice={"provider": "11labs", "voiceId": "rachel"})
    long = api.assistant(
        model=short["model"], voice={"provider": "elevenlabs", "voiceId": "rachel"}
    )
    for assistant in (short, long):
        _refused(
            api,
            assistant,
            "voice.provider",
            "elevenlabs credential",
            "POST /v1/credential",
            "CLARION_ELEVENLABS_API_KEY",
        )

    api.credential("elevenlabs", ELEVENLABS)
    for assistant in (short, long):
        assert api.start_call(assistant["id"])["call_status"] == "queued"
    nameless = api.assistant(model=short["model"], voice={"provider": "11labs"})
    assert_error(api.create_call(nameless["id"]), 400, "voice.voiceId", "ElevenLabs voice")


def test_the_server_wide_keys_serve_organizations_without_a_credential(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant, deepgram_api_key="dg-server", elevenlabs_api_key="el-server")
    assistant = api.assistant_on(
        fake,
        voice={"provider": "11labs", "voiceId": "rachel"},
        transcriber={"provider": "deepgram", "model": "nova-2", "language": "fr"},
    )
    assert api.start_call(assistant["id"])["call_status"] == "queued"


def test_a_missing_deepgram_key_is_a_400_naming_its_setting(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, transcriber={"provider": "deepgram"})
    _refused(api, assistant, "transcriber.provider", "CLARION_DEEPGRAM_API_KEY")
    api.credential("deepgram", DEEPGRAM)
    assert api.start_call(assistant["id"])["call_status"] == "queued"


def test_openai_speaks_and_hears_with_the_organizations_openai_key(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    # assistant_on makes the organization's openai credential, for the model.
    assistant = api.assistant_on(
        fake, voice={"provider": "openai"}, transcriber={"provider": "openai", "language": "de"}
    )
    assert api.start_call(assistant["id"])["call_status"] == "queued"


def test_a_speech_credential_named_must_be_the_organizations_and_its_providers(
    served: Any, tenant: Any, other_tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    other = served(other_tenant)
    theirs = other.credential("elevenlabs", ELEVENLABS)
    deepgram = api.credential("deepgram", DEEPGRAM)
    assistant = api.assistant_on(fake)
    borrowing = {"provider": "11labs", "voiceId": "rachel", "credential_id": theirs}
    _refused(
        api,
        assistant,
        "voice.credential_id",
        f"credential {theirs} not found",
        task_parameters={"voice": borrowing},
    )
    mismatched = {"provider": "11labs", "voiceId": "rachel", "credential_id": deepgram}
    _refused(
        api,
        assistant,
        "voice.credential_id",
        "deepgram, not elevenlabs",
        task_parameters={"voice": mismatched},
    )
    named = {"provider": "deepgram", "credential_id": deepgram}
    created = api.start_call(assistant["id"], task_parameters={"transcriber": named})
    assert created["call_status"] == "queued"


def test_task_parameters_override_the_transcriber(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, transcriber={"provider": "deepgram"})
    _refused(api, assistant, "CLARION_DEEPGRAM_API_KEY")

    local = {"transcriber": {"provider": "local", "language": "en"}}
    created = api.start_call(assistant["id"], task_parameters=local)
    assert created["call_status"] == "queued"

    for transcriber, mentions in (
        ({"provider": "whisper.cpp"}, ("transcriber.provider", "'whisper.cpp'")),
        ("local", ("task_parameters.transcriber",)),
        ({"language": ""}, ("task_parameters.transcriber.language",)),
    ):
        response = api.create_call(assistant["id"], task_parameters={"transcriber": transcriber})
        assert_error(response, 400, *mentions)
    assert [call["id"] for call in api.http.get("/v1/call").json()] == [created["id"]]


def test_the_page_that_joins_a_call_carries_its_url_in_the_fragment(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    created = api.call_on(fake)

    page, fragment = created["web_call_page_url"].split("#", 1)
    assert page == f"{api.serving.base}/talk"
    assert fragment == created["web_call_url"]
    assert fragment.startswith("ws://") and "token=" in fragment


def test_the_page_is_under_the_public_url(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant, public_url="wss://clarion.example.org/voice/")
    created = api.call_on(fake)

    assert created["web_call_url"].startswith(
        f"wss://clarion.example.org/voice/v1/call/{created['id']}/web?token="
    )
    assert created["web_call_page_url"] == (
        "https://clarion.example.org/voice/talk#" + created["web_call_url"]
    )
