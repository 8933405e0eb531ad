"""Another organization's credential is indistinguishable from a missing one, everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from credential_api import CREDENTIALS, OTHER_KEY, create_credential
from fastapi.testclient import TestClient

from secret_resources import assert_as_good_as_missing
from support import Api, Tenant, assert_error


@pytest.fixture
def theirs(client: TestClient, other_tenant: Tenant) -> dict[str, Any]:
    return create_credential(
        Api(client, other_tenant), name="Theirs", base_url="https://t.example/"
    )


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {}),
        ("PATCH", {"json": {"name": "Mine now"}}),
        ("PATCH", {"json": {"api_key": OTHER_KEY}}),
        ("PATCH", {"json": {"base_url": None}}),
        ("PATCH", {"json": {}}),
        ("DELETE", {}),
    ],
)
def test_each_operation_on_their_credential_is_404(
    api: Api,
    client: TestClient,
    other_tenant: Tenant,
    theirs: dict[str, Any],
    method: str,
    kwargs: dict[str, Any],
) -> None:
    owner = Api(client, other_tenant)
    assert_as_good_as_missing(api, owner, CREDENTIALS, theirs, method, kwargs)


def test_the_list_shows_only_the_callers_credentials(
    api: Api, client: TestClient, other_tenant: Tenant, theirs: dict[str, Any]
) -> None:
    assert api.get("/v1/credential").json() == []
    assert api.get("/v1/credential", params={"limit": 1000}).json() == []

    mine = create_credential(api, name="Mine")

    assert mine["organization_id"] == api.tenant.organization_id
    assert api.get("/v1/credential").json() == [mine]
    assert Api(client, other_tenant).get("/v1/credential").json() == [theirs]


def test_creating_lands_in_the_callers_organization_only(
    api: Api, client: TestClient, other_tenant: Tenant
) -> None:
    mine = create_credential(api)
    owner = Api(client, other_tenant)

    assert mine["organization_id"] == api.tenant.organization_id != other_tenant.organization_id
    assert owner.get("/v1/credential").json() == []
    assert_error(owner.get(f"/v1/credential/{mine['id']}"), 404, "not found")
