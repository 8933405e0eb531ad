"""Organizations and API keys: the command line, hashing, bearer authentication, and the keys
a console user created going with the user."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from clarion.app import create_app
from clarion.auth import service as auth_service
from clarion.auth.cache import KeyCache
from clarion.auth.keys import KEY_PREFIX, key_digest
from clarion.auth.models import ApiKeyRow
from clarion.cli import app as cli
from clarion.config import Settings
from clarion.database import Database
from clarion.errors import Unauthenticated
from clarion.people import service as people_service
from people_support import add_person, sign_in
from support import Tenant, assert_error
from webhook_receiver import eventually

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None
    return {
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": settings.database_url,
    }


def _invoke(env: dict[str, str], *args: str) -> Any:
    result = runner.invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_org_create_prints_one_json_object_with_a_working_key(
    cli_env: dict[str, str], client: TestClient
) -> None:
    created = _invoke(cli_env, "org", "create", "Lakeside Health")

    assert created["name"] == "Lakeside Health"
    assert isinstance(created["organization_id"], int)
    key = str(created["api_key"])
    assert key.startswith(KEY_PREFIX)
    response = client.get("/v1/assistant", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_key_create_and_revoke_within_a_second(cli_env: dict[str, str], settings: Settings) -> None:
    clock = FakeClock()
    client = TestClient(create_app(settings, KeyCache(clock=clock)))
    organization = _invoke(cli_env, "org", "create", "Lakeside Health")
    second = _invoke(cli_env, "key", "create", "--org", str(organization["organization_id"]))
    headers = {"Authorization": f"Bearer {second['api_key']}"}
    assert client.get("/v1/assistant", headers=headers).status_code == 200

    revoked = _invoke(cli_env, "key", "revoke", str(second["key_id"]))

    assert revoked["revoked_at"]
    clock.now += 0.5  # still remembered as valid: the cache keeps a key one second at most
    assert client.get("/v1/assistant", headers=headers).status_code == 200
    clock.now += 0.6
    assert_error(client.get("/v1/assistant", headers=headers), 401, "revoked")
    first = {"Authorization": f"Bearer {organization['api_key']}"}
    assert client.get("/v1/assistant", headers=first).status_code == 200


def test_key_list_shows_prefixes_only(cli_env: dict[str, str]) -> None:
    organization = _invoke(cli_env, "org", "create", "Lakeside Health")
    result = runner.invoke(
        cli, ["key", "list", "--org", str(organization["organization_id"])], env=cli_env
    )

    assert result.exit_code == 0
    assert str(organization["api_key"]) not in result.stdout
    assert json.loads(result.stdout)[0]["prefix"] == str(organization["api_key"])[:17]


def test_unknown_organization_or_key_fails_cleanly(cli_env: dict[str, str]) -> None:
    assert runner.invoke(cli, ["key", "create", "--org", "999"], env=cli_env).exit_code == 1
    assert runner.invoke(cli, ["key", "revoke", "999"], env=cli_env).exit_code == 1


def test_keys_are_stored_as_digests_only(database: Database, tenant: Tenant) -> None:
    with database.unit() as unit:
        session = unit.session
        stored = session.scalars(select(ApiKeyRow)).one()
    assert stored.digest == key_digest(tenant.api_key)
    assert tenant.api_key not in {stored.digest, stored.display_prefix}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer " + KEY_PREFIX + "A" * 43,
    ],
)
def test_requests_without_a_valid_key_are_401(
    client: TestClient, tenant: Tenant, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [
        ("GET", "/v1/assistant"),
        ("POST", "/v1/assistant"),
        ("GET", "/v1/assistant/1"),
        ("PATCH", "/v1/assistant/1"),
        ("DELETE", "/v1/assistant/1"),
    ]:
        assert_error(client.request(method, path, headers=headers), 401)


def test_health_needs_no_key(client: TestClient) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_org_create_on_a_fresh_data_directory_migrates_it(tmp_path: Path) -> None:
    env = {"CLARION_DATA_DIR": str(tmp_path / "new")}
    created = _invoke(env, "org", "create", "First Clinic")
    assert created["organization_id"] == 1
    assert (tmp_path / "new" / "clarion.db").exists()
    assert (tmp_path / "new" / "secret.key").stat().st_mode & 0o077 == 0


def _status_with(client: TestClient, key: str) -> int:
    return client.get("/v1/assistant", headers={"Authorization": f"Bearer {key}"}).status_code


def test_user_disable_on_the_command_line_revokes_the_keys_they_created(
    app: Any, client: TestClient, cli_env: dict[str, str], tenant: Tenant
) -> None:
    org = str(tenant.organization_id)
    person = add_person(app, tenant.organization_id, "owner")
    theirs = sign_in(app, person).post("/v1/api-key").json()
    from_the_command_line = _invoke(cli_env, "key", "create", "--org", org)
    assert _status_with(client, theirs["api_key"]) == 200

    disabled = _invoke(cli_env, "user", "disable", str(person.user_id), "--org", org)

    assert disabled["user_id"] == person.user_id and disabled["revoked_api_keys"] == 1
    eventually(
        lambda: _status_with(client, theirs["api_key"]) == 401, "the disabled user's key refused"
    )
    assert _status_with(client, from_the_command_line["api_key"]) == 200
    assert _status_with(client, tenant.api_key) == 200
    listed = _invoke(cli_env, "key", "list", "--org", org)
    assert [(key["key_id"], key["created_by_user_id"]) for key in listed] == [
        (tenant.key_id, None),
        (theirs["key_id"], person.user_id),
        (from_the_command_line["key_id"], None),
    ]
    assert [key["revoked_at"] is None for key in listed] == [True, False, True]


def test_a_user_disabled_since_their_request_began_gets_no_key(
    app: Any, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "owner")
    stranger = add_person(app, other_tenant.organization_id, "owner")
    with database.unit(write=True) as unit:
        people_service.disable_user(unit, tenant.organization_id, person.user_id, None)

    # Their session was checked before the disable; the key is asked for after it.
    for user_id in (person.user_id, stranger.user_id, 999999):
        with pytest.raises(Unauthenticated, match="disabled"), database.unit(write=True) as unit:
            auth_service.issue_key(unit, tenant.organization_id, user_id)

    with database.unit() as unit:
        assert [key["key_id"] for key in auth_service.list_keys(unit, tenant.organization_id)] == [
            tenant.key_id
        ]


def _disable(database: Database, organization_id: int, user_id: int) -> Any:
    with database.unit(write=True) as unit:
        return people_service.disable_user(unit, organization_id, user_id, None)


def _someone_waits_for_a_lock(database: Database) -> bool:
    with database.unit() as unit:
        waiting = unit.session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


@pytest.mark.skipif(
    not os.environ.get("CLARION_TEST_DATABASE_URL"),
    reason="write transactions at the same moment: SQLite runs them one at a time",
)
def test_a_key_being_created_while_its_creator_is_disabled_is_revoked_with_them(
    app: Any, database: Database, tenant: Tenant
) -> None:
    person = add_person(app, tenant.organization_id, "owner")
    with ThreadPoolExecutor(1) as pool, ExitStack() as creating:
        unit = creating.enter_context(database.unit(write=True))
        issued = auth_service.issue_key(unit, tenant.organization_id, person.user_id)
        disabling = pool.submit(_disable, database, tenant.organization_id, person.user_id)
        eventually(
            lambda: disabling.done() or _someone_waits_for_a_lock(database),
            "the disable to end or to wait for the key being created",
        )
        creating.close()  # the key is committed
        disabled = disabling.result()

    assert disabled["revoked_api_keys"] == 1
    with database.unit() as unit:
        listed = auth_service.list_keys(unit, tenant.organization_id)
    assert [(key["key_id"], key["revoked_at"] is None) for key in listed] == [
        (tenant.key_id, True),
        (issued.key_id, False),
    ]
