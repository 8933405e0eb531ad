"""Console sessions: the cookie reads, the CSRF token guards every change, and a session ends
when its user signs out, goes idle, is disabled, or changes their password elsewhere; a
one-time password opens nothing but the way to change it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.app import create_app
from clarion.config import Settings
from clarion.people import sign_in as sign_in_module
from people_support import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Browser,
    MovableClock,
    add_person,
    browser,
    sign_in,
)
from support import Api, Tenant, assert_error

NEW_PASSWORD = "a much longer passphrase now"


def _cookie_of(app: Any, token: str) -> TestClient:
    """A browser holding a saved copy of a session cookie."""
    client = browser(app)
    client.cookies.set(SESSION_COOKIE, token)
    return client


def _signing_in(app: Any, email: str, password: str) -> Any:
    return browser(app).post("/v1/session", json={"email": email, "password": password})


def test_the_cookie_authenticates_reads(app: Any, client: TestClient, api: Api) -> None:
    assistant = api.create_assistant(name="Front desk")
    person = add_person(app, api.tenant.organization_id, "viewer")
    viewer = sign_in(app, person)

    listed = viewer.get("/v1/assistant")  # the list's fast lane
    one = viewer.get(f"/v1/assistant/{assistant['id']}")  # the item's fast lane
    filtered = viewer.get("/v1/assistant", params={"limit": 5, "created_at_ge": "2020-01-01"})

    assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [assistant["id"]]
    assert one.status_code == 200 and one.json()["name"] == "Front desk"
    assert filtered.status_code == 200 and len(filtered.json()) == 1
    assert viewer.get("/v1/session").json()["user_id"] == person.user_id
    # Without the cookie, the same requests are not signed in.
    assert_error(browser(app).get("/v1/assistant"), 401, "sign in")
    assert_error(browser(app).get("/v1/session"), 401)
    assert_error(_cookie_of(app, "not-a-session-token").get("/v1/assistant"), 401)


def test_a_change_without_its_csrf_token_is_refused_and_changes_nothing(
    app: Any, client: TestClient, api: Api
) -> None:
    assistant = api.create_assistant(name="Front desk")
    path = f"/v1/assistant/{assistant['id']}"
    editor = sign_in(app, add_person(app, api.tenant.organization_id, "editor"))
    other = sign_in(app, add_person(app, api.tenant.organization_id, "editor"))
    tokens: list[dict[str, str]] = [
        {},
        {CSRF_HEADER: ""},
        {CSRF_HEADER: "forged-token"},
        {CSRF_HEADER: other.csrf_token},  # another session's token is no token for this one
    ]
    changes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/v1/assistant", {"json": {"name": "Forged"}}),
        ("PATCH", path, {"json": {"name": "Forged"}}),  # the fast lane
        ("PATCH", path, {"json": {"name": "Forged"}, "params": {"x": "1"}}),  # the route
        ("DELETE", path, {}),
        ("POST", f"{path}/versions/1/restore", {}),
        ("POST", "/v1/session/password", {"json": {"current_password": "x", "new_password": "y"}}),
        ("DELETE", "/v1/session", {}),
    ]

    for headers in tokens:
        for method, target, options in changes:
            refused = editor.request(method, target, csrf=False, headers=headers, **options)
            assert_error(refused, 403, "X-CSRF-Token")

    assert api.get(path).json()["name"] == "Front desk"
    assert len(api.get("/v1/assistant").json()) == 1
    assert len(api.get(f"{path}/versions").json()) == 1
    assert editor.get("/v1/session").status_code == 200  # still signed in

    created = editor.post("/v1/assistant", json={"name": "Made in the console"})
    changed = editor.patch(path, json={"name": "Renamed in the console"})
    assert created.status_code == 201, created.text
    assert changed.status_code == 200, changed.text
    versions = api.get(f"{path}/versions").json()
    assert versions[0]["user_id"] == editor.user_id and versions[0]["api_key_id"] is None
    assert editor.delete(path).status_code == 200
    assert_error(api.get(path), 404)


def test_signing_out_ends_the_session_on_the_server(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    viewer = sign_in(app, add_person(app, tenant.organization_id, "viewer"))
    saved = viewer.cookie

    signed_out = viewer.delete("/v1/session")

    assert signed_out.status_code == 204
    assert SESSION_COOKIE in signed_out.headers["set-cookie"]
    assert_error(viewer.get("/v1/session"), 401)
    copy = _cookie_of(app, saved)
    assert_error(copy.get("/v1/session"), 401, "sign in again")
    assert_error(copy.get("/v1/assistant"), 401, "sign in again")
    assert_error(copy.delete("/v1/session", headers={CSRF_HEADER: viewer.csrf_token}), 401)


def test_an_idle_session_expires(
    settings: Settings, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = MovableClock()
    monkeypatch.setattr(sign_in_module, "utcnow", clock)
    app = create_app(settings.model_copy(update={"session_idle_seconds": 60}))
    with TestClient(app, raise_server_exceptions=False):
        viewer = sign_in(app, add_person(app, tenant.organization_id, "viewer"))
        saved = viewer.cookie

        # Each use within the idle time keeps the session open from then on.
        for _ in range(3):
            clock.forward(seconds=50)
            assert viewer.get("/v1/assistant").status_code == 200

        clock.forward(seconds=61)
        assert_error(viewer.get("/v1/assistant"), 401, "expired")
        # Ended on the server: the clock turned back does not bring it back.
        clock.forward(seconds=-61)
        assert_error(_cookie_of(app, saved).get("/v1/session"), 401)


def test_disabling_a_user_ends_their_sessions_at_once(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    owner = sign_in(app, add_person(app, tenant.organization_id, "owner"))
    person = add_person(app, tenant.organization_id, "editor")
    first, second = sign_in(app, person), sign_in(app, person)
    assert first.get("/v1/assistant").status_code == 200

    disabled = owner.post(f"/v1/user/{person.user_id}/disable")

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_at"] is not None
    for session in (first, second):
        assert_error(session.get("/v1/assistant"), 401)
        assert_error(session.post("/v1/assistant", json={"name": "Late"}), 401)
        assert_error(session.get("/v1/session"), 401)
    assert_error(_signing_in(app, person.email, person.password), 401)


def test_a_one_time_password_opens_nothing_but_the_way_to_change_it(
    app: Any, client: TestClient, api: Api
) -> None:
    assistant = api.create_assistant()
    person = add_person(app, api.tenant.organization_id, "owner", must_change_password=True)
    newcomer = sign_in(app, person)
    assert newcomer.session["must_change_password"] is True

    for method, path in [
        ("GET", "/v1/assistant"),  # fast lane
        ("GET", f"/v1/assistant/{assistant['id']}"),  # fast lane
        ("POST", "/v1/assistant"),
        ("GET", "/v1/call"),
        ("GET", "/v1/user"),
        ("POST", "/v1/api-key"),
        ("GET", "/v1/access-log"),
    ]:
        assert_error(newcomer.request(method, path, json={}), 403, "password")
    assert newcomer.get("/v1/session").json()["must_change_password"] is True
    assert len(api.get("/v1/api-key").json()) == 1  # the refused POST issued nothing

    changed = newcomer.post(
        "/v1/session/password",
        json={"current_password": person.password, "new_password": NEW_PASSWORD},
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["must_change_password"] is False
    assert "password_hash" not in changed.json()
    assert newcomer.get("/v1/assistant").status_code == 200
    assert newcomer.get("/v1/session").json()["must_change_password"] is False
    assert_error(_signing_in(app, person.email, person.password), 401)
    sign_in(app, person, NEW_PASSWORD)


def test_changing_the_password_ends_the_other_sessions(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    here, elsewhere = sign_in(app, person), sign_in(app, person)

    changed = here.post(
        "/v1/session/password",
        json={"current_password": person.password, "new_password": NEW_PASSWORD},
    )

    assert changed.status_code == 200, changed.text
    assert here.get("/v1/assistant").status_code == 200
    assert_error(elsewhere.get("/v1/assistant"), 401)
    assert_error(elsewhere.get("/v1/session"), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"current_password": "not my password at all", "new_password": NEW_PASSWORD},
            "current_password",
        ),
        ({"current_password": "<current>", "new_password": "short"}, "new_password"),
        ({"current_password": "<current>", "new_password": "x" * 257}, "new_password"),
        ({"current_password": "<current>", "new_password": 123456789012}, "new_password"),
        ({"current_password": "<current>", "new_password": "<current>"}, "new_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
    ],
)
def test_a_password_change_that_cannot_be_made_is_a_400_naming_the_field(
    app: Any, client: TestClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    session: Browser = sign_in(app, person)
    sent = {
        name: person.password if value == "<current>" else value for name, value in body.items()
    }

    assert_error(session.post("/v1/session/password", json=sent), 400, field)

    # Nothing changed: the password is the same, and the session still open.
    assert session.get("/v1/session").status_code == 200
    sign_in(app, person)


def test_guessing_the_current_password_counts_as_failed_sign_ins(app: Any, tenant: Tenant) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    here = sign_in(app, person)
    wrong = {"current_password": "a guess at the password", "new_password": NEW_PASSWORD}

    for _ in range(sign_in_module.ACCOUNT_FAILURES):
        assert_error(here.post("/v1/session/password", json=wrong), 400, "current_password")

    right = {"current_password": person.password, "new_password": NEW_PASSWORD}
    assert_error(here.post("/v1/session/password", json=right), 429, "too many")
    assert_error(_signing_in(app, person.email, person.password), 429, "too many")


def test_requests_a_page_makes_by_itself_do_not_keep_a_session_from_going_idle(
    settings: Settings, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = MovableClock()
    monkeypatch.setattr(sign_in_module, "utcnow", clock)
    app = create_app(settings.model_copy(update={"session_idle_seconds": 60}))
    with TestClient(app, raise_server_exceptions=False):
        viewer = sign_in(app, add_person(app, tenant.organization_id, "viewer"))
        polling = {"X-Clarion-Background": "1"}
        for _ in range(2):  # a calls list kept up to date on a screen nobody looks at
            clock.forward(seconds=25)
            assert viewer.get("/v1/call", headers=polling).status_code == 200

        clock.forward(seconds=15)  # a minute since the person last did anything
        assert_error(viewer.get("/v1/call", headers=polling), 401, "expired")


def test_a_session_in_use_all_day_still_ends_after_its_lifetime(
    settings: Settings, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = MovableClock()
    monkeypatch.setattr(sign_in_module, "utcnow", clock)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False):
        viewer = sign_in(app, add_person(app, tenant.organization_id, "viewer"))
        elapsed = dt.timedelta(0)
        while elapsed + dt.timedelta(minutes=20) < sign_in_module.LIFETIME:
            clock.forward(minutes=20)
            elapsed += dt.timedelta(minutes=20)
            assert viewer.get("/v1/assistant").status_code == 200

        clock.forward(minutes=20)
        assert_error(viewer.get("/v1/assistant"), 401, "12 hours")
