"""Credentials for the speech providers (Deepgram, ElevenLabs): the same resource as the
language models', their keys as secret, their base URLs under the same checks; a Deepgram
URL may also be a WebSocket's."""

from __future__ import annotations

from typing import Any

import pytest
from credential_api import KEY, OTHER_KEY, create_credential
from fastapi.testclient import TestClient

from secret_resources import leaks
from support import Api, Tenant, assert_error


@pytest.mark.parametrize(
    ("provider", "base_url"),
    [
        ("deepgram", "wss://api.deepgram.com"),
        ("deepgram", "wss://speech.example.org:8080/"),
        ("deepgram", "https://deepgram.example.org/proxy"),
        ("deepgram", "WSS://API.DEEPGRAM.COM"),
        ("elevenlabs", "https://api.elevenlabs.io"),
        ("elevenlabs", "https://voices.example.org:8000"),
    ],
)
def test_a_speech_credential_is_created_and_its_key_never_shown(
    api: Api, provider: str, base_url: str
) -> None:
    response = api.post(
        "/v1/credential", json={"provider": provider, "api_key": KEY, "base_url": base_url}
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["provider"] == provider
    assert created["base_url"] == base_url
    assert created["is_api_key_set"] is True
    assert created["api_key_hint"] == "…" + KEY[-4:]
    for shown in (response, api.get(f"/v1/credential/{created['id']}"), api.get("/v1/credential")):
        assert not leaks(shown.text, KEY)
    assert api.get("/v1/credential").json() == [created]


def test_their_keys_can_be_replaced_never_shown(api: Api) -> None:
    created = create_credential(api, provider="elevenlabs")
    path = f"/v1/credential/{created['id']}"

    response = api.patch(path, json={"api_key": OTHER_KEY, "provider": "elevenlabs"})

    assert response.status_code == 200, response.text
    assert response.json()["api_key_hint"] == "…" + OTHER_KEY[-4:]
    assert not leaks(response.text, OTHER_KEY)
    assert_error(api.patch(path, json={"provider": "deepgram"}), 400, "provider", "elevenlabs")


@pytest.mark.parametrize(
    ("provider", "base_url"),
    [
        ("elevenlabs", "wss://api.elevenlabs.io"),
        ("openai", "ws://10.20.0.5:8000/v1"),
        ("anthropic", "wss://api.anthropic.com"),
        ("deepgram", "ftp://files.example.org/"),
        ("deepgram", "wss://user:pass@api.deepgram.com"),
        ("deepgram", "wss://@api.deepgram.com"),
        ("deepgram", "wss://api.deepgram.com:99999/"),
        ("deepgram", "wss://api.deepgram.com/v 1"),
        ("deepgram", "wss:///listen"),
        ("deepgram", "api.deepgram.com"),
    ],
)
def test_a_base_url_the_provider_cannot_be_reached_at_is_a_400(
    api: Api, provider: str, base_url: str
) -> None:
    body = {"provider": provider, "api_key": KEY, "base_url": base_url}

    assert_error(api.post("/v1/credential", json=body), 400, "base_url")

    assert api.get("/v1/credential").json() == []


def test_a_changed_base_url_is_checked_against_the_credentials_provider(api: Api) -> None:
    deepgram = create_credential(api, provider="deepgram")
    elevenlabs = create_credential(api, provider="elevenlabs", base_url="https://a.example/")

    moved = api.patch(f"/v1/credential/{deepgram['id']}", json={"base_url": "wss://b.example/"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["base_url"] == "wss://b.example/"

    path = f"/v1/credential/{elevenlabs['id']}"
    refused = api.patch(path, json={"base_url": "wss://b.example/", "name": "Changed"})
    assert_error(refused, 400, "base_url", "elevenlabs", "WebSocket")
    assert api.get(path).json() == elevenlabs


def test_another_organizations_speech_credential_is_a_404(
    api: Api, client: TestClient, other_tenant: Tenant
) -> None:
    theirs = create_credential(Api(client, other_tenant), provider="deepgram")

    for response in (
        api.get(f"/v1/credential/{theirs['id']}"),
        api.patch(f"/v1/credential/{theirs['id']}", json={"name": "Mine now"}),
        api.delete(f"/v1/credential/{theirs['id']}"),
    ):
        assert_error(response, 404, f"credential {theirs['id']} not found")
    assert api.get("/v1/credential").json() == []
    assert Api(client, other_tenant).get(f"/v1/credential/{theirs['id']}").json() == theirs


def test_the_openapi_document_names_the_speech_providers(api: Api) -> None:
    document: dict[str, Any] = api.get("/openapi.json").json()
    create = document["paths"]["/credential"]["post"]["requestBody"]["content"]
    provider = create["application/json"]["schema"]["properties"]["provider"]
    assert set(provider["enum"]) == {"openai", "anthropic", "deepgram", "elevenlabs"}
