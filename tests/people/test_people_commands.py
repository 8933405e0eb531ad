"""`clarion user create/list/disable`: what an operator types to give people the console, and
what each prints; every mistake exits non-zero saying what was wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clarion.cli import app as cli
from clarion.config import Settings
from people_support import Person, browser, sign_in
from support import Tenant, assert_error

runner = CliRunner()
OWN_PASSWORD = "the operator chose this one"


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None
    return {
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": settings.database_url,
        # The tests' light hashing cost, as the settings fixture has it.
        "CLARION_PASSWORD_HASH_MEMORY_KIB": str(settings.password_hash_memory_kib),
        "CLARION_PASSWORD_HASH_ITERATIONS": str(settings.password_hash_iterations),
    }


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(cli, list(args), env=env, input=stdin)


def _printed(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    result = _run(env, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _create(env: dict[str, str], org: int, email: str, role: str, *extra: str, **kw: Any) -> Any:
    return _printed(
        env, "user", "create", "--org", str(org), "--email", email, "--role", role, *extra, **kw
    )


def test_create_prints_the_user_with_a_one_time_password(
    app: Any, client: TestClient, env: dict[str, str], tenant: Tenant
) -> None:
    created = _create(env, tenant.organization_id, "Ada@Northside.Example", "owner")

    assert set(created) == {
        "user_id",
        "organization_id",
        "email",
        "role",
        "must_change_password",
        "created_at",
        "disabled_at",
        "password",
    }
    assert (created["organization_id"], created["email"], created["role"]) == (
        tenant.organization_id,
        "ada@northside.example",
        "owner",
    )
    assert created["must_change_password"] is True and created["disabled_at"] is None
    person = Person(created["user_id"], created["email"], created["password"], "owner")
    session = sign_in(app, person)
    assert session.session["must_change_password"] is True
    assert_error(session.get("/v1/user"), 403, "password")


def test_create_with_password_stdin_takes_the_password_and_asks_no_change(
    app: Any, client: TestClient, env: dict[str, str], tenant: Tenant
) -> None:
    result = _run(
        env,
        "user",
        "create",
        "--org",
        str(tenant.organization_id),
        "--email",
        "ops@northside.example",
        "--role",
        "editor",
        "--password-stdin",
        stdin=OWN_PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    assert OWN_PASSWORD not in result.output
    created = json.loads(result.stdout)
    assert "password" not in created
    assert created["must_change_password"] is False and created["role"] == "editor"
    session = sign_in(app, Person(created["user_id"], created["email"], OWN_PASSWORD, "editor"))
    assert session.get("/v1/assistant").status_code == 200


def test_list_shows_the_organization_users_oldest_first_without_passwords(
    env: dict[str, str], tenant: Tenant, other_tenant: Tenant
) -> None:
    first = _create(env, tenant.organization_id, "first@northside.example", "owner")
    second = _create(
        env,
        tenant.organization_id,
        "second@northside.example",
        "viewer",
        "--password-stdin",
        stdin=OWN_PASSWORD,
    )
    _create(env, other_tenant.organization_id, "elsewhere@riverside.example", "owner")

    result = _run(env, "user", "list", "--org", str(tenant.organization_id))

    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(u["user_id"], u["email"], u["role"]) for u in listed] == [
        (first["user_id"], "first@northside.example", "owner"),
        (second["user_id"], "second@northside.example", "viewer"),
    ]
    assert all(set(user) & {"password", "password_hash"} == set() for user in listed)
    assert first["password"] not in result.stdout


def test_disable_ends_the_sessions_and_the_sign_ins(
    app: Any, client: TestClient, env: dict[str, str], tenant: Tenant
) -> None:
    created = _create(
        env,
        tenant.organization_id,
        "leaving@northside.example",
        "editor",
        "--password-stdin",
        stdin=OWN_PASSWORD,
    )
    person = Person(created["user_id"], created["email"], OWN_PASSWORD, "editor")
    session = sign_in(app, person)

    disabled = _printed(
        env, "user", "disable", str(person.user_id), "--org", str(tenant.organization_id)
    )

    assert disabled["user_id"] == person.user_id and disabled["disabled_at"] is not None
    assert_error(session.get("/v1/assistant"), 401)
    again = browser(app).post("/v1/session", json={"email": person.email, "password": OWN_PASSWORD})
    assert_error(again, 401)
    listed = _printed(env, "user", "list", "--org", str(tenant.organization_id))
    assert listed[0]["disabled_at"] == disabled["disabled_at"]


def test_mistakes_exit_non_zero_saying_what_was_wrong(
    env: dict[str, str], tenant: Tenant, other_tenant: Tenant
) -> None:
    org, elsewhere = str(tenant.organization_id), str(other_tenant.organization_id)
    taken = _create(env, tenant.organization_id, "taken@northside.example", "viewer")
    taken_id = str(taken["user_id"])
    create = ["user", "create", "--org", org, "--role", "viewer", "--email"]

    for args, stdin, code, named in [
        (
            ["user", "create", "--org", "999", "--email", "a@b.example", "--role", "owner"],
            None,
            1,
            "organization 999",
        ),
        ([*create, "TAKEN@northside.example"], None, 1, "already has an account"),
        ([*create, "not an address"], None, 2, "email"),
        (
            ["user", "create", "--org", org, "--email", "b@b.example", "--role", "admin"],
            None,
            2,
            "role",
        ),
        ([*create, "c@b.example", "--password-stdin"], "short\n", 2, "password"),
        (["user", "disable", "999", "--org", org], None, 1, "user 999 not found"),
        # Another organization's user is as good as missing.
        (["user", "disable", taken_id, "--org", elsewhere], None, 1, f"user {taken_id} not"),
        (["user", "list", "--org", "999"], None, 1, "organization 999"),
    ]:
        result = _run(env, *args, stdin=stdin)
        assert result.exit_code == code, (args, result.output)
        assert named in result.stderr, (args, result.stderr)
        assert result.stdout == ""

    listed = _printed(env, "user", "list", "--org", org)
    assert [(u["email"], u["disabled_at"]) for u in listed] == [("taken@northside.example", None)]
