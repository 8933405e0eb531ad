"""Creating, reading, changing and deleting phone numbers."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from phone_number_api import (
    ACCOUNT_SID,
    NUMBER,
    OTHER_ACCOUNT_SID,
    OTHER_NUMBER,
    OTHER_TOKEN,
    PHONE_NUMBERS,
    TOKEN,
    create_phone_number,
)

from secret_resources import (
    assert_every_operation_needs_an_api_key,
    assert_ids_that_cannot_exist_are_404,
    assert_null_clears,
    assert_secret_replaced,
)
from support import Api, assert_error


def _timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_create_with_only_the_required_fields(api: Api) -> None:
    created = create_phone_number(api)

    assert created == {
        "id": created["id"],
        "organization_id": api.tenant.organization_id,
        "number": NUMBER,
        "provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "is_twilio_auth_token_set": True,
        "twilio_auth_token_hint": "…" + TOKEN[-4:],
        "created_at": created["created_at"],
        "updated_at": created["created_at"],
    }
    assert created["created_at"].endswith("Z")


def test_create_with_every_field(api: Api) -> None:
    assistant = api.create_assistant(name="Front desk")

    created = create_phone_number(
        api,
        number=OTHER_NUMBER,
        twilio_account_sid=OTHER_ACCOUNT_SID,
        twilio_auth_token=OTHER_TOKEN,
        assistant_id=assistant["id"],
        name="London line",
    )

    assert created["number"] == OTHER_NUMBER
    assert created["twilio_account_sid"] == OTHER_ACCOUNT_SID
    assert created["assistant_id"] == assistant["id"]
    assert created["name"] == "London line"
    assert created["twilio_auth_token_hint"] == "…" + OTHER_TOKEN[-4:]
    assert api.get(f"/v1/phone-number/{created['id']}").json() == created


def test_a_short_token_gets_no_hint(api: Api) -> None:
    assert "twilio_auth_token_hint" not in create_phone_number(api, twilio_auth_token="t" * 15)
    sixteen = create_phone_number(api, number=OTHER_NUMBER, twilio_auth_token="t" * 12 + "wxyz")
    assert sixteen["twilio_auth_token_hint"] == "…wxyz"


def test_get_one(api: Api, phone_number: dict[str, Any]) -> None:
    response = api.get(f"/v1/phone-number/{phone_number['id']}")
    assert response.status_code == 200
    assert response.json() == phone_number


def test_an_organization_holds_a_number_once(api: Api, phone_number: dict[str, Any]) -> None:
    body = {
        "number": NUMBER,
        "provider": "twilio",
        "twilio_account_sid": OTHER_ACCOUNT_SID,
        "twilio_auth_token": OTHER_TOKEN,
    }

    assert_error(api.post("/v1/phone-number", json=body), 409, "number", str(phone_number["id"]))
    other = create_phone_number(api, number=OTHER_NUMBER)
    path = f"/v1/phone-number/{other['id']}"
    assert_error(api.patch(path, json={"number": NUMBER, "name": "Taken"}), 409, "number")
    assert api.get(path).json() == other
    assert api.get("/v1/phone-number").json() == [other, phone_number]


def test_patch_changes_only_what_is_sent(api: Api, phone_number: dict[str, Any]) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"

    changed = api.patch(path, json={"name": "Renamed"})

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"] == "Renamed"
    unchanged = ("name", "updated_at")
    assert {k: v for k, v in body.items() if k not in unchanged} == {
        k: v for k, v in phone_number.items() if k not in unchanged
    }
    assert _timestamp(body["updated_at"]) > _timestamp(phone_number["updated_at"])
    assert api.get(path).json() == body


def test_every_field_can_change(api: Api, phone_number: dict[str, Any]) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"
    other_assistant = api.create_assistant(name="After hours")
    changes = {
        "number": OTHER_NUMBER,
        "twilio_account_sid": OTHER_ACCOUNT_SID,
        "assistant_id": other_assistant["id"],
        "name": "Moved",
    }

    changed = api.patch(path, json={**changes, "twilio_auth_token": OTHER_TOKEN})

    assert changed.status_code == 200, changed.text
    assert {name: changed.json()[name] for name in changes} == changes
    assert changed.json()["twilio_auth_token_hint"] == "…" + OTHER_TOKEN[-4:]
    assert api.get(path).json() == changed.json()
    # Its old number is free again.
    assert create_phone_number(api, number=NUMBER)["number"] == NUMBER


def test_an_empty_patch_or_the_same_values_change_nothing(
    api: Api, phone_number: dict[str, Any]
) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"
    assert api.patch(path, json={}).json() == phone_number
    same = {
        name: phone_number[name]
        for name in ("number", "provider", "twilio_account_sid", "assistant_id", "name")
    }
    assert api.patch(path, json=same).json() == phone_number
    assert api.get(path).json() == phone_number


@pytest.mark.parametrize("field", ["name", "assistant_id"])
def test_null_clears_name_and_assistant(api: Api, phone_number: dict[str, Any], field: str) -> None:
    other = "assistant_id" if field == "name" else "name"
    assert_null_clears(api, PHONE_NUMBERS, phone_number, field, other)


def test_the_token_can_be_replaced(api: Api, phone_number: dict[str, Any]) -> None:
    assert_secret_replaced(api, PHONE_NUMBERS, phone_number, OTHER_TOKEN)


@pytest.mark.parametrize("field", ["twilio_auth_token", "number", "twilio_account_sid", "provider"])
def test_required_fields_cannot_be_cleared(
    api: Api, phone_number: dict[str, Any], field: str
) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"
    assert_error(api.patch(path, json={field: None}), 400, field, "cannot be null")
    assert api.get(path).json() == phone_number


def test_delete_answers_with_the_number_then_it_is_gone(
    api: Api, phone_number: dict[str, Any]
) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"
    kept = create_phone_number(api, number=OTHER_NUMBER, name="Kept")

    deleted = api.delete(path)

    assert deleted.status_code == 200
    assert deleted.json() == phone_number
    assert_error(api.get(path), 404, f"phone number {phone_number['id']} not found")
    assert_error(api.patch(path, json={"name": "Back"}), 404, "not found")
    assert_error(api.delete(path), 404, "not found")
    assert api.get("/v1/phone-number").json() == [kept]
    # Its number is free again.
    assert create_phone_number(api, number=NUMBER)["number"] == NUMBER


def test_ids_are_not_reused_after_a_delete(api: Api, phone_number: dict[str, Any]) -> None:
    api.delete(f"/v1/phone-number/{phone_number['id']}")
    assert create_phone_number(api)["id"] > phone_number["id"]


@pytest.mark.parametrize("raw_id", ["0", "abc", "-1", "1.0", "9" * 19, "%20"])
def test_ids_that_cannot_exist_are_404(api: Api, raw_id: str) -> None:
    assert_ids_that_cannot_exist_are_404(api, PHONE_NUMBERS, raw_id)


def test_every_operation_needs_an_api_key(client: TestClient, phone_number: dict[str, Any]) -> None:
    body = {
        "number": OTHER_NUMBER,
        "provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": TOKEN,
    }
    assert_every_operation_needs_an_api_key(client, PHONE_NUMBERS, phone_number, body)


def test_simultaneous_creates_of_one_number_make_one(api: Api) -> None:
    def create(line: int) -> Any:
        body = {
            "number": NUMBER,
            "provider": "twilio",
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": TOKEN,
            "name": f"Attempt {line}",
        }
        return api.post("/v1/phone-number", json=body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(16)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 15, [r.text for r in responses]
    for response in responses[1:]:
        if response.status_code == 409:
            assert_error(response, 409, "number")
    assert len(api.get("/v1/phone-number").json()) == 1
