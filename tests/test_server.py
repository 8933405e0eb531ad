"""End to end: the `clarion` command creates an organization and serves real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clarion.config import Settings
from served import clarion_serving


def _clarion(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


@pytest.fixture
def server_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    assert settings.database_url is not None
    return {
        **os.environ,
        "CLARION_DATA_DIR": str(tmp_path),
        "CLARION_DATABASE_URL": settings.database_url,
    }


@pytest.fixture
def server(server_env: dict[str, str]) -> Iterator[str]:
    with clarion_serving(server_env) as served:
        yield served.base
    # The server's log never carries a key or a webhook secret.
    assert "clarion_sk_" not in served.output
    assert "whsec-e2e" not in served.output


def test_serve_says_where_it_listens_and_what_to_do_next(server_env: dict[str, str]) -> None:
    with clarion_serving(server_env) as served:
        pass
    assert f"serving the API at {served.base}/v1" in served.output
    assert f"data in {server_env['CLARION_DATA_DIR']}" in served.output
    assert "clarion org create" in served.output
    assert f"the console at {served.base}/" in served.output
    assert "clarion user create" in served.output
    assert "CLARION_TRUSTED_PROXIES" not in served.output


def test_serve_behind_a_public_url_asks_for_the_proxy_to_be_named(
    server_env: dict[str, str],
) -> None:
    env = {**server_env, "CLARION_PUBLIC_URL": "https://clarion.clinic.example"}
    with clarion_serving(env) as served:
        pass
    assert "CLARION_TRUSTED_PROXIES is not" in served.output


def test_cli_and_server_work_together(server: str, server_env: dict[str, str]) -> None:
    created = json.loads(_clarion("org", "create", "End To End Clinic", env=server_env).stdout)
    headers = {"Authorization": f"Bearer {created['api_key']}"}

    with httpx.Client(base_url=f"{server}/v1", headers=headers) as client:
        assistant = client.post(
            "/assistant", json={"name": "Reminders", "webhook_secret": "whsec-e2e"}
        ).json()
        patched = client.patch(f"/assistant/{assistant['id']}", json={"first_message": "Hi"})
        listed = client.get("/assistant", params={"limit": 10})
        unauthenticated = httpx.get(f"{server}/v1/assistant")

    assert patched.status_code == 200 and patched.json()["first_message"] == "Hi"
    assert [item["id"] for item in listed.json()] == [assistant["id"]]
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == 401
