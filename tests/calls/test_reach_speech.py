"""Reaching a call's voice and transcriber when it is joined: the keys are looked up again,
sent where the credential says (a Deepgram http URL standing for its WebSocket's host), and
kept from any address the outbound guard refuses, and from plain http or ws outside the
allowed networks. The providers are stand-ins on 127.0.0.1 speaking their public protocols."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from clarion.auth.service import Caller
from clarion.config import Settings
from clarion.credentials import service as credentials
from clarion.database import Database
from clarion.speech.choice import SpeechUnreachable, reach_speech
from clarion.speech.transcribers import (
    DeepgramTranscriber,
    LocalRecognizer,
    LocalTranscriber,
    OpenAITranscriber,
)
from clarion.speech.voices import ElevenLabsVoice, EspeakVoice, OpenAIVoice
from support import Api

ORGANIZATION_KEY = "dg-org-Zq9XkV3mP7rT2wY8nB4cD6fG1hJ5"
SERVER_KEY = "el-server-Hh7Gg6Ff5Ee4Dd3Cc2Bb1Aa0"
LOOPBACK = "127.0.0.0/8"
TWO_VOICES = {
    "voice": {"provider": "elevenlabs", "voiceId": "rachel", "model": "eleven_v3"},
    "transcriber": {"provider": "deepgram", "model": "nova-2", "language": "fr"},
}

Use = Callable[[Any, Any], Awaitable[Any]]


@dataclass
class SpeechProviders:
    """Deepgram's live endpoint and ElevenLabs' streaming one, recording what reaches them."""

    port: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def speech() -> Iterator[SpeechProviders]:
    """The stand-ins on a free port, served from a thread of their own."""
    providers = SpeechProviders()

    async def listen(request: web.Request) -> web.WebSocketResponse:
        providers.seen.append(
            {"path": request.path, "auth": request.headers.get("Authorization"), **request.query}
        )
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for _ in socket:  # until the transcriber closes the stream
            pass
        return socket

    async def speak(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        providers.seen.append(
            {"path": request.path, "key": request.headers.get("xi-api-key"), **body}
        )
        answer = web.StreamResponse(headers={"Content-Type": "audio/pcm"})
        await answer.prepare(request)
        await answer.write(b"\x00\x00" * 320)
        await answer.write_eof()
        return answer

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/v1/listen", listen)
        app.router.add_post("/v1/text-to-speech/{voice}/stream", speak)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        providers.port = runner.addresses[0][1]
        return runner

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield providers
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def _reach(
    app: Any, settings: Settings, api: Api, configuration: dict[str, Any], use: Use, **changed: Any
) -> Any:
    """``use(voice, transcriber)`` on what reach_speech gives for the tenant's call of this
    configuration, on a loop of its own; ``changed`` are settings."""

    async def main() -> Any:
        reached = Settings(**{**settings.model_dump(), **changed})
        database = Database(reached.database)
        try:
            async with aiohttp.ClientSession() as session:
                voice, transcriber = await reach_speech(
                    database,
                    session,
                    api.tenant.organization_id,
                    configuration,
                    reached,
                    app.state.services.secrets,
                    LocalRecognizer(1),
                )
                return await use(voice, transcriber)
        finally:
            await database.aclose()

    return asyncio.run(main())


async def _kinds(voice: Any, transcriber: Any) -> tuple[type, type]:
    return type(voice), type(transcriber)


def _refusal(
    app: Any, settings: Settings, api: Api, configuration: dict[str, Any], **changed: Any
) -> SpeechUnreachable:
    with pytest.raises(SpeechUnreachable) as refused:
        _reach(app, settings, api, configuration, _kinds, **changed)
    return refused.value


def _stored(app: Any, api: Api, provider: str, base_url: str) -> None:
    """A credential for an address the guard refuses now, stored as if made while its
    network was allowed: the guard is asked again at every call, whatever it said then."""
    services = app.state.services
    caller = Caller(api.tenant.organization_id, api.tenant.key_id)
    fields = {"provider": provider, "api_key": ORGANIZATION_KEY, "base_url": base_url}
    with services.database.unit(write=True) as unit:
        credentials.create_credential(unit, caller, fields, services.secrets)


def _credential(api: Api, provider: str, base_url: str | None = None) -> int:
    body = {"provider": provider, "api_key": ORGANIZATION_KEY}
    if base_url is not None:
        body["base_url"] = base_url
    response = api.post("/v1/credential", json=body)
    assert response.status_code == 201, response.text
    credential_id: int = response.json()["id"]
    return credential_id


def test_a_call_that_names_no_speech_is_spoken_and_heard_offline(
    app: Any, settings: Settings, api: Api
) -> None:
    assert _reach(app, settings, api, {}, _kinds) == (EspeakVoice, LocalTranscriber)


def test_openai_speaks_and_hears_with_the_organizations_openai_key(
    app: Any, settings: Settings, api: Api
) -> None:
    _credential(api, "openai")
    configuration = {"voice": {"provider": "openai"}, "transcriber": {"provider": "openai"}}
    kinds = _reach(app, settings, api, configuration, _kinds)
    assert kinds == (OpenAIVoice, OpenAITranscriber)


def test_the_keys_reach_the_providers_where_their_credentials_say(
    app: Any, settings: Settings, api: Api, speech: SpeechProviders
) -> None:
    # The organization's Deepgram key, at an http URL: the WebSocket's host.
    _stored(app, api, "deepgram", f"http://127.0.0.1:{speech.port}")

    async def use(voice: Any, transcriber: Any) -> None:
        assert isinstance(voice, ElevenLabsVoice)
        assert isinstance(transcriber, DeepgramTranscriber)
        assert len(b"".join([chunk async for chunk in voice.synthesize("Hello.")])) == 640
        await transcriber.open(lambda _words: None)
        await transcriber.close()

    # ElevenLabs' key is the server's.
    _reach(
        app,
        settings,
        api,
        TWO_VOICES,
        use,
        outbound_allowed_networks=LOOPBACK,
        elevenlabs_api_key=SERVER_KEY,
        elevenlabs_base_url=f"http://127.0.0.1:{speech.port}",
    )

    heard, spoken = sorted(speech.seen, key=lambda seen: seen["path"])
    assert spoken["path"] == "/v1/text-to-speech/rachel/stream"
    assert (spoken["key"], spoken["model_id"]) == (SERVER_KEY, "eleven_v3")
    assert heard["path"] == "/v1/listen"
    assert heard["auth"] == f"Token {ORGANIZATION_KEY}"
    assert (heard["model"], heard["language"]) == ("nova-2", "fr")


def test_the_keys_are_looked_up_again_when_the_call_is_joined(
    app: Any, settings: Settings, api: Api
) -> None:
    credential_id = _credential(api, "deepgram", "wss://api.deepgram.com")
    api.delete(f"/v1/credential/{credential_id}")

    refusal = _refusal(app, settings, api, {"transcriber": {"provider": "deepgram"}})

    assert refusal.which == "transcriber"
    assert "CLARION_DEEPGRAM_API_KEY" in str(refusal)


@pytest.mark.parametrize(
    ("provider", "base_url", "which", "why"),
    [
        ("deepgram", "ws://93.184.216.34/", "transcriber", "plain ws outside"),
        ("deepgram", "http://93.184.216.34/", "transcriber", "plain ws outside"),
        ("elevenlabs", "http://93.184.216.34/", "voice", "plain http outside"),
        ("deepgram", "wss://127.0.0.1/", "transcriber", "is blocked"),
        ("deepgram", "wss://[::ffff:169.254.169.254]/", "transcriber", "is blocked"),
        ("elevenlabs", "https://10.0.0.5/", "voice", "is blocked"),
    ],
)
def test_a_key_goes_nowhere_the_guard_refuses(
    app: Any, settings: Settings, api: Api, provider: str, base_url: str, which: str, why: str
) -> None:
    _stored(app, api, provider, base_url)
    _credential(api, "elevenlabs" if provider == "deepgram" else "deepgram")  # its own API

    refusal = _refusal(app, settings, api, TWO_VOICES)

    assert refusal.which == which
    assert why in str(refusal)
    assert ORGANIZATION_KEY not in str(refusal)


def test_a_plain_url_inside_the_allowed_networks_is_reached(
    app: Any, settings: Settings, api: Api
) -> None:
    _stored(app, api, "deepgram", "ws://127.0.0.1:9/")
    _stored(app, api, "elevenlabs", "http://127.0.0.1:9/")

    kinds = _reach(app, settings, api, TWO_VOICES, _kinds, outbound_allowed_networks=LOOPBACK)

    assert kinds == (ElevenLabsVoice, DeepgramTranscriber)


def test_a_configuration_calls_cannot_use_is_unreachable_by_name(
    app: Any, settings: Settings, api: Api
) -> None:
    refusal = _refusal(app, settings, api, {"voice": {"provider": "playht"}})
    assert refusal.which == "voice"
    assert str(refusal).startswith("voice.provider: ")
