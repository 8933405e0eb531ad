"""The data directory and every file in it are the owner's alone, whatever the umask.

The database holds prompts, delivery payloads and encrypted webhook secrets, and secret.key
decrypts those secrets: no other local user may read either. Each test runs under a permissive
umask, as a server started from a default shell or a container would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from clarion.app import create_app
from clarion.auth import service as auth_service
from clarion.config import Settings
from clarion.database import Database
from clarion.database.migrate import upgrade
from clarion.storage.secret_box import KEY_FILE_NAME as SECRET_KEY_FILE
from clarion.webhooks.signing import KEY_FILE_NAME as SIGNING_KEY_FILE
from clarion.webhooks.signing import load_signer
from served import clarion_serving
from support import Api, Tenant

DATABASE_FILES = ("clarion.db", "clarion.db-wal", "clarion.db-shm")
KEY_FILES = (SECRET_KEY_FILE, SIGNING_KEY_FILE)


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A permissive umask for the test, and for the processes it starts; restored after."""
    mask: int = request.param
    previous = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _assert_private(data_dir: Path, *names: str) -> None:
    """The folder is 0700; the files named, and any other file in it, are 0600."""
    assert _mode(data_dir) == 0o700, oct(_mode(data_dir))
    present = {path.name for path in data_dir.iterdir()}
    assert set(names) <= present, (names, present)
    modes = {name: oct(_mode(data_dir / name)) for name in present}
    assert modes == dict.fromkeys(present, oct(0o600))


def _env(data_dir: Path) -> dict[str, str]:
    """The environment of a clarion command using SQLite in ``data_dir`` and nothing else."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("CLARION_")}
    return {**kept, "CLARION_DATA_DIR": str(data_dir)}


def _clarion(*args: str, data_dir: Path) -> str:
    return subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


@pytest.fixture
def served(tmp_path: Path, umask: int) -> Iterator[tuple[str, Path]]:
    """`clarion serve` on a data directory that does not exist yet: its URL and the folder."""
    data_dir = tmp_path / "fresh" / "clarion"
    with clarion_serving(_env(data_dir)) as served:
        yield served.base, data_dir


def test_a_served_data_directory_is_private(served: tuple[str, Path]) -> None:
    base, data_dir = served
    created = json.loads(_clarion("org", "create", "Private Clinic", data_dir=data_dir))
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    response = httpx.post(
        f"{base}/v1/assistant",
        json={"name": "Reminders", "webhook_secret": "whsec-private"},
        headers=headers,
    )
    assert response.status_code == 201, response.text

    # The server still has the database open, so its log and shared memory are there too.
    _assert_private(data_dir, *DATABASE_FILES, *KEY_FILES)


@pytest.mark.parametrize("command", [("db", "upgrade"), ("org", "create", "Private Clinic")])
def test_commands_create_a_private_data_directory(
    tmp_path: Path, umask: int, command: tuple[str, ...]
) -> None:
    data_dir = tmp_path / "fresh" / "clarion"
    _clarion(*command, data_dir=data_dir)
    _assert_private(data_dir, "clarion.db", *KEY_FILES)


def test_the_app_creates_a_private_data_directory(tmp_path: Path, umask: int) -> None:
    settings = Settings(data_dir=tmp_path / "fresh" / "clarion", run_worker=False)
    upgrade(settings.database)
    with _serving_after_a_write(settings):
        _assert_private(settings.data_dir, *DATABASE_FILES, *KEY_FILES)


def test_a_data_directory_left_open_by_an_older_version_is_closed(
    tmp_path: Path, umask: int
) -> None:
    settings = Settings(data_dir=tmp_path / "clarion", run_worker=False)
    upgrade(settings.database)
    load_signer(settings)  # writes both keys
    for name in ("clarion.db-wal", "clarion.db-shm"):  # as a crash leaves them
        (settings.data_dir / name).touch()
    for path in (settings.data_dir, *settings.data_dir.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)

    with _serving_after_a_write(settings):
        _assert_private(settings.data_dir, *DATABASE_FILES, *KEY_FILES)


def test_a_database_copied_in_is_closed(settings: Settings, umask: int) -> None:
    """The test database (PostgreSQL, or SQLite copied in with the umask's mode)."""
    with _serving_after_a_write(settings):
        if settings.database.get_backend_name() == "sqlite":
            _assert_private(settings.data_dir, *DATABASE_FILES, *KEY_FILES)
        else:
            _assert_private(settings.data_dir, *KEY_FILES)


@contextmanager
def _serving_after_a_write(settings: Settings) -> Iterator[None]:
    """The app started on ``settings`` after it created an assistant, its database still open."""
    app = create_app(settings)
    database: Database = app.state.services.database
    with database.unit(write=True) as unit:
        organization_id, key = auth_service.create_organization(unit, "Private Clinic")
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, Tenant(organization_id, key.api_key, key.key_id))
        api.create_assistant(webhook_secret="whsec-private")
        yield
