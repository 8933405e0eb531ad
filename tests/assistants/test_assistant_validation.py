"""Every validation failure is a 400 that names the field, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from support import Api, assert_error


@pytest.fixture
def assistant(api: Api) -> dict[str, Any]:
    return api.create_assistant(first_message="Hello", model={"provider": "openai"})


RAW_BODIES = [
    (b"", "empty"),
    (b"   ", "empty"),
    (b"{not json", "not valid JSON"),
    (b"[]", "JSON object"),
    (b'"text"', "JSON object"),
    (b"null", "JSON object"),
    (b"42", "JSON object"),
    (b"true", "JSON object"),
]


@pytest.mark.parametrize(("raw", "named"), RAW_BODIES)
def test_body_must_be_a_json_object(
    api: Api, assistant: dict[str, Any], raw: bytes, named: str
) -> None:
    headers = {"Content-Type": "application/json"}
    assert_error(
        api.patch(f"/v1/assistant/{assistant['id']}", content=raw, headers=headers), 400, named
    )
    assert_error(api.post("/v1/assistant", content=raw, headers=headers), 400, named)


LONG = "x" * 10_001

INVALID_FIELDS = [
    ({"name": ""}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"name": 5}, "name"),
    ({"model": "gpt-4o"}, "model"),
    ({"model": ["gpt-4o"]}, "model"),
    ({"model": {"provider": 7}}, "model.provider"),
    ({"model": {"model": None}}, "model.model"),
    ({"model": {"temperature": 2.5}}, "model.temperature"),
    ({"model": {"temperature": -0.1}}, "model.temperature"),
    ({"model": {"temperature": "hot"}}, "model.temperature"),
    ({"model": {"max_tokens": 0}}, "model.max_tokens"),
    ({"model": {"max_tokens": 2.5}}, "model.max_tokens"),
    ({"model": {"max_tokens": True}}, "model.max_tokens"),
    ({"model": {"messages": {"role": "system"}}}, "model.messages"),
    ({"model": {"messages": [{"role": "robot", "content": "x"}]}}, "model.messages[0].role"),
    ({"model": {"messages": [{"role": "user"}]}}, "model.messages[0].content"),
    ({"model": {"messages": [{"role": "user", "content": 3}]}}, "model.messages[0].content"),
    ({"voice": "rachel"}, "voice"),
    ({"voice": {"voiceId": 12}}, "voice.voiceId"),
    ({"voice": {"provider": ""}}, "voice.provider"),
    ({"analysis_plan": []}, "analysis_plan"),
    ({"analysis_plan": {"summaryPrompt": 1}}, "analysis_plan.summaryPrompt"),
    ({"analysis_plan": {"structuredDataSchema": "object"}}, "analysis_plan.structuredDataSchema"),
    (
        {"analysis_plan": {"structuredDataSchema": {"type": "objekt"}}},
        "analysis_plan.structuredDataSchema",
    ),
    (
        {"analysis_plan": {"structuredDataSchema": {"properties": {"a": {"minimum": "0"}}}}},
        "analysis_plan.structuredDataSchema",
    ),
    # Patterns run in linear time: lookaround and backreferences are refused when saved.
    *(
        (
            {"analysis_plan": {"structuredDataSchema": schema}},
            "analysis_plan.structuredDataSchema",
        )
        for schema in (
            {"properties": {"code": {"type": "string", "pattern": "^(?=.*[0-9])[a-z0-9]+$"}}},
            {"properties": {"code": {"type": "string", "pattern": "(?<!x)y"}}},
            {"properties": {"code": {"type": "string", "pattern": "^(a+)\\1$"}}},
            {"items": [{"patternProperties": {"^(?!id)": {"type": "string"}}}]},
            {"$defs": {"d": {"pattern": "(?<day>Mon|Tue)\\k<day>"}}},
        )
    ),
    (
        {"analysis_plan": {"successEvaluationRubric": "Vibes"}},
        "analysis_plan.successEvaluationRubric",
    ),
    ({"analysis_plan": {"successEvaluationPrompt": None}}, "analysis_plan.successEvaluationPrompt"),
    ({"webhook_url": "hooks.example.org/a"}, "webhook_url"),
    ({"webhook_url": "ftp://hooks.example.org/a"}, "webhook_url"),
    ({"webhook_url": "https://"}, "webhook_url"),
    ({"webhook_url": "https://hooks.example.org/a b"}, "webhook_url"),
    ({"webhook_url": "https://hooks.example.org:99999/"}, "webhook_url"),
    ({"webhook_url": "https://hooks.example.org/" + "a" * 2048}, "webhook_url"),
    ({"webhook_url": 5}, "webhook_url"),
    ({"max_duration_seconds": 9}, "max_duration_seconds"),
    ({"max_duration_seconds": 43_201}, "max_duration_seconds"),
    ({"max_duration_seconds": 60.5}, "max_duration_seconds"),
    ({"max_duration_seconds": "60"}, "max_duration_seconds"),
    ({"max_duration_seconds": True}, "max_duration_seconds"),
    ({"first_message": LONG}, "first_message"),
    ({"first_message": 1}, "first_message"),
    ({"voicemail_message": LONG}, "voicemail_message"),
    ({"webhook_secret": ""}, "webhook_secret"),
    ({"webhook_secret": 123}, "webhook_secret"),
    ({"webhook_secret": "s" * 1025}, "webhook_secret"),
    ({"model": {"provider": "openai"}, "temperature": 1}, "temperature"),
    # PostgreSQL cannot store U+0000 in text or JSONB; refused everywhere, alike.
    ({"name": "Re\u0000minders"}, "name"),
    ({"first_message": "\u0000"}, "first_message"),
    (
        {"model": {"messages": [{"role": "user", "content": "a\u0000"}]}},
        "model.messages[0].content",
    ),
    ({"voice": {"custom\u0000key": 1}}, "voice.custom"),
]


@pytest.mark.parametrize(("body", "named"), INVALID_FIELDS)
def test_invalid_field_on_patch_is_400_and_changes_nothing(
    api: Api, assistant: dict[str, Any], body: dict[str, Any], named: str
) -> None:
    response = api.patch(f"/v1/assistant/{assistant['id']}", json={"first_message": "New", **body})

    assert_error(response, 400, named)
    assert api.get(f"/v1/assistant/{assistant['id']}").json() == assistant


@pytest.mark.parametrize(("body", "named"), INVALID_FIELDS)
def test_invalid_field_on_create_is_400_and_creates_nothing(
    api: Api, assistant: dict[str, Any], body: dict[str, Any], named: str
) -> None:
    assert_error(api.post("/v1/assistant", json={"name": "Valid", **body}), 400, named)
    assert [item["id"] for item in api.get("/v1/assistant").json()] == [assistant["id"]]


def test_boundaries_are_accepted(api: Api, assistant: dict[str, Any]) -> None:
    body = {
        "model": {"temperature": 0, "max_tokens": 1, "messages": []},
        "max_duration_seconds": 10,
        "first_message": "x" * 10_000,
        "webhook_url": "https://hooks.example.org/" + "a" * (2048 - 26),
        "analysis_plan": {"structuredDataSchema": {}},
    }
    response = api.patch(f"/v1/assistant/{assistant['id']}", json=body)
    assert response.status_code == 200, response.text
    assert (
        api.patch(
            f"/v1/assistant/{assistant['id']}",
            json={"model": {"temperature": 2}, "max_duration_seconds": 43_200},
        ).status_code
        == 200
    )


def test_patterns_that_only_look_like_lookaround_are_accepted(
    api: Api, assistant: dict[str, Any]
) -> None:
    schema = {
        "properties": {
            "code": {"type": "string", "pattern": "^\\(?=x\\\\1[a-z]{2,5}$"},
            "when": {"type": "string", "pattern": "^(?<day>Mon|Tue) [0-9]+$"},
        },
        "examples": [{"pattern": "(?=data, not a schema)"}],
    }
    body = {"analysis_plan": {"structuredDataSchema": schema}}
    response = api.patch(f"/v1/assistant/{assistant['id']}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["analysis_plan"]["structuredDataSchema"] == schema


def test_the_text_of_a_nul_escape_is_not_a_nul(api: Api, assistant: dict[str, Any]) -> None:
    text = "Type \\u0000 to see a NUL escape"  # a backslash, then "u0000"
    response = api.patch(f"/v1/assistant/{assistant['id']}", json={"first_message": text})
    assert response.status_code == 200, response.text
    assert response.json()["first_message"] == text


def test_non_json_content_type_is_refused(api: Api, assistant: dict[str, Any]) -> None:
    response = api.patch(
        f"/v1/assistant/{assistant['id']}",
        content=b"first_message=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "Content-Type")


@pytest.mark.parametrize("value", [4, 3601, 30.0, "30", True])
def test_silence_timeout_is_a_whole_number_of_seconds_from_5_to_3600(
    api: Api, value: object
) -> None:
    assert_error(
        api.post("/v1/assistant", json={"name": "x", "silence_timeout_seconds": value}),
        400,
        "silence_timeout_seconds",
    )
