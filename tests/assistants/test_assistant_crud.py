"""Create, get, list and delete, as a client sees them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clarion.assistants.fields import CONFIGURABLE_FIELDS
from support import Api, assert_error

FULL = {
    "name": "Appointment reminders",
    "model": {
        "provider": "openai",
        "model": "gpt-4o",
        "temperature": 0.4,
        "max_tokens": 400,
        "messages": [{"role": "system", "content": "You remind patients of appointments."}],
        "toolIds": ["t-1"],
    },
    "voice": {"provider": "11labs", "voiceId": "rachel", "stability": 0.5},
    "transcriber": {"provider": "deepgram", "model": "nova-2", "language": "en-US", "keywords": []},
    "first_message": "Hello, this is Northside Clinic calling about your appointment.",
    "max_duration_seconds": 600,
    "voicemail_message": "Please call us back at your convenience.",
    "silence_timeout_seconds": 20,
    "webhook_url": "https://hooks.example.org/clarion",
    "analysis_plan": {
        "summaryPrompt": "Summarise the call.",
        "structuredDataSchema": {
            "type": "object",
            "properties": {"confirmed": {"type": "boolean"}},
        },
        "successEvaluationRubric": "PassFail",
        "customKey": {"kept": True},
    },
}


def _timestamp(value: str) -> dt.datetime:
    assert value.endswith("Z")
    return dt.datetime.fromisoformat(value)


def test_create_returns_201_with_every_field_as_sent(api: Api) -> None:
    response = api.post("/v1/assistant", json={**FULL, "webhook_secret": "whsec-1"})

    assert response.status_code == 201
    body = response.json()
    for field, value in FULL.items():
        assert body[field] == value, field
    assert body["organization_id"] == api.tenant.organization_id
    assert isinstance(body["id"], int) and body["id"] > 0
    assert body["is_webhook_secret_set"] is True
    assert "webhook_secret" not in body
    assert _timestamp(body["created_at"]) == _timestamp(body["updated_at"])


def test_minimal_assistant_leaves_optional_fields_out(api: Api) -> None:
    body = api.create_assistant()

    assert set(body) == {
        "id",
        "name",
        "organization_id",
        "created_at",
        "updated_at",
        "is_webhook_secret_set",
    }
    assert body["is_webhook_secret_set"] is False


def test_name_is_required_on_create(api: Api) -> None:
    assert_error(api.post("/v1/assistant", json={"first_message": "Hi"}), 400, "name")
    assert api.get("/v1/assistant").json() == []


def test_get_returns_what_create_returned(api: Api) -> None:
    created = api.create_assistant(**FULL)

    response = api.get(f"/v1/assistant/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    # GET and the list write stored documents out as they are; they must read the same.
    assert api.get("/v1/assistant").json() == [created]
    assert set(created) == {
        "id",
        "organization_id",
        "created_at",
        "updated_at",
        *CONFIGURABLE_FIELDS,
        "is_webhook_secret_set",
    }


def test_delete_returns_the_assistant_and_removes_it(api: Api) -> None:
    created = api.create_assistant(**FULL)

    response = api.delete(f"/v1/assistant/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert_error(api.get(f"/v1/assistant/{created['id']}"), 404, str(created["id"]))
    assert_error(api.delete(f"/v1/assistant/{created['id']}"), 404)


def test_ids_are_not_reused_after_delete(api: Api) -> None:
    first = api.create_assistant()
    api.delete(f"/v1/assistant/{first['id']}")

    assert api.create_assistant()["id"] > first["id"]


def test_path_id_that_is_not_a_positive_integer_is_404(api: Api) -> None:
    for raw in ("abc", "0", "-1", "1.5", "01", "99999999999999999999999", "%20"):
        for method in ("GET", "PATCH", "DELETE"):
            kwargs: dict[str, Any] = {"json": {}} if method == "PATCH" else {}
            assert_error(api.request(method, f"/v1/assistant/{raw}", **kwargs), 404)


def test_unknown_id_is_404(api: Api) -> None:
    assert_error(api.get("/v1/assistant/424242"), 404, "424242")


def test_numbers_in_documents_come_back_as_sent(api: Api) -> None:
    # jsonb would keep 1e16 as the integer 10000000000000000, and -0.0 as 0.
    model = {"provider": "openai", "big": 1e16, "negative_zero": -0.0, "exact": 2**63}
    assistant = api.create_assistant(model=model)

    for shown in (
        api.get(f"/v1/assistant/{assistant['id']}").json(),
        api.get("/v1/assistant", params={"created_at_ge": "2000-01-01T00:00:00Z"}).json()[0],
        api.get(f"/v1/assistant/{assistant['id']}/versions/1").json()["configuration"],
    ):
        assert type(shown["model"]["big"]) is float and shown["model"]["big"] == 1e16
        assert str(shown["model"]["negative_zero"]) == "-0.0"
        assert shown["model"]["exact"] == 2**63
