"""Organizations and API keys: the command line, hashing, and bearer authentication."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clarion.app import create_app
from clarion.auth.cache import KeyCache
from clarion.auth.keys import KEY_PREFIX, key_digest
from clarion.auth.models import ApiKeyRow
from clarion.cli import app as cli
from clarion.config import Settings
from clarion.database import Database
from support import Tenant, assert_error

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None
    return {
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": settings.database_url,
    }


def _invoke(env: dict[str, str], *args: str) -> dict[str, object]:
    result = runner.invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


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
