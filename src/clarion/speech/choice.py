"""Which voice speaks on a call and which transcriber hears it, with which keys, and the
adapters that reach them.

A call's ``voice.provider`` and ``transcriber.provider`` pick the organization's credential
for that provider (``voice.credential_id`` and ``transcriber.credential_id`` may name one);
without one, the server-wide key of the settings. The offline ones (``espeak``, ``local``)
need none. A call with no voice speaks with espeak and one with no transcriber is heard by
the local one, so a server without any speech key still holds calls.

The choice is checked when a call is created (a 400 then, naming the field), never when an
assistant is saved: the assistant keeps whatever voice object its client sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NoReturn, cast

import aiohttp
from yarl import URL

from clarion.config import Settings
from clarion.credentials.service import ResolvedCredential, credential_or_server_key
from clarion.database import Database, Unit
from clarion.errors import InvalidInput
from clarion.outbound.guard import BlockedAddress, address_inside, check_literal
from clarion.providers.openai import DEFAULT_BASE_URL as OPENAI_BASE_URL
from clarion.speech.transcriber import Transcriber
from clarion.speech.transcribers import (
    LOCAL_LANGUAGES,
    TRANSCRIBER_PROVIDERS,
    DeepgramTranscriber,
    LocalRecognizer,
    LocalTranscriber,
    OpenAITranscriber,
)
from clarion.speech.transcribers.deepgram import DEFAULT_BASE_URL as DEEPGRAM_BASE_URL
from clarion.speech.voice import Voice
from clarion.speech.voices import VOICE_PROVIDERS, ElevenLabsVoice, EspeakVoice, OpenAIVoice
from clarion.speech.voices.elevenlabs import DEFAULT_BASE_URL as ELEVENLABS_BASE_URL
from clarion.storage.secret_box import SecretBox
from clarion.urls import socket_url

Which = Literal["voice", "transcriber"]
VoiceProvider = Literal["11labs", "openai", "espeak"]
TranscriberProvider = Literal["deepgram", "openai", "local"]

CREDENTIAL_PROVIDERS = {"11labs": "elevenlabs", "openai": "openai", "deepgram": "deepgram"}
"""The credential (``provider`` of POST /v1/credential) each speech provider is reached with;
the offline ones have none."""
DEFAULT_BASE_URLS = {
    "elevenlabs": ELEVENLABS_BASE_URL,
    "deepgram": DEEPGRAM_BASE_URL,
    "openai": OPENAI_BASE_URL,
}
PLAIN_SCHEMES = frozenset({"http", "ws"})
QUOTED_MAX = 64  # of a value quoted back in a message


@dataclass(frozen=True)
class SpeechChoice:
    """The voice and the transcriber of a call's configuration, checked."""

    voice_provider: VoiceProvider
    voice_id: str | None
    """``voice.voiceId``; None: the provider's default voice (always, without a provider)."""
    voice_model: str | None
    voice_credential_id: int | None
    transcriber_provider: TranscriberProvider
    transcriber_model: str | None
    transcriber_language: str | None
    transcriber_credential_id: int | None


class SpeechInvalid(InvalidInput):
    """The voice or the transcriber of a configuration cannot be used; ``which`` says which."""

    def __init__(self, which: Which, message: str) -> None:
        super().__init__(message)
        self.which = which


class SpeechUnreachable(Exception):
    """A call's voice or transcriber cannot be reached when the call is joined: no key any
    more, one that cannot be read, or an address it may not go to. ``which`` says which; the
    message says why, never the key."""

    def __init__(self, which: Which, message: str) -> None:
        super().__init__(message)
        self.which = which


def speech_choice(configuration: dict[str, Any]) -> SpeechChoice:
    """The call's voice and transcriber; SpeechInvalid (an InvalidInput) names the field a
    call cannot be held with."""
    voice = _document(configuration, "voice")
    transcriber = _document(configuration, "transcriber")
    voice_provider = _voice_provider(voice.get("provider"))
    # A voiceId without a provider names no voice espeak knows: espeak's own is taken.
    voice_id = _text(voice, "voice", "voiceId") if "provider" in voice else None
    if voice_provider == "11labs" and voice_id is None:
        raise SpeechInvalid("voice", "voice.voiceId: name the ElevenLabs voice")
    transcriber_provider = _transcriber_provider(transcriber.get("provider"))
    language = _text(transcriber, "transcriber", "language")
    if transcriber_provider == "local" and language is not None and language not in LOCAL_LANGUAGES:
        raise SpeechInvalid(
            "transcriber",
            "transcriber.language: the local transcriber hears English only (en, en-US), "
            f"not {language[:QUOTED_MAX]!r}; use deepgram or openai for another language",
        )
    return SpeechChoice(
        voice_provider=voice_provider,
        voice_id=voice_id,
        voice_model=_text(voice, "voice", "model"),
        voice_credential_id=_credential_id(voice, "voice"),
        transcriber_provider=transcriber_provider,
        transcriber_model=_text(transcriber, "transcriber", "model"),
        transcriber_language=language,
        transcriber_credential_id=_credential_id(transcriber, "transcriber"),
    )


def speech_credentials(
    unit: Unit,
    organization_id: int,
    choice: SpeechChoice,
    settings: Settings,
    secrets: SecretBox,
) -> tuple[ResolvedCredential | None, ResolvedCredential | None]:
    """The keys the call's voice and transcriber are reached with (None for an offline one);
    SpeechInvalid says which one is missing."""
    voice = _credential(
        unit,
        organization_id,
        "voice",
        choice.voice_provider,
        choice.voice_credential_id,
        settings,
        secrets,
    )
    transcriber = _credential(
        unit,
        organization_id,
        "transcriber",
        choice.transcriber_provider,
        choice.transcriber_credential_id,
        settings,
        secrets,
    )
    return voice, transcriber


async def reach_speech(
    database: Database,
    session: aiohttp.ClientSession,
    organization_id: int,
    configuration: dict[str, Any],
    settings: Settings,
    secrets: SecretBox,
    recognizer: LocalRecognizer,
) -> tuple[Voice, Transcriber]:
    """The adapters that speak and hear on a call, on the shared session, with the keys
    looked up now (they may have been replaced since the call was created). ``recognizer``
    serves the local transcriber. SpeechUnreachable when one cannot be reached."""
    try:
        choice = speech_choice(configuration)
        voice_key, transcriber_key = await database.read(
            speech_credentials, organization_id, choice, settings, secrets
        )
    except SpeechInvalid as exc:
        raise SpeechUnreachable(exc.which, exc.message) from None

    voice: Voice
    if choice.voice_provider == "espeak":
        voice = EspeakVoice(choice.voice_id)
    else:
        assert voice_key is not None  # noqa: S101 - every provider but espeak has a key
        url = await _guarded_base_url("voice", voice_key, settings)
        if choice.voice_provider == "11labs":
            assert choice.voice_id is not None  # noqa: S101 - speech_choice requires it
            voice = ElevenLabsVoice(
                session, voice_key.api_key, url, choice.voice_id, choice.voice_model
            )
        else:
            voice = OpenAIVoice(
                session, voice_key.api_key, url, choice.voice_id, choice.voice_model
            )

    transcriber: Transcriber
    language = choice.transcriber_language
    if choice.transcriber_provider == "local":
        transcriber = LocalTranscriber(recognizer, language)
    else:
        assert transcriber_key is not None  # noqa: S101 - every provider but local has a key
        url = await _guarded_base_url("transcriber", transcriber_key, settings)
        model = choice.transcriber_model
        if choice.transcriber_provider == "deepgram":
            transcriber = DeepgramTranscriber(
                session, transcriber_key.api_key, url, model, language
            )
        else:
            transcriber = OpenAITranscriber(session, transcriber_key.api_key, url, model, language)
    return voice, transcriber


def _document(configuration: dict[str, Any], which: Which) -> dict[str, Any]:
    document = configuration.get(which)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise SpeechInvalid(which, f"{which}: must be an object")
    return document


def _voice_provider(provider: object) -> VoiceProvider:
    if provider is None:
        return "espeak"
    if isinstance(provider, str) and provider in VOICE_PROVIDERS:
        # The voice's own name: "elevenlabs" is 11labs.
        return cast(VoiceProvider, VOICE_PROVIDERS[provider].name)
    _unsupported("voice", "speak with 11labs (elevenlabs), openai or espeak", provider)


def _transcriber_provider(provider: object) -> TranscriberProvider:
    if provider is None:
        return "local"
    if isinstance(provider, str) and provider in TRANSCRIBER_PROVIDERS:
        return cast(TranscriberProvider, provider)
    _unsupported("transcriber", "be heard by deepgram, openai or local", provider)


def _unsupported(which: Which, can: str, provider: object) -> NoReturn:
    raise SpeechInvalid(
        which, f"{which}.provider: calls can {can}, not {str(provider)[:QUOTED_MAX]!r}"
    )


def _text(document: dict[str, Any], which: Which, key: str) -> str | None:
    value = document.get(key)
    if value is None or (isinstance(value, str) and value):
        return value
    raise SpeechInvalid(which, f"{which}.{key}: must be a non-empty string")


def _credential_id(document: dict[str, Any], which: Which) -> int | None:
    value = document.get("credential_id")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise SpeechInvalid(which, f"{which}.credential_id: must be the id of a credential")
    return value


def _credential(
    unit: Unit,
    organization_id: int,
    which: Which,
    provider: str,
    credential_id: int | None,
    settings: Settings,
    secrets: SecretBox,
) -> ResolvedCredential | None:
    credential_provider = CREDENTIAL_PROVIDERS.get(provider)
    if credential_provider is None:
        return None  # offline
    try:
        return credential_or_server_key(
            unit, organization_id, credential_provider, credential_id, settings, secrets, which
        )
    except InvalidInput as exc:
        raise SpeechInvalid(which, exc.message) from None


async def _guarded_base_url(
    which: Which, credential: ResolvedCredential, settings: Settings
) -> str:
    """Where the credential's key goes, if it may go there.

    As for the language models (clarion.calls.language_model.open_provider): an address in
    the URL itself is checked here, the session's guard checking only what names resolve to;
    over plain http or ws the key would cross the network readable, so it goes only to an
    address inside CLARION_ALLOWED_NETWORKS. Deepgram's URL is a WebSocket's: an http or
    https one is taken for the same host.
    """
    base_url = credential.base_url or DEFAULT_BASE_URLS[credential.provider]
    if credential.provider == "deepgram":
        base_url = socket_url(base_url)
    url = URL(base_url)
    allowed = settings.allowed_networks
    if credential.operators:  # the operator's own server is theirs to choose
        return base_url
    try:
        check_literal(url.host or "", allowed)
    except BlockedAddress as exc:
        raise SpeechUnreachable(which, f"{credential.provider} base_url: {exc}") from None
    if url.scheme in PLAIN_SCHEMES and await address_inside(url, allowed) is None:
        raise SpeechUnreachable(
            which,
            f"{credential.provider} base_url is plain {url.scheme} outside "
            "CLARION_ALLOWED_NETWORKS",
        )
    return base_url
