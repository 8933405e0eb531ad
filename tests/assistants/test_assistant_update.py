"""PATCH /v1/assistant/{assistantId}: field-level replacement, null clears, {} is a no-op."""

from __future__ import annotations

import datetime as dt

import pytest

from support import Api, assert_error


@pytest.fixture
def assistant(api: Api) -> dict[str, object]:
    return api.create_assistant(
        model={"provider": "openai", "model": "gpt-4o", "temperature": 0.2},
        voice={"provider": "11labs", "voiceId": "rachel"},
        first_message="Hello",
        voicemail_message="Call us back",
        max_duration_seconds=300,
        webhook_url="https://hooks.example.org/a",
        webhook_secret="whsec-original",
        analysis_plan={"summaryPrompt": "Summarise"},
    )


def _patch(api: Api, assistant: dict[str, object], body: object) -> dict[str, object]:
    response = api.patch(f"/v1/assistant/{assistant['id']}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_absent_fields_are_unchanged(api: Api, assistant: dict[str, object]) -> None:
    updated = _patch(api, assistant, {"first_message": "Good morning"})

    assert updated["first_message"] == "Good morning"
    for field in ("name", "model", "voice", "voicemail_message", "max_duration_seconds"):
        assert updated[field] == assistant[field]
    assert updated["is_webhook_secret_set"] is True
    assert api.get(f"/v1/assistant/{assistant['id']}").json() == updated


def test_a_present_object_replaces_the_stored_one_whole(
    api: Api, assistant: dict[str, object]
) -> None:
    updated = _patch(api, assistant, {"model": {"provider": "anthropic", "topP": 0.9}})

    assert updated["model"] == {"provider": "anthropic", "topP": 0.9}


def test_the_contract_fields(api: Api, assistant: dict[str, object]) -> None:
    body = {
        "model": {"provider": "openai", "model": "gpt-4o-mini"},
        "first_message": "Hi there",
        "webhook_url": "http://receiver.example.org:8080/end-of-call?x=1",
        "analysis_plan": {"successEvaluationRubric": "NumericScale"},
    }
    updated = _patch(api, assistant, body)

    for field, value in body.items():
        assert updated[field] == value


def test_every_writable_field(api: Api, assistant: dict[str, object]) -> None:
    body = {
        "name": "Intake",
        "voice": {"provider": "playht", "voiceId": "jennifer"},
        "max_duration_seconds": 43_200,
        "voicemail_message": "New voicemail",
    }
    updated = _patch(api, assistant, {**body, "webhook_secret": "whsec-new"})

    for field, value in body.items():
        assert updated[field] == value
    assert updated["is_webhook_secret_set"] is True
    assert "webhook_secret" not in updated


def test_null_clears_an_optional_field(api: Api, assistant: dict[str, object]) -> None:
    cleared = (
        "model",
        "voice",
        "first_message",
        "voicemail_message",
        "max_duration_seconds",
        "webhook_url",
        "analysis_plan",
    )
    updated = _patch(api, assistant, {**dict.fromkeys(cleared), "webhook_secret": None})

    for field in cleared:
        assert field not in updated
    assert updated["is_webhook_secret_set"] is False
    assert updated["name"] == assistant["name"]


def test_name_cannot_be_cleared(api: Api, assistant: dict[str, object]) -> None:
    assert_error(api.patch(f"/v1/assistant/{assistant['id']}", json={"name": None}), 400, "name")
    assert api.get(f"/v1/assistant/{assistant['id']}").json() == assistant


def test_empty_object_is_a_no_op(api: Api, assistant: dict[str, object]) -> None:
    assert _patch(api, assistant, {}) == assistant


def test_updated_at_moves_only_when_something_changed(
    api: Api, assistant: dict[str, object]
) -> None:
    same = _patch(api, assistant, {"first_message": assistant["first_message"]})
    assert same["updated_at"] == assistant["updated_at"]

    changed = _patch(api, assistant, {"first_message": "Something new"})
    before = dt.datetime.fromisoformat(str(assistant["updated_at"]))
    assert dt.datetime.fromisoformat(str(changed["updated_at"])) > before
    assert changed["created_at"] == assistant["created_at"]


@pytest.mark.parametrize(
    "field", ["id", "organization_id", "created_at", "updated_at", "is_webhook_secret_set"]
)
def test_read_only_fields_are_refused_by_name(
    api: Api, assistant: dict[str, object], field: str
) -> None:
    response = api.patch(f"/v1/assistant/{assistant['id']}", json={field: 7, "name": "x"})

    assert_error(response, 400, field, "read-only")
    assert api.get(f"/v1/assistant/{assistant['id']}").json() == assistant


def test_unknown_field_is_refused_by_name(api: Api, assistant: dict[str, object]) -> None:
    response = api.patch(f"/v1/assistant/{assistant['id']}", json={"firstMessage": "Hi"})

    assert_error(response, 400, "firstMessage")
