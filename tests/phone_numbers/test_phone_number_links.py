"""What a phone number is linked to: the assistant that answers it, the calls made with it,
and the auth token a call reads back."""

from __future__ import annotations

from typing import Any

import pytest
from phone_number_api import OTHER_NUMBER, TOKEN, create_phone_number
from sqlalchemy import update

from clarion.database import Database
from clarion.errors import InvalidInput
from clarion.phone_numbers.models import PhoneNumberRow
from clarion.phone_numbers.service import phone_number_of, twilio_auth_token
from clarion.storage.secret_box import SecretBox
from support import Api, Tenant


def test_a_deleted_assistant_stays_named_until_it_is_restored_or_replaced(
    api: Api, answering: dict[str, Any], phone_number: dict[str, Any]
) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"
    assert api.delete(f"/v1/assistant/{answering['id']}").status_code == 200

    assert api.get(path).json() == phone_number
    # Sent back whole, with another change, the number's own link is no obstacle.
    renamed = api.patch(path, json={**_writable(phone_number), "name": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["assistant_id"] == answering["id"]

    restored = api.post(f"/v1/assistant/{answering['id']}/versions/1/restore")
    assert restored.status_code == 200, restored.text
    assert api.get(path).json()["assistant_id"] == answering["id"]

    other = api.create_assistant(name="After hours")
    moved = api.patch(path, json={"assistant_id": other["id"]})
    assert moved.json()["assistant_id"] == other["id"]


def _writable(phone_number: dict[str, Any]) -> dict[str, Any]:
    names = ("number", "provider", "twilio_account_sid", "assistant_id", "name")
    return {name: phone_number[name] for name in names}


def test_deleting_a_number_leaves_the_calls_made_with_it(
    api: Api, phone_number: dict[str, Any]
) -> None:
    credential = {"provider": "openai", "api_key": "sk-test-not-used-for-anything"}
    assert api.post("/v1/credential", json=credential).status_code == 201
    assistant = api.create_assistant(
        name="Reminders", model={"provider": "openai", "model": "gpt-4o"}
    )
    made = api.post(
        "/v1/call",
        json={
            "assistant_id": assistant["id"],
            "source_phone_number_id": phone_number["id"],
            "destination_phone_number": OTHER_NUMBER,
        },
    )
    assert made.status_code == 201, made.text
    call_path = f"/v1/call/{made.json()['id']}"
    before = api.get(call_path).json()

    assert api.delete(f"/v1/phone-number/{phone_number['id']}").status_code == 200

    after = api.get(call_path)
    assert after.status_code == 200
    assert after.json() == before
    assert after.json()["destination_number"] == OTHER_NUMBER


def test_a_call_reads_the_token_back(
    api: Api, database: Database, app: Any, tenant: Tenant, phone_number: dict[str, Any]
) -> None:
    box: SecretBox = app.state.services.secrets
    with database.unit() as unit:
        found = phone_number_of(unit, tenant.organization_id, phone_number["id"])
    assert found is not None
    assert twilio_auth_token(found, box) == TOKEN
    assert TOKEN not in repr(found)


def test_a_token_sealed_under_another_key_asks_for_it_again(
    api: Api, database: Database, app: Any, tenant: Tenant
) -> None:
    created = create_phone_number(api)
    foreign = SecretBox(b"k" * 32).encrypt(TOKEN, tenant.organization_id)
    with database.unit(write=True) as unit:
        unit.session.execute(
            update(PhoneNumberRow)
            .where(PhoneNumberRow.id == created["id"])
            .values(twilio_auth_token_encrypted=foreign)
        )
    with database.unit() as unit:
        found = phone_number_of(unit, tenant.organization_id, created["id"])
    assert found is not None

    with pytest.raises(InvalidInput) as refused:
        twilio_auth_token(found, app.state.services.secrets)

    assert "twilio_auth_token" in refused.value.message
    assert TOKEN not in refused.value.message
