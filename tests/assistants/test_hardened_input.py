"""Input the later steps cannot carry is refused up front, whatever the content type.

Every case is tried on create, on PATCH with application/json and on PATCH with
application/merge-patch+json: one set of rules, one answer.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from support import Api, assert_error

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def assistant(api: Api) -> dict[str, Any]:
    return api.create_assistant(first_message="Hello", model={"provider": "openai"})


def _refused_everywhere(api: Api, assistant: dict[str, Any], raw: bytes, *named: str) -> None:
    """``raw`` (a body without ``name``) is a 400 naming ``named`` on every way in."""
    path = f"/v1/assistant/{assistant['id']}"
    created = b'{"name": "Other", ' + raw[1:] if raw != b"{}" else b'{"name": "Other"}'
    assert_error(api.post("/v1/assistant", content=created, headers=JSON), 400, *named)
    assert_error(api.patch(path, content=raw, headers=JSON), 400, *named)
    assert_error(api.patch(path, content=raw, headers=MERGE_PATCH), 400, *named)
    assert api.get(path).json() == assistant
    assert [item["id"] for item in api.get("/v1/assistant").json()] == [assistant["id"]]
    assert len(api.get(f"{path}/versions").json()) == 1


# -- webhook_url ---------------------------------------------------------------------------

UNSENDABLE_URLS = [
    # urllib reads "127.0.0.1:8080\" as a user name; the HTTP client refuses the URL outright.
    "http://127.0.0.1:8080\\@example.invalid/p",
    "https://hooks.example.org\\@evil.example/",
    "https://xn--/hook",
    "http://[::1/hook",
]
URLS_WITH_CREDENTIALS = [
    "https://user:pass@hooks.example.org/clarion",
    "https://user@hooks.example.org/clarion",
    "https://:pass@hooks.example.org/clarion",
    "https://@hooks.example.org/clarion",
    "https://user%40x:p@hooks.example.org/clarion",
]


@pytest.mark.parametrize("url", UNSENDABLE_URLS)
def test_a_url_the_sender_cannot_parse_is_refused(
    api: Api, assistant: dict[str, Any], url: str
) -> None:
    _refused_everywhere(api, assistant, orjson.dumps({"webhook_url": url}), "webhook_url")


@pytest.mark.parametrize("url", URLS_WITH_CREDENTIALS)
def test_credentials_in_the_url_are_refused(api: Api, assistant: dict[str, Any], url: str) -> None:
    raw = orjson.dumps({"webhook_url": url})
    _refused_everywhere(api, assistant, raw, "webhook_url", "user name or password")
    message = api.patch(f"/v1/assistant/{assistant['id']}", content=raw, headers=JSON).json()
    assert "pass" not in message["message"].replace("password", "")


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.org/clarion?user=me@example.org",
        "https://hooks.example.org/a@b",
        "http://[2001:db8::1]:8443/hook",
        "https://hooks.example.org:8443/x#frag@ment",
    ],
)
def test_an_at_sign_outside_the_authority_is_fine(
    api: Api, assistant: dict[str, Any], url: str
) -> None:
    response = api.patch(f"/v1/assistant/{assistant['id']}", json={"webhook_url": url})
    assert response.status_code == 200, response.text
    assert response.json()["webhook_url"] == url


# -- webhook_secret ------------------------------------------------------------------------

BAD_SECRETS: dict[str, Any] = {
    "empty": "",
    "5000 characters": "s" * 5000,
    "1025 characters": "s" * 1025,
    "integer": 5,
    "float": 1.5,
    "true": True,
    "false": False,
    "array": [],
    "object": {},
}


@pytest.mark.parametrize("secret", BAD_SECRETS.values(), ids=BAD_SECRETS.keys())
def test_webhook_secret_rules_hold_for_every_content_type(
    api: Api, assistant: dict[str, Any], secret: Any
) -> None:
    _refused_everywhere(api, assistant, orjson.dumps({"webhook_secret": secret}), "webhook_secret")


@pytest.mark.parametrize("secret", ["line\nbreak", "tab\there", "bell\x07", "del\x7f", "cr\r"])
def test_a_secret_that_cannot_be_a_header_value_is_refused(
    api: Api, assistant: dict[str, Any], secret: str
) -> None:
    raw = orjson.dumps({"webhook_secret": secret})
    _refused_everywhere(api, assistant, raw, "webhook_secret", "control characters")


def test_merge_patch_sets_and_clears_a_valid_secret(api: Api, assistant: dict[str, Any]) -> None:
    path = f"/v1/assistant/{assistant['id']}"
    for secret, is_set in (("whsec-ok", True), (None, False), ("s" * 1024, True)):
        raw = orjson.dumps({"webhook_secret": secret})
        response = api.patch(path, content=raw, headers=MERGE_PATCH)
        assert response.status_code == 200, response.text
        assert response.json()["is_webhook_secret_set"] is is_set


def test_merge_patch_checks_the_fields_it_replaces(api: Api, assistant: dict[str, Any]) -> None:
    for body, named in (
        ({"first_message": 5}, "first_message"),
        ({"max_duration_seconds": 5}, "max_duration_seconds"),
        ({"webhook_url": "ftp://hooks.example.org/"}, "webhook_url"),
        ({"name": ""}, "name"),
    ):
        _refused_everywhere(api, assistant, orjson.dumps(body), named)
