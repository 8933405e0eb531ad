"""What the benchmarks need: a bench database and its assistants, a free port, waiting for a
server."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from clarion.assistants.models import Assistant, AssistantVersion
from clarion.auth import service as auth_service
from clarion.config import Settings, sqlalchemy_url
from clarion.db import Database


def prepare_database(workdir: Path, postgres: str | None) -> str:
    """A SQLite file in ``workdir``, or a fresh ``clarion_bench`` database on ``postgres``."""
    if postgres is None:
        return f"sqlite:///{workdir / 'clarion.db'}"
    server = sqlalchemy_url(postgres)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "clarion_bench" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "clarion_bench"'))
    admin.dispose()
    return server.set(database="clarion_bench").render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(url: str) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own loopback server
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def start_ceiling(port: int) -> subprocess.Popen[bytes]:
    """The bare ASGI app of ceiling.py under uvicorn, as the ceiling or as a receiver."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ceiling:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=Path(__file__).resolve().parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


MODEL = {
    "provider": "openai",
    "model": "gpt-4o",
    "temperature": 0.3,
    "messages": [{"role": "system", "content": "You remind patients of appointments."}],
}


def seed_assistants(settings: Settings, size: int) -> str:
    """An organization, its key, and ``size`` assistants with one version record each."""
    database = Database(settings.database)
    with database.writing() as session:
        organization_id, key = auth_service.create_organization(session, "Bench Clinic")
    now = dt.datetime.now(dt.UTC)
    batch = 5000
    for start in range(0, size, batch):
        rows = []
        for number in range(start, min(size, start + batch)):
            created = now - dt.timedelta(seconds=size - number)
            rows.append(
                {
                    "organization_id": organization_id,
                    "name": f"Assistant {number}",
                    "model": MODEL,
                    "voice": {"provider": "11labs", "voiceId": "rachel"},
                    "first_message": "Hello, this is Northside Clinic calling.",
                    "max_duration_seconds": 600,
                    "webhook_url": "https://hooks.example.org/clarion",
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                }
            )
        with database.writing() as session:
            ids = session.scalars(insert(Assistant).returning(Assistant.id), rows).all()
            session.execute(
                insert(AssistantVersion),
                [
                    {
                        "organization_id": organization_id,
                        "assistant_id": assistant_id,
                        "version": 1,
                        "action": "created",
                        "configuration": {"name": row["name"]},
                        "changed_fields": ["name"],
                        "created_at": row["created_at"],
                    }
                    for assistant_id, row in zip(ids, rows, strict=True)
                ],
            )
    database.dispose()
    return key.api_key
