"""Signing in to the console: the session cookie, one answer for every wrong sign-in, and the
locks after repeated failures, per account and per address."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clarion.app import create_app
from clarion.config import Settings
from clarion.people import passwords as passwords_module
from clarion.people import sign_in as sign_in_module
from clarion.people.models import ConsoleSessionRow, UserRow
from people_support import PASSWORD, SESSION_COOKIE, MovableClock, add_person, browser
from served import clarion_serving
from support import Tenant, assert_error, worker_env

LOCK_SECONDS = 15 * 60


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    """The clock sign-in reads, which the test moves forward."""
    moved = MovableClock()
    monkeypatch.setattr(sign_in_module, "utcnow", moved)
    return moved


def _cookie(response: Any) -> tuple[str, set[str]]:
    """The session cookie's value and its attributes (lower-cased) from Set-Cookie."""
    (header,) = response.headers.get_list("set-cookie")
    first, *attributes = (part.strip() for part in header.split(";"))
    name, _, value = first.partition("=")
    assert name == SESSION_COOKIE
    return value, {attribute.lower() for attribute in attributes}


def _sign_in(client: TestClient, email: str, password: str) -> Any:
    return client.post("/v1/session", json={"email": email, "password": password})


def test_the_right_password_opens_a_session_in_a_cookie_the_page_cannot_read(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "editor")

    response = _sign_in(client, person.email, person.password)

    assert response.status_code == 201, response.text
    token, attributes = _cookie(response)
    assert len(token) >= 40
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    body = response.json()
    assert set(body) == {
        "user_id",
        "organization_id",
        "email",
        "role",
        "csrf_token",
        "must_change_password",
    }
    assert body["user_id"] == person.user_id
    assert (body["organization_id"], body["email"], body["role"]) == (
        tenant.organization_id,
        person.email,
        "editor",
    )
    assert body["must_change_password"] is False
    assert len(body["csrf_token"]) >= 40 and body["csrf_token"] != token
    assert token not in response.text and "argon2" not in response.text
    # The server keeps the token's digest only.
    with app.state.services.database.unit() as unit:
        (stored,) = unit.session.scalars(select(ConsoleSessionRow)).all()
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    assert stored.csrf_token == body["csrf_token"]
    assert client.get("/v1/session").json() == body


def test_over_https_the_cookie_is_secure(app: Any, client: TestClient, tenant: Tenant) -> None:
    person = add_person(app, tenant.organization_id, "viewer")
    https = browser(app, base_url="https://testserver")

    response = _sign_in(https, person.email, person.password)

    assert response.status_code == 201, response.text
    _token, attributes = _cookie(response)
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert https.get("/v1/session").json()["user_id"] == person.user_id


def test_behind_a_proxy_to_an_https_public_url_the_cookie_is_secure(
    settings: Settings, tenant: Tenant
) -> None:
    # The proxy ends TLS and speaks plain http to clarion; CLARION_PUBLIC_URL says how
    # browsers reach it.
    app = create_app(settings.model_copy(update={"public_url": "https://clarion.example.org"}))
    with TestClient(app, raise_server_exceptions=False) as proxied:
        person = add_person(app, tenant.organization_id, "viewer")

        response = _sign_in(proxied, person.email, person.password)

        assert response.status_code == 201, response.text
        _token, attributes = _cookie(response)
        assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes


def test_wrong_password_unknown_email_and_disabled_account_get_the_same_answer(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    gone = add_person(app, tenant.organization_id, "editor")
    disabled = client.post(f"/v1/user/{gone.user_id}/disable", headers=tenant.headers)
    assert disabled.status_code == 200, disabled.text

    answers = [
        _sign_in(client, person.email, "not the password at all"),
        _sign_in(client, "nobody@northside.example", PASSWORD),
        _sign_in(client, gone.email, gone.password),  # the right password of a disabled account
        _sign_in(client, "not an address", PASSWORD),
        # PostgreSQL keeps no NUL in text: such an address is no account, not a failure.
        _sign_in(client, "ada\x00@northside.example", PASSWORD),
        _sign_in(client, "ada\x07@northside.example", PASSWORD),
    ]

    for answer in answers:
        assert_error(answer, 401, "email or password")
        assert "set-cookie" not in answer.headers
    assert len({(answer.status_code, answer.content) for answer in answers}) == 1
    assert _sign_in(client, person.email, person.password).status_code == 201


def test_ten_failures_lock_the_account_even_against_the_right_password(
    app: Any, client: TestClient, tenant: Tenant, clock: MovableClock
) -> None:
    person = add_person(app, tenant.organization_id, "editor", email="ada@northside.example")
    neighbour = add_person(app, tenant.organization_id, "editor")

    # However the address is typed, it is one account.
    for attempt in range(10):
        typed = "ADA@Northside.Example" if attempt % 2 else " ada@northside.example"
        assert_error(_sign_in(client, typed, f"guess number {attempt}"), 401)

    locked = _sign_in(client, person.email, person.password)

    assert_error(locked, 429, "too many failed sign-ins")
    assert "set-cookie" not in locked.headers
    assert LOCK_SECONDS - 60 <= int(locked.headers["retry-after"]) <= LOCK_SECONDS + 1
    # The lock is the account's: the same address signs someone else in.
    assert _sign_in(client, neighbour.email, neighbour.password).status_code == 201

    clock.forward(minutes=14)
    still = _sign_in(client, person.email, person.password)
    assert_error(still, 429, "too many failed sign-ins")
    assert 1 <= int(still.headers["retry-after"]) <= 61

    clock.forward(minutes=1, seconds=2)
    opened = _sign_in(client, person.email, person.password)
    assert opened.status_code == 201, opened.text
    assert client.get("/v1/session").json()["user_id"] == person.user_id


def test_failures_older_than_the_window_do_not_count(
    app: Any, client: TestClient, tenant: Tenant, clock: MovableClock
) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    for attempt in range(9):
        assert_error(_sign_in(client, person.email, f"guess number {attempt}"), 401)

    clock.forward(minutes=16)
    for attempt in range(9):
        assert_error(_sign_in(client, person.email, f"later guess {attempt}"), 401)

    assert _sign_in(client, person.email, person.password).status_code == 201


def test_a_right_password_forgets_the_account_failures_before_it(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    for round_ in range(2):
        for attempt in range(9):
            assert_error(_sign_in(client, person.email, f"guess {round_}.{attempt}"), 401)
        assert _sign_in(client, person.email, person.password).status_code == 201


def test_an_email_without_an_account_is_locked_in_the_same_words(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    for attempt in range(10):
        assert_error(_sign_in(client, person.email, f"guess {attempt}"), 401)
        assert_error(_sign_in(client, "ghost@northside.example", f"guess {attempt}"), 401)

    real = _sign_in(client, person.email, person.password)
    ghost = _sign_in(client, "ghost@northside.example", PASSWORD)

    assert_error(real, 429)
    assert_error(ghost, 429)
    assert ghost.content == real.content
    assert abs(int(ghost.headers["retry-after"]) - int(real.headers["retry-after"])) <= 5


def test_a_hundred_failures_from_one_address_lock_that_address_only(
    app: Any, client: TestClient, tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "editor")
    guesser = browser(app, client=("10.0.0.7", 40000))
    # One guess per account, so that no account is locked: the address is.
    for number in range(100):
        assert_error(_sign_in(guesser, f"patient{number}@northside.example", PASSWORD), 401)

    refused = _sign_in(guesser, person.email, person.password)

    assert_error(refused, 429, "too many failed sign-ins")
    assert LOCK_SECONDS - 60 <= int(refused.headers["retry-after"]) <= LOCK_SECONDS + 1
    elsewhere = browser(app, client=("10.0.0.9", 123))
    opened = _sign_in(elsewhere, person.email, person.password)
    assert opened.status_code == 201, opened.text


def test_guesses_sent_all_at_once_get_no_more_tries_than_guesses_sent_one_by_one(
    settings: Settings, tenant: Tenant
) -> None:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False):
        person = add_person(app, tenant.organization_id, "editor")
    env = worker_env(
        settings,
        CLARION_PASSWORD_HASH_MEMORY_KIB=str(settings.password_hash_memory_kib),
        CLARION_PASSWORD_HASH_ITERATIONS=str(settings.password_hash_iterations),
    )
    with clarion_serving(env) as served:

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=served.base, timeout=60) as http:
                guesses = [f"guess number {n}" for n in range(30)]
                guesses[20] = person.password  # the right one, past the tenth
                answers = await asyncio.gather(
                    *(
                        http.post("/v1/session", json={"email": person.email, "password": p})
                        for p in guesses
                    )
                )
                return [answer.status_code for answer in answers]

        statuses = asyncio.run(burst())

    assert statuses.count(401) + statuses.count(201) <= sign_in_module.ACCOUNT_FAILURES
    assert statuses.count(429) >= 30 - sign_in_module.ACCOUNT_FAILURES
    assert set(statuses) <= {401, 201, 429}


def test_a_password_hashed_at_an_old_cost_is_hashed_again_at_sign_in(
    settings: Settings, tenant: Tenant
) -> None:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        person = add_person(app, tenant.organization_id, "viewer")
        stronger = create_app(settings.model_copy(update={"password_hash_iterations": 2}))
        with TestClient(stronger, raise_server_exceptions=False) as upgraded:
            assert _sign_in(upgraded, person.email, person.password).status_code == 201
            database = stronger.state.services.database
            with database.unit() as unit:
                stored = unit.session.scalar(select(UserRow.password_hash))
            assert stored is not None and ",t=2," in stored
        # The old cost's server still checks it: a hash names its own cost.
        assert _sign_in(client, person.email, person.password).status_code == 201


def test_sign_ins_beyond_what_the_hashing_threads_can_take_are_told_to_come_back(
    app: Any, client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = add_person(app, tenant.organization_id, "viewer")
    monkeypatch.setattr(passwords_module, "WAITING_MAX", 0)
    busy = _sign_in(client, person.email, person.password)
    assert_error(busy, 503, "too many sign-ins at once")
    assert busy.headers["retry-after"] == "1"
