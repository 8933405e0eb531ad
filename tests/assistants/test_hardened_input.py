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
DEPTH_LIMIT = 64


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


# -- nesting -------------------------------------------------------------------------------


def _nested_body(depth: int, **fields: Any) -> bytes:
    """A body nested ``depth`` levels deep: itself, ``model``, then arrays inside arrays."""
    arrays = depth - 2
    inner = b"[" * arrays + b"]" * arrays
    rest = orjson.dumps(fields)[1:-1]
    return b'{"model": {"deep": ' + inner + b"}" + (b", " + rest if rest else b"") + b"}"


@pytest.mark.parametrize("depth", [DEPTH_LIMIT + 1, 100, 251, 252, 253, 255, 1024, 1025, 5000])
def test_a_body_nested_too_deeply_is_refused(
    api: Api, assistant: dict[str, Any], depth: int
) -> None:
    raw = _nested_body(depth)
    _refused_everywhere(api, assistant, raw, "nested too deeply", f"{DEPTH_LIMIT} levels")


def test_a_body_at_the_depth_limit_round_trips_everywhere(
    api: Api, assistant: dict[str, Any]
) -> None:
    raw = _nested_body(DEPTH_LIMIT, name="Deep")
    created = api.post("/v1/assistant", content=raw, headers=JSON)
    assert created.status_code == 201, created.text
    deep = orjson.loads(raw)["model"]
    assert created.json()["model"] == deep
    path = f"/v1/assistant/{created.json()['id']}"

    patched = api.patch(path, content=_nested_body(DEPTH_LIMIT), headers=JSON)
    assert patched.status_code == 200, patched.text
    merged = api.patch(path, content=_nested_body(DEPTH_LIMIT), headers=MERGE_PATCH)
    assert merged.status_code == 200, merged.text

    assert api.get(path).json()["model"] == deep
    listed = api.get("/v1/assistant")
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["model"] == deep
    versions = api.get(f"{path}/versions")
    assert versions.status_code == 200, versions.text
    assert [v["configuration"]["model"] for v in versions.json()] == [deep]
    version = api.get(f"{path}/versions/1")
    assert version.status_code == 200, version.text
    assert version.json()["configuration"]["model"] == deep


def test_merge_patch_keeps_a_merged_object_within_the_limit(
    api: Api, assistant: dict[str, Any]
) -> None:
    path = f"/v1/assistant/{assistant['id']}"
    assert (
        api.patch(path, content=_nested_body(DEPTH_LIMIT), headers=MERGE_PATCH).status_code == 200
    )
    merged = api.patch(path, json={"model": {"other": 1}}, headers=MERGE_PATCH)
    assert merged.status_code == 200, merged.text
    assert api.get(f"{path}/versions").status_code == 200


# -- integers ------------------------------------------------------------------------------

SMALLEST = -(2**63)
LARGEST = 2**64 - 1


def _raw_integer(value: int) -> bytes:
    return str(value).encode()


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'{"model": {"x": %s}}' % _raw_integer(LARGEST + 1), "model.x"),
        (b'{"model": {"x": %s}}' % _raw_integer(SMALLEST - 1), "model.x"),
        (b'{"model": {"x": %s}}' % _raw_integer(10**30), "model.x"),
        (b'{"model": {"x": %s}}' % _raw_integer(10**300), "model.x"),
        (b'{"model": {"list": [1, %s]}}' % _raw_integer(2**70), "model.list[1]"),
        (b'{"voice": {"a": {"b": [[%s]]}}}' % _raw_integer(-(2**64)), "voice.a.b[0][0]"),
        (b'{"analysis_plan": {"n": %s}}' % _raw_integer(2**64), "analysis_plan.n"),
        (b'{"max_duration_seconds": %s}' % _raw_integer(2**64), "max_duration_seconds"),
    ],
)
def test_an_integer_beyond_sixty_four_bits_is_refused(
    api: Api, assistant: dict[str, Any], raw: bytes, named: str
) -> None:
    _refused_everywhere(api, assistant, raw, named, "integer")


def test_integers_at_the_ends_of_the_range_are_kept_exactly(
    api: Api, assistant: dict[str, Any]
) -> None:
    path = f"/v1/assistant/{assistant['id']}"
    model = {"largest": LARGEST, "smallest": SMALLEST, "list": [2**63, -(2**63) + 1, 0]}
    raw = b'{"model": {"largest": %s, "smallest": %s, "list": [%s, %s, 0]}}' % (
        _raw_integer(LARGEST),
        _raw_integer(SMALLEST),
        _raw_integer(2**63),
        _raw_integer(-(2**63) + 1),
    )
    for headers in (JSON, MERGE_PATCH):
        response = api.patch(path, content=raw, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["model"] == model

    assert api.get(path).json()["model"] == model
    assert api.get("/v1/assistant").json()[0]["model"] == model
    (latest, _created) = api.get(f"{path}/versions").json()
    assert latest["configuration"]["model"] == model
    assert api.get(f"{path}/versions/2").json()["configuration"]["model"] == model


def test_long_digit_runs_that_are_not_integers_are_fine(
    api: Api, assistant: dict[str, Any]
) -> None:
    digits = "1" * 40
    raw = b'{"model": {"text": "%s", "float": 1.5e30, "fraction": 0.%s}}' % (
        digits.encode(),
        digits.encode(),
    )
    response = api.patch(f"/v1/assistant/{assistant['id']}", content=raw, headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["model"]["text"] == digits
    assert response.json()["model"]["float"] == 1.5e30
