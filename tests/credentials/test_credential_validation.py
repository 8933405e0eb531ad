"""Every invalid credential body is a 400 naming the field, and creates or changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from credential_api import CREDENTIALS, KEY, create_credential

from secret_resources import assert_refused
from support import Api, assert_error

JSON = {"Content-Type": "application/json"}

RAW_BODIES = [
    (b"", "empty"),
    (b"  \n ", "empty"),
    (b"{not json", "not valid JSON"),
    (b'{"provider": "openai", "api_key": "sk-', "not valid JSON"),
    (b"[]", "JSON object"),
    (b'"openai"', "JSON object"),
    (b"null", "JSON object"),
    (b"7", "JSON object"),
]


@pytest.mark.parametrize(("raw", "named"), RAW_BODIES)
def test_body_must_be_a_json_object(
    api: Api, credential: dict[str, Any], raw: bytes, named: str
) -> None:
    assert_refused(api, CREDENTIALS, credential, 400, named, create=raw, change=raw, headers=JSON)


VALID = {"provider": "openai", "api_key": KEY}

INVALID_CREATE = [
    ({"api_key": KEY}, "provider is required"),
    ({"provider": "openai"}, "api_key is required"),
    ({"provider": "azure", "api_key": KEY}, "provider"),
    ({"provider": "OpenAI", "api_key": KEY}, "provider"),
    ({"provider": None, "api_key": KEY}, "provider"),
    ({"provider": 1, "api_key": KEY}, "provider"),
    ({**VALID, "api_key": None}, "api_key"),
]

INVALID_ANYWHERE = [
    ({"api_key": ""}, "api_key"),
    ({"api_key": "k" * 513}, "api_key"),
    ({"api_key": "sk-with space"}, "api_key"),
    ({"api_key": " sk-leading"}, "api_key"),
    ({"api_key": "sk-trailing\n"}, "api_key"),
    ({"api_key": "sk-\ttab"}, "api_key"),
    ({"api_key": "sk-\x00nul"}, "api_key"),
    ({"api_key": "sk-\x7fdel"}, "api_key"),
    ({"api_key": "sk-ключ"}, "api_key"),
    ({"api_key": "sk-\u00a0nbsp"}, "api_key"),
    ({"api_key": 12345}, "api_key"),
    ({"api_key": ["sk-in-a-list"]}, "api_key"),
    ({"name": ""}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"name": 5}, "name"),
    ({"name": "with \x00 NUL"}, "name"),
    ({"base_url": "api.openai.com/v1"}, "base_url"),
    ({"base_url": "/v1"}, "base_url"),
    ({"base_url": ""}, "base_url"),
    ({"base_url": "ftp://files.example.org/"}, "base_url"),
    ({"base_url": "file:///etc/passwd"}, "base_url"),
    ({"base_url": "https://user:pass@api.example.org/v1"}, "base_url"),
    ({"base_url": "https://user@api.example.org/v1"}, "base_url"),
    ({"base_url": "https://@api.example.org/v1"}, "base_url"),
    ({"base_url": "https://api.example.org/v 1"}, "base_url"),
    ({"base_url": "https://api.example.org:99999/"}, "base_url"),
    ({"base_url": "https://" + "a" * 2040 + ".org/"}, "base_url"),
    ({"base_url": 443}, "base_url"),
    ({"id": 5}, "'id' is read-only"),
    ({"organization_id": 2}, "'organization_id' is read-only"),
    ({"is_api_key_set": False}, "'is_api_key_set' is read-only"),
    ({"api_key_hint": "…abcd"}, "'api_key_hint' is read-only"),
    ({"created_at": "2026-01-01T00:00:00Z"}, "'created_at' is read-only"),
    ({"updated_at": "2026-01-01T00:00:00Z"}, "'updated_at' is read-only"),
    ({"model": "gpt-4o"}, "unknown field 'model'"),
    ({"apiKey": KEY}, "unknown field 'apiKey'"),
]


@pytest.mark.parametrize(
    ("body", "named"),
    INVALID_CREATE + [({**VALID, **body}, named) for body, named in INVALID_ANYWHERE],
)
def test_invalid_create_is_400_and_creates_nothing(
    api: Api, body: dict[str, Any], named: str
) -> None:
    assert_error(api.post("/v1/credential", json=body), 400, named)
    assert api.get("/v1/credential").json() == []


@pytest.mark.parametrize(("body", "named"), INVALID_ANYWHERE)
def test_invalid_patch_is_400_and_changes_nothing(
    api: Api, credential: dict[str, Any], body: dict[str, Any], named: str
) -> None:
    path = f"/v1/credential/{credential['id']}"
    # A valid change alongside: it must not be applied either.
    assert_error(api.patch(path, json={"name": "Changed", **body}), 400, named)
    assert api.get(path).json() == credential


def test_boundaries_are_accepted(api: Api) -> None:
    visible = "".join(chr(code) for code in range(0x21, 0x7F))
    longest_key = (visible * 6)[:512]
    longest_url = "https://api.example.org/" + "p" * (2048 - len("https://api.example.org/"))
    created = create_credential(
        api,
        provider="anthropic",
        api_key=longest_key,
        name="N" * 200,
        base_url=longest_url,
    )
    assert created["name"] == "N" * 200
    assert created["base_url"] == longest_url
    assert created["api_key_hint"] == "…" + longest_key[-4:]
    for name in ("Ä", "Клиника Север 🏥", "1"):
        assert create_credential(api, name=name)["name"] == name


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.openai.com/v1",
        "https://gateway.example.org/openai/v1?api-version=2024-06-01",
        "https://[2606:4700:4700::1111]:8443/v1",
        "HTTPS://API.EXAMPLE.ORG/v1/",
    ],
)
def test_http_and_https_base_urls_are_kept_as_sent(api: Api, base_url: str) -> None:
    assert create_credential(api, base_url=base_url)["base_url"] == base_url


@pytest.mark.parametrize(
    ("base_url", "mentions"),
    [
        ("http://localhost:11434/v1", ["localhost", "loopback", "CLARION_ALLOWED_NETWORKS"]),
        ("https://10.20.0.5:8000/v1", ["10.20.0.5", "private", "CLARION_ALLOWED_NETWORKS"]),
        ("https://[::1]/v1", ["::1", "loopback"]),
        ("http://93.184.215.14/v1", ["plain http", "CLARION_ALLOWED_NETWORKS"]),
    ],
)
def test_a_base_url_the_key_may_not_go_to_is_a_400_naming_why(
    api: Api, credential: dict[str, Any], base_url: str, mentions: list[str]
) -> None:
    body = {"provider": "openai", "api_key": KEY, "base_url": base_url}
    assert_error(api.post("/v1/credential", json=body), 400, "base_url", *mentions)
    patched = api.patch(f"/v1/credential/{credential['id']}", json={"base_url": base_url})
    assert_error(patched, 400, "base_url", *mentions)
    assert api.get(f"/v1/credential/{credential['id']}").json() == credential


def test_non_json_content_type_is_415(api: Api, credential: dict[str, Any]) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = f"provider=openai&api_key={KEY}"
    assert_refused(
        api,
        CREDENTIALS,
        credential,
        415,
        "Content-Type",
        create=body,
        change="name=x",
        headers=form,
    )


def test_oversized_body_is_413(api: Api, credential: dict[str, Any]) -> None:
    body = b'{"provider": "openai", "api_key": "' + b"k" * (1024 * 1024) + b'"}'
    assert_refused(
        api, CREDENTIALS, credential, 413, "1048576", create=body, change=body, headers=JSON
    )
