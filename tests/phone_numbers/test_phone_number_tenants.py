"""Another organization's phone number is indistinguishable from a missing one, everywhere;
and a number can only be answered by an assistant of its own organization."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from phone_number_api import NUMBER, OTHER_NUMBER, OTHER_TOKEN, PHONE_NUMBERS, create_phone_number

from clarion.database import Database
from clarion.phone_numbers.repository import called
from clarion.phone_numbers.service import phone_number_of
from secret_resources import assert_as_good_as_missing
from support import Api, Tenant, assert_error


@pytest.fixture
def owner(client: TestClient, other_tenant: Tenant) -> Api:
    return Api(client, other_tenant)


@pytest.fixture
def theirs(owner: Api) -> dict[str, Any]:
    assistant = owner.create_assistant(name="Theirs")
    return create_phone_number(owner, name="Theirs", assistant_id=assistant["id"])


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {}),
        ("PATCH", {"json": {"name": "Mine now"}}),
        ("PATCH", {"json": {"twilio_auth_token": OTHER_TOKEN}}),
        ("PATCH", {"json": {"assistant_id": None}}),
        ("PATCH", {"json": {"number": OTHER_NUMBER}}),
        ("PATCH", {"json": {}}),
        ("DELETE", {}),
    ],
)
def test_each_operation_on_their_number_is_404(
    api: Api,
    owner: Api,
    theirs: dict[str, Any],
    method: str,
    kwargs: dict[str, Any],
) -> None:
    assert_as_good_as_missing(api, owner, PHONE_NUMBERS, theirs, method, kwargs)


def test_the_list_shows_only_the_callers_numbers(
    api: Api, owner: Api, theirs: dict[str, Any]
) -> None:
    assert api.get("/v1/phone-number").json() == []
    params = {"limit": 1000, "created_at_ge": "2000-01-01T00:00:00Z"}
    assert api.get("/v1/phone-number", params=params).json() == []

    mine = create_phone_number(api, name="Mine")

    assert mine["organization_id"] == api.tenant.organization_id
    assert api.get("/v1/phone-number").json() == [mine]
    assert owner.get("/v1/phone-number").json() == [theirs]


def test_two_organizations_may_each_hold_the_same_number(api: Api, theirs: dict[str, Any]) -> None:
    mine = create_phone_number(api, number=theirs["number"])
    assert mine["number"] == theirs["number"] == NUMBER
    assert mine["id"] != theirs["id"]


def test_their_assistant_cannot_answer_my_number(
    api: Api, owner: Api, phone_number: dict[str, Any]
) -> None:
    their_assistant = owner.create_assistant(name="Not yours")
    path = f"/v1/phone-number/{phone_number['id']}"
    message = f"assistant {their_assistant['id']} not found"

    refused = api.patch(path, json={"assistant_id": their_assistant["id"], "name": "Taken"})
    assert_error(refused, 400, "assistant_id", message)
    assert api.get(path).json() == phone_number
    created = api.post(
        "/v1/phone-number",
        json={
            "number": OTHER_NUMBER,
            "provider": "twilio",
            "twilio_account_sid": phone_number["twilio_account_sid"],
            "twilio_auth_token": OTHER_TOKEN,
            "assistant_id": their_assistant["id"],
        },
    )
    assert_error(created, 400, "assistant_id", message)
    assert api.get("/v1/phone-number").json() == [phone_number]
    # Their own number takes it.
    theirs = create_phone_number(owner, assistant_id=their_assistant["id"])
    assert theirs["assistant_id"] == their_assistant["id"]


def test_an_assistant_that_does_not_exist_cannot_answer(
    api: Api, phone_number: dict[str, Any]
) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"
    missing = phone_number["assistant_id"] + 1000
    assert_error(api.patch(path, json={"assistant_id": missing}), 400, "assistant_id")
    assert api.get(path).json() == phone_number


def test_a_call_lookup_finds_only_the_organizations_number(
    database: Database, tenant: Tenant, other_tenant: Tenant, theirs: dict[str, Any]
) -> None:
    with database.unit() as unit:
        assert phone_number_of(unit, tenant.organization_id, theirs["id"]) is None
        found = phone_number_of(unit, other_tenant.organization_id, theirs["id"])
        assert found is not None
        assert (found.id, found.number) == (theirs["id"], theirs["number"])
        assert phone_number_of(unit, other_tenant.organization_id, theirs["id"] + 1) is None


def test_a_call_to_a_number_finds_it_in_every_organization_holding_it_in_that_account(
    api: Api, owner: Api, database: Database, theirs: dict[str, Any]
) -> None:
    mine = create_phone_number(api, number=theirs["number"])
    create_phone_number(api, number=OTHER_NUMBER)
    elsewhere = create_phone_number(owner, number=OTHER_NUMBER, twilio_account_sid="AC" + "e" * 32)

    with database.unit() as unit:
        both = called(unit.statements, NUMBER, theirs["twilio_account_sid"])
        other_account = called(unit.statements, OTHER_NUMBER, elsewhere["twilio_account_sid"])
        nobody = called(unit.statements, "+15555550000", theirs["twilio_account_sid"])

    assert [(n.id, n.organization_id) for n in both] == [
        (theirs["id"], theirs["organization_id"]),
        (mine["id"], mine["organization_id"]),
    ]
    assert [n.id for n in other_account] == [elsewhere["id"]]
    assert nobody == []
