"""Every operation of the API names the role it needs, and the server holds to it: a table
of the whole OpenAPI document, tried with a viewer's, an editor's and an owner's session and
with an API key; and each session sees its own organization's objects only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from calls_support import CallsApi, model_of
from clarion.config import Settings
from clarion.people.roles import Role
from fake_twilio import running_fake_twilio
from people_support import Browser, add_person, sign_in, signed_in
from served import free_port
from support import Api, Tenant, assert_error
from webhook_receiver import eventually

PUBLIC = "anyone"
"""Needs no credential at all."""
SESSION = "the session's own user"
"""A console session's own business (sign in, out, its password), whatever the role."""

VIEWER, EDITOR, OWNER = Role.VIEWER, Role.EDITOR, Role.OWNER

# Every operation of the OpenAPI document, and who may call it. An operation added to the API
# fails test_every_operation_has_a_decision until its line is added here.
NEEDED: dict[tuple[str, str], Role | str] = {
    ("get", "/health"): PUBLIC,
    ("get", "/webhook-signing-key"): PUBLIC,
    ("post", "/session"): PUBLIC,
    ("get", "/session"): SESSION,
    ("delete", "/session"): SESSION,
    ("post", "/session/password"): SESSION,
    ("get", "/assistant"): VIEWER,
    ("post", "/assistant"): EDITOR,
    ("get", "/assistant/{assistantId}"): VIEWER,
    ("patch", "/assistant/{assistantId}"): EDITOR,
    ("get", "/assistant/{assistantId}/versions"): VIEWER,
    ("get", "/assistant/{assistantId}/versions/{version}"): VIEWER,
    ("post", "/assistant/{assistantId}/versions/{version}/restore"): EDITOR,
    ("post", "/assistant/{assistantId}/webhook/test"): EDITOR,
    ("get", "/webhook-deliveries"): VIEWER,
    ("get", "/webhook-deliveries/{deliveryId}"): VIEWER,
    ("post", "/webhook-deliveries/{deliveryId}/redeliver"): EDITOR,
    ("get", "/call"): VIEWER,
    ("post", "/call"): EDITOR,
    ("get", "/call/{callId}"): VIEWER,
    ("post", "/call/{callId}/web-call-url"): EDITOR,
    ("post", "/call/{callId}/end"): EDITOR,
    ("get", "/credential"): EDITOR,
    ("post", "/credential"): EDITOR,
    ("get", "/credential/{credentialId}"): EDITOR,
    ("patch", "/credential/{credentialId}"): EDITOR,
    ("get", "/phone-number"): OWNER,
    ("post", "/phone-number"): OWNER,
    ("get", "/phone-number/{phoneNumberId}"): OWNER,
    ("patch", "/phone-number/{phoneNumberId}"): OWNER,
    ("delete", "/phone-number/{phoneNumberId}"): OWNER,
    ("get", "/user"): OWNER,
    ("post", "/user"): OWNER,
    ("post", "/user/{userId}/disable"): OWNER,
    ("get", "/api-key"): OWNER,
    ("post", "/api-key"): OWNER,
    ("post", "/api-key/{keyId}/revoke"): OWNER,
    ("get", "/access-log"): OWNER,
    # The deletions last, so that the operations above find their objects still there.
    ("delete", "/credential/{credentialId}"): EDITOR,
    ("delete", "/call/{callId}"): OWNER,
    ("delete", "/assistant/{assistantId}"): EDITOR,
}
ROLES = [VIEWER, EDITOR, OWNER]
METHODS = {"get", "post", "patch", "put", "delete", "head", "options", "trace"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An operator's OpenAI key, so that calls can be created (none is joined here)."""
    return Settings(**{**settings.model_dump(), "openai_api_key": "sk-operator"})


def _operations(client: TestClient) -> set[tuple[str, str]]:
    document = client.get("/openapi.json").json()
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def _objects(api: Api, app: Any) -> dict[str, str]:
    """An object of each kind in ``api``'s organization: the path parameters to try."""
    assistant = api.create_assistant(
        model=model_of("openai"), webhook_url="https://hooks.example.org/clarion"
    )
    credential = api.post("/v1/credential", json={"provider": "openai", "api_key": "sk-cred"})
    call = api.post("/v1/call", json={"assistant_id": assistant["id"]})
    delivery = api.post(f"/v1/assistant/{assistant['id']}/webhook/test")
    key = api.post("/v1/api-key")
    for response in (credential, call, delivery, key):
        assert response.status_code in (200, 201, 202), response.text
    user = add_person(app, api.tenant.organization_id, "viewer")
    return {
        "assistantId": str(assistant["id"]),
        "version": "1",
        "credentialId": str(credential.json()["id"]),
        "callId": str(call.json()["id"]),
        "deliveryId": str(delivery.json()["id"]),
        "phoneNumberId": "4242",  # none: adding one asks Twilio
        "userId": str(user.user_id),
        "keyId": str(key.json()["key_id"]),
    }


def _try(request: Callable[..., Any], method: str, path: str, ids: dict[str, str]) -> Any:
    filled = "/v1" + re.sub(r"\{(\w+)\}", lambda name: ids[name.group(1)], path)
    body = {"json": {}} if method in ("post", "patch") else {}
    return request(method.upper(), filled, **body)


def test_every_operation_has_a_decision(client: TestClient) -> None:
    assert _operations(client) == set(NEEDED)


def test_each_role_may_do_what_its_rank_allows_and_is_refused_the_rest(
    app: Any, client: TestClient, api: Api
) -> None:
    ids = _objects(api, app)
    sessions = {
        role: sign_in(app, add_person(app, api.tenant.organization_id, role)) for role in ROLES
    }
    guarded = [(operation, role) for operation, role in NEEDED.items() if isinstance(role, Role)]
    watched = [
        f"/v1/assistant/{ids['assistantId']}",
        f"/v1/call/{ids['callId']}",
        "/v1/user",
        "/v1/api-key",
        "/v1/credential",
    ]
    before = {path: api.get(path).json() for path in watched}

    for role in ROLES:
        session = sessions[role]
        for (method, path), needed in guarded:
            response = _try(session.request, method, path, ids)
            if role.may(needed):
                assert response.status_code not in (401, 403), (role, method, path, response.text)
            else:
                assert_error(response, 403, f"needs the {needed} role", f"yours is {role}")
        if role is VIEWER:  # what the viewer was refused changed nothing
            assert {path: api.get(path).json() for path in watched} == before

    # An API key acts as an owner.
    for (method, path), _needed in guarded:
        response = _try(api.request, method, path, ids)
        assert response.status_code not in (401, 403), (method, path, response.text)


def test_a_phone_call_needs_the_owner_role(served: Callable[..., CallsApi], tenant: Tenant) -> None:
    # An editor starts test calls in a browser; phoning someone from the organization's
    # numbers is the owners' (and so an API key's), as managing those numbers is.
    patient, stranger = "+15550199999", "+15550199998"
    with running_fake_twilio() as twilio:
        port = free_port()
        api = served(
            tenant, port=port, public_url=f"http://127.0.0.1:{port}", twilio_api_base=twilio.url
        )
        assistant_id = api.assistant(model=model_of("openai"))["id"]
        number = api.http.post(
            "/v1/phone-number",
            json={
                "number": "+15550100200",
                "provider": "twilio",
                "twilio_account_sid": twilio.fake.account_sid,
                "twilio_auth_token": twilio.fake.auth_token,
            },
        )
        assert number.status_code == 201, number.text
        editor, owner = (
            signed_in(
                httpx.Client(base_url=api.serving.base),
                add_person(api.serving.app, tenant.organization_id, role),
            )
            for role in (EDITOR, OWNER)
        )

        def phoning(destination: str) -> dict[str, Any]:
            return {
                "assistant_id": assistant_id,
                "call_type": "outboundPhoneCall",
                "source_phone_number_id": number.json()["id"],
                "destination_phone_number": destination,
            }

        refused = editor.post("/v1/call", json=phoning(stranger))
        assert_error(refused, 403, "call_type: a phone call needs the owner role; yours is editor")
        inbound = editor.post(
            "/v1/call", json={**phoning(stranger), "call_type": "inboundPhoneCall"}
        )
        # No role makes an inbound call: it is the same 400 the owner gets.
        assert_error(inbound, 400, "call_type: inboundPhoneCall calls are made by patients")
        assert api.http.get("/v1/call").json() == []
        web = editor.post("/v1/call", json={"assistant_id": assistant_id})
        assert web.status_code == 201, web.text

        by_owner = owner.post("/v1/call", json=phoning(patient))
        assert by_owner.status_code == 201, by_owner.text
        by_key = api.http.post("/v1/call", json=phoning(patient))
        assert by_key.status_code == 201, by_key.text
        eventually(lambda: len(twilio.fake.calls) == 2, "the owner's and the key's calls placed")
        # Nothing was placed for the editor: Twilio was asked for the patient only.
        assert [placed.to for placed in twilio.fake.calls] == [patient, patient]
        listed = api.http.get("/v1/call", params={"include_messages": "false"}).json()
        assert sorted(call["id"] for call in listed) == sorted(
            response.json()["id"] for response in (web, by_owner, by_key)
        )


def test_without_a_credential_only_the_public_operations_answer(
    app: Any, client: TestClient, api: Api
) -> None:
    ids = _objects(api, app)
    for (method, path), needed in NEEDED.items():
        response = _try(client.request, method, path, ids)
        if needed == PUBLIC:
            assert response.status_code != 403, (method, path)
        else:
            assert_error(response, 401)
    assert client.get("/v1/health").status_code == 200
    assert client.get("/v1/webhook-signing-key").status_code == 200


def test_a_one_time_password_session_is_refused_everything_but_its_session(
    app: Any, client: TestClient, api: Api
) -> None:
    ids = _objects(api, app)
    person = add_person(app, api.tenant.organization_id, "owner", must_change_password=True)
    newcomer = sign_in(app, person)

    for (method, path), needed in NEEDED.items():
        if isinstance(needed, Role):
            response = _try(newcomer.request, method, path, ids)
            assert_error(response, 403, "password", "/v1/session/password")
    assert newcomer.get("/v1/session").status_code == 200
    assert newcomer.delete("/v1/session").status_code == 204


def _refused_as_missing(session: Browser | Api, theirs: dict[str, str], role: Role) -> None:
    """Every operation ``role`` may do on another organization's objects is a 404."""
    for (method, path), needed in NEEDED.items():
        if not isinstance(needed, Role) or "{" not in path or not role.may(needed):
            continue
        if path.startswith("/phone-number"):
            continue  # nobody has one here
        response = _try(session.request, method, path, theirs)
        assert_error(response, 404)
        assert theirs[re.findall(r"\{(\w+)\}", path)[0]] in response.json()["message"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_own_organization(
    app: Any, client: TestClient, tenant: Tenant, other_tenant: Tenant, role: Role
) -> None:
    theirs = _objects(Api(client, other_tenant), app)
    session = sign_in(app, add_person(app, tenant.organization_id, role))

    _refused_as_missing(session, theirs, role)

    for path in ("/v1/assistant", "/v1/call", "/v1/webhook-deliveries"):
        assert session.get(path).json() == [], path
    if role is OWNER:
        (me,) = session.get("/v1/user").json()
        assert me["user_id"] == session.user_id
        assert [key["key_id"] for key in session.get("/v1/api-key").json()] == [tenant.key_id]
        assert session.get("/v1/access-log").json() == []
    # Their objects are as they were.
    other = Api(client, other_tenant)
    assert other.get(f"/v1/assistant/{theirs['assistantId']}").status_code == 200
    assert other.get(f"/v1/call/{theirs['callId']}").json()["call_status"] == "queued"
    listed = {user["user_id"]: user for user in other.get("/v1/user").json()}
    assert listed[int(theirs["userId"])]["disabled_at"] is None
    keys = {key["key_id"]: key for key in other.get("/v1/api-key").json()}
    assert keys[int(theirs["keyId"])]["revoked_at"] is None
