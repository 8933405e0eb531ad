"""Creating, reading, listing, changing and deleting provider credentials."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from credential_api import CREDENTIALS, KEY, OTHER_KEY, create_credential
from fastapi.testclient import TestClient

from clarion.auth.service import Caller
from clarion.credentials import repository
from clarion.credentials.models import CredentialRecord
from clarion.database import Database
from secret_resources import (
    assert_every_operation_needs_an_api_key,
    assert_ids_that_cannot_exist_are_404,
    assert_null_clears,
    assert_secret_replaced,
)
from support import Api, Tenant, assert_error


def _timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_create_with_only_the_required_fields(api: Api) -> None:
    created = create_credential(api)

    assert set(created) == {
        "id",
        "organization_id",
        "provider",
        "is_api_key_set",
        "api_key_hint",
        "created_at",
        "updated_at",
    }
    assert created["provider"] == "openai"
    assert created["organization_id"] == api.tenant.organization_id
    assert created["is_api_key_set"] is True
    assert created["api_key_hint"] == "…" + KEY[-4:]
    assert created["created_at"] == created["updated_at"]
    assert created["created_at"].endswith("Z")


def test_create_with_every_field(api: Api) -> None:
    created = create_credential(
        api,
        provider="anthropic",
        api_key=OTHER_KEY,
        base_url="https://proxy.example.org/anthropic",
        name="Claude via the proxy",
    )

    assert created["provider"] == "anthropic"
    assert created["base_url"] == "https://proxy.example.org/anthropic"
    assert created["name"] == "Claude via the proxy"
    assert created["api_key_hint"] == "…" + OTHER_KEY[-4:]
    assert api.get(f"/v1/credential/{created['id']}").json() == created


def test_a_short_key_gets_no_hint(api: Api) -> None:
    assert "api_key_hint" not in create_credential(api, api_key="local-key-15chr")
    assert "api_key_hint" not in create_credential(api, api_key="k")
    sixteen = create_credential(api, api_key="local-key-16char")
    assert sixteen["api_key_hint"] == "…char"


def test_get_one(api: Api, credential: dict[str, Any]) -> None:
    response = api.get(f"/v1/credential/{credential['id']}")
    assert response.status_code == 200
    assert response.json() == credential


def test_list_newest_first_with_a_limit(api: Api) -> None:
    first = create_credential(api, name="first")
    second = create_credential(api, name="second", provider="anthropic")
    third = create_credential(api, name="third")

    assert api.get("/v1/credential").json() == [third, second, first]
    assert api.get("/v1/credential", params={"limit": 2}).json() == [third, second]
    assert api.get("/v1/credential", params={"limit": 1000}).json() == [third, second, first]


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "1.5"])
def test_list_limit_out_of_range_is_400(api: Api, limit: str) -> None:
    assert_error(api.get("/v1/credential", params={"limit": limit}), 400, "limit")


def _insert(database: Database, tenant: Tenant, created_at: dt.datetime, count: int) -> list[int]:
    caller = Caller(tenant.organization_id, tenant.key_id)
    ids = []
    with database.unit(write=True) as unit:
        for _ in range(count):
            record = CredentialRecord(
                0,
                caller.organization_id,
                "openai",
                None,
                None,
                b"\x01",
                None,
                created_at,
                created_at,
            )
            repository.add(unit.statements, record)
            ids.append(record.id)
    return ids


def test_list_default_limit_and_order_of_ties(api: Api, database: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    older = _insert(database, api.tenant, now - dt.timedelta(hours=1), 1)
    same_instant = _insert(database, api.tenant, now, 100)

    listed = api.get("/v1/credential").json()

    assert len(listed) == 100  # the default limit
    assert [c["id"] for c in listed] == sorted(same_instant, reverse=True)
    everything = api.get("/v1/credential", params={"limit": 101}).json()
    assert [c["id"] for c in everything][-1] == older[0]


def test_patch_changes_only_what_is_sent(api: Api, credential: dict[str, Any]) -> None:
    path = f"/v1/credential/{credential['id']}"

    changed = api.patch(path, json={"name": "Renamed"})

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"] == "Renamed"
    assert {k: v for k, v in body.items() if k not in ("name", "updated_at")} == {
        k: v for k, v in credential.items() if k not in ("name", "updated_at")
    }
    assert body["created_at"] == credential["created_at"]
    assert _timestamp(body["updated_at"]) > _timestamp(credential["updated_at"])
    assert api.get(path).json() == body


def test_an_empty_patch_changes_nothing(api: Api, credential: dict[str, Any]) -> None:
    path = f"/v1/credential/{credential['id']}"
    assert api.patch(path, json={}).json() == credential
    same = {"name": credential["name"], "base_url": credential["base_url"], "provider": "openai"}
    assert api.patch(path, json=same).json() == credential
    assert api.get(path).json() == credential


@pytest.mark.parametrize("field", ["name", "base_url"])
def test_null_clears_name_and_base_url(api: Api, credential: dict[str, Any], field: str) -> None:
    other = "base_url" if field == "name" else "name"
    assert_null_clears(api, CREDENTIALS, credential, field, other)


def test_the_key_can_be_replaced(api: Api, credential: dict[str, Any]) -> None:
    assert_secret_replaced(api, CREDENTIALS, credential, OTHER_KEY)


def test_the_key_cannot_be_cleared(api: Api, credential: dict[str, Any]) -> None:
    path = f"/v1/credential/{credential['id']}"
    assert_error(api.patch(path, json={"api_key": None}), 400, "api_key", "cannot be null")
    assert api.get(path).json() == credential


def test_the_provider_cannot_change(api: Api, credential: dict[str, Any]) -> None:
    path = f"/v1/credential/{credential['id']}"

    response = api.patch(path, json={"provider": "anthropic", "name": "Switched"})

    assert_error(response, 400, "provider", "cannot be changed", "openai")
    assert_error(api.patch(path, json={"provider": None}), 400, "provider")
    assert api.get(path).json() == credential


def test_delete_answers_with_the_credential_then_it_is_gone(
    api: Api, credential: dict[str, Any]
) -> None:
    path = f"/v1/credential/{credential['id']}"
    kept = create_credential(api, name="Kept")

    deleted = api.delete(path)

    assert deleted.status_code == 200
    assert deleted.json() == credential
    assert_error(api.get(path), 404, f"credential {credential['id']} not found")
    assert_error(api.patch(path, json={"name": "Back"}), 404, "not found")
    assert_error(api.delete(path), 404, "not found")
    assert api.get("/v1/credential").json() == [kept]


def test_ids_are_not_reused_after_a_delete(api: Api, credential: dict[str, Any]) -> None:
    api.delete(f"/v1/credential/{credential['id']}")
    assert create_credential(api)["id"] > credential["id"]


@pytest.mark.parametrize("raw_id", ["0", "abc", "-1", "1.0", "9" * 19, "%20"])
def test_ids_that_cannot_exist_are_404(api: Api, raw_id: str) -> None:
    assert_ids_that_cannot_exist_are_404(api, CREDENTIALS, raw_id)


def test_every_operation_needs_an_api_key(client: TestClient, credential: dict[str, Any]) -> None:
    body = {"provider": "openai", "api_key": KEY}
    assert_every_operation_needs_an_api_key(client, CREDENTIALS, credential, body)
