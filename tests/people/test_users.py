"""Owners manage their organization's console users and API keys through the API: invite a
user with a one-time password, list and disable them (which revokes the keys they created);
issue, list and revoke keys."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.auth.keys import KEY_PREFIX, display_prefix
from people_support import Browser, add_person, browser, sign_in
from support import Api, Tenant, assert_error
from webhook_receiver import eventually

NEW_PASSWORD = "a passphrase of my own choosing"


@pytest.fixture
def owner(app: Any, client: TestClient, tenant: Tenant) -> Browser:
    return sign_in(app, add_person(app, tenant.organization_id, "owner"))


def test_an_owner_invites_a_user_who_must_change_the_one_time_password(
    app: Any, owner: Browser, tenant: Tenant
) -> None:
    invited = owner.post("/v1/user", json={"email": " Grace@Northside.Example", "role": "editor"})

    assert invited.status_code == 201, invited.text
    user = invited.json()
    assert set(user) == {
        "user_id",
        "organization_id",
        "email",
        "role",
        "must_change_password",
        "created_at",
        "disabled_at",
        "password",
    }
    assert (user["email"], user["role"], user["organization_id"]) == (
        "grace@northside.example",
        "editor",
        tenant.organization_id,
    )
    assert user["must_change_password"] is True and user["disabled_at"] is None
    one_time = user["password"]
    assert isinstance(one_time, str) and len(one_time) >= 16
    # Shown once: the list never has it.
    listed = owner.get("/v1/user")
    assert one_time not in listed.text and "password_hash" not in listed.text

    grace = browser(app)
    opened = grace.post("/v1/session", json={"email": user["email"], "password": one_time})
    assert opened.status_code == 201, opened.text
    session = Browser(grace, opened.json())
    assert session.session["must_change_password"] is True
    assert_error(session.get("/v1/assistant"), 403, "password")
    changed = session.post(
        "/v1/session/password", json={"current_password": one_time, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert session.get("/v1/assistant").status_code == 200

    # The one-time password has done its work: it opens nothing now.
    again = browser(app).post("/v1/session", json={"email": user["email"], "password": one_time})
    assert_error(again, 401)
    listed_user = next(u for u in owner.get("/v1/user").json() if u["user_id"] == user["user_id"])
    assert listed_user["must_change_password"] is False


def test_an_api_key_invites_users_too(app: Any, client: TestClient, api: Api) -> None:
    invited = api.post("/v1/user", json={"email": "lin@northside.example", "role": "owner"})

    assert invited.status_code == 201, invited.text
    opened = browser(app).post(
        "/v1/session",
        json={"email": "lin@northside.example", "password": invited.json()["password"]},
    )
    assert opened.status_code == 201
    assert opened.json()["role"] == "owner"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not-an-address", "role": "viewer"}, 400, "email"),
        ({"email": "ada\x00@northside.example", "role": "viewer"}, 400, "email"),
        ({"email": "ada\x1b@northside.example", "role": "viewer"}, 400, "email"),
        ({"role": "viewer"}, 400, "email"),
        ({"email": "ok@northside.example", "role": "admin"}, 400, "role"),
        ({"email": "ok@northside.example"}, 400, "role"),
        (
            {"email": "ok@northside.example", "role": "viewer", "password": "mine-mine-mine"},
            400,
            "password",
        ),
        ({"email": "Taken@northside.example", "role": "viewer"}, 409, "email"),
    ],
)
def test_an_invitation_that_cannot_be_made_names_the_field(
    app: Any,
    owner: Browser,
    tenant: Tenant,
    other_tenant: Tenant,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    # An address is one account, in whichever organization.
    add_person(app, other_tenant.organization_id, "viewer", email="taken@northside.example")
    before = owner.get("/v1/user").json()

    assert_error(owner.post("/v1/user", json=body), status, field)

    assert owner.get("/v1/user").json() == before


def test_the_list_shows_the_organization_users_oldest_first(
    app: Any, owner: Browser, tenant: Tenant, other_tenant: Tenant
) -> None:
    viewer = add_person(app, tenant.organization_id, "viewer")
    add_person(app, other_tenant.organization_id, "owner")

    listed = owner.get("/v1/user")

    assert listed.status_code == 200
    assert [(u["user_id"], u["role"]) for u in listed.json()] == [
        (owner.user_id, "owner"),
        (viewer.user_id, "viewer"),
    ]
    assert all("password" not in user and "password_hash" not in user for user in listed.json())


def test_an_owner_disables_others_but_not_themselves(
    app: Any, owner: Browser, tenant: Tenant, other_tenant: Tenant
) -> None:
    editor = add_person(app, tenant.organization_id, "editor")
    stranger = add_person(app, other_tenant.organization_id, "editor")

    assert_error(owner.post(f"/v1/user/{owner.user_id}/disable"), 409, "yourself")
    assert owner.get("/v1/session").status_code == 200

    disabled = owner.post(f"/v1/user/{editor.user_id}/disable")
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["user_id"] == editor.user_id
    when = disabled.json()["disabled_at"]
    assert when is not None
    # Disabling again changes nothing: the first time stands.
    assert owner.post(f"/v1/user/{editor.user_id}/disable").json()["disabled_at"] == when
    listed = {u["user_id"]: u for u in owner.get("/v1/user").json()}
    assert listed[editor.user_id]["disabled_at"] == when
    assert_error(
        browser(app).post("/v1/session", json={"email": editor.email, "password": editor.password}),
        401,
    )

    for missing in (stranger.user_id, 999999, "abc", 0):
        assert_error(owner.post(f"/v1/user/{missing}/disable"), 404, "user")
    assert sign_in(app, stranger).get("/v1/session").status_code == 200


def test_an_editor_manages_neither_users_nor_keys(app: Any, client: TestClient, api: Api) -> None:
    other = add_person(app, api.tenant.organization_id, "viewer")
    editor = sign_in(app, add_person(app, api.tenant.organization_id, "editor"))
    users, keys = api.get("/v1/user").json(), api.get("/v1/api-key").json()

    for method, path, body in [
        ("GET", "/v1/user", None),
        ("POST", "/v1/user", {"email": "new@northside.example", "role": "owner"}),
        ("POST", f"/v1/user/{other.user_id}/disable", None),
        ("GET", "/v1/api-key", None),
        ("POST", "/v1/api-key", None),
        ("POST", f"/v1/api-key/{api.tenant.key_id}/revoke", None),
    ]:
        assert_error(editor.request(method, path, json=body), 403, "owner")

    assert api.get("/v1/user").json() == users
    assert api.get("/v1/api-key").json() == keys
    assert api.get("/v1/assistant").status_code == 200  # the key was not revoked


def test_an_api_key_is_shown_once_listed_by_prefix_and_revoked(
    app: Any, owner: Browser, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = owner.post("/v1/api-key")

    assert created.status_code == 201, created.text
    issued = created.json()
    assert set(issued) == {"key_id", "api_key", "prefix", "created_at", "created_by_user_id"}
    assert issued["created_by_user_id"] == owner.user_id
    key = issued["api_key"]
    assert key.startswith(KEY_PREFIX) and issued["prefix"] == display_prefix(key)
    assert (
        owner.client.get("/v1/assistant", headers={"Authorization": f"Bearer {key}"}).json() == []
    )

    listed = owner.get("/v1/api-key")
    assert listed.status_code == 200
    assert [k["key_id"] for k in listed.json()] == [tenant.key_id, issued["key_id"]]
    shape = {"key_id", "prefix", "created_at", "revoked_at", "created_by_user_id"}
    assert all(set(k) == shape for k in listed.json())
    assert key not in listed.text and tenant.api_key not in listed.text
    assert (listed.json()[1]["prefix"], listed.json()[1]["created_at"]) == (
        issued["prefix"],
        issued["created_at"],
    )
    # Who made each: the organization's first key came from the command line.
    assert [k["created_by_user_id"] for k in listed.json()] == [None, owner.user_id]

    # A key not used yet (so no server remembers it) stops working as soon as it is revoked.
    spare = owner.post("/v1/api-key").json()
    revoked = owner.post(f"/v1/api-key/{spare['key_id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    spare_headers = {"Authorization": f"Bearer {spare['api_key']}"}
    assert_error(owner.client.get("/v1/assistant", headers=spare_headers), 401, "revoked")
    again = owner.post(f"/v1/api-key/{spare['key_id']}/revoke")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    listed_after = {k["key_id"]: k for k in owner.get("/v1/api-key").json()}
    assert listed_after[spare["key_id"]]["revoked_at"] == revoked.json()["revoked_at"]
    assert listed_after[issued["key_id"]]["revoked_at"] is None

    for missing in (other_tenant.key_id, 999999, "abc"):
        assert_error(owner.post(f"/v1/api-key/{missing}/revoke"), 404, "API key")
    theirs = {"Authorization": f"Bearer {other_tenant.api_key}"}
    assert owner.client.get("/v1/assistant", headers=theirs).status_code == 200


def _status_with(client: TestClient, key: str) -> int:
    return client.get("/v1/assistant", headers={"Authorization": f"Bearer {key}"}).status_code


def test_disabling_an_owner_revokes_the_api_keys_they_created_and_no_others(
    app: Any, client: TestClient, owner: Browser, api: Api, tenant: Tenant, other_tenant: Tenant
) -> None:
    leaving = add_person(app, tenant.organization_id, "owner")
    theirs = sign_in(app, leaving)
    kept, spare, dropped = (theirs.post("/v1/api-key").json() for _ in range(3))
    dropped_at = theirs.post(f"/v1/api-key/{dropped['key_id']}/revoke").json()["revoked_at"]
    owners = owner.post("/v1/api-key").json()
    by_api_key = api.post("/v1/api-key").json()
    assert [kept["created_by_user_id"], owners["created_by_user_id"]] == [
        leaving.user_id,
        owner.user_id,
    ]
    assert by_api_key["created_by_user_id"] is None
    # Used once before the disable, so this server remembers it as valid for a moment.
    assert _status_with(client, kept["api_key"]) == 200

    disabled = owner.post(f"/v1/user/{leaving.user_id}/disable")

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["revoked_api_keys"] == 2  # the third they had revoked themselves
    eventually(
        lambda: all(_status_with(client, key["api_key"]) == 401 for key in (kept, spare)),
        "the disabled owner's keys to be refused",
    )
    assert_error(
        client.get("/v1/assistant", headers={"Authorization": f"Bearer {kept['api_key']}"}),
        401,
        "revoked",
    )
    for key in (owners["api_key"], by_api_key["api_key"], tenant.api_key, other_tenant.api_key):
        assert _status_with(client, key) == 200
    # Their session ended too: they cannot make another.
    assert_error(theirs.post("/v1/api-key"), 401)

    listed = {key["key_id"]: key for key in owner.get("/v1/api-key").json()}
    assert [listed[key["key_id"]]["created_by_user_id"] for key in (kept, spare, dropped)] == [
        leaving.user_id
    ] * 3
    assert listed[kept["key_id"]]["revoked_at"] is not None
    assert listed[spare["key_id"]]["revoked_at"] is not None
    assert listed[dropped["key_id"]]["revoked_at"] == dropped_at  # the first revocation stands
    assert listed[owners["key_id"]]["revoked_at"] is None
    assert listed[by_api_key["key_id"]]["revoked_at"] is None
    assert listed[tenant.key_id]["created_by_user_id"] is None
    assert len(listed) == 6

    # Asked again, the disable finds nothing more to revoke.
    again = owner.post(f"/v1/user/{leaving.user_id}/disable")
    assert again.json()["revoked_api_keys"] == 0
    assert again.json()["disabled_at"] == disabled.json()["disabled_at"]


def test_disabling_a_user_who_created_no_key_revokes_none(
    app: Any, client: TestClient, owner: Browser, tenant: Tenant
) -> None:
    viewer = add_person(app, tenant.organization_id, "viewer")
    owners = owner.post("/v1/api-key").json()

    disabled = owner.post(f"/v1/user/{viewer.user_id}/disable")

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["revoked_api_keys"] == 0
    assert _status_with(client, owners["api_key"]) == 200
    assert all(key["revoked_at"] is None for key in owner.get("/v1/api-key").json())
