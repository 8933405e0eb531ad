"""The database goes away for a while: requests get 503, health says so, and the same
process delivers every pending report once it is back, with no restart."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from outages import POSTGRES, database_away
from support import Api, Tenant, assert_error, enqueue_reports, unfinished_deliveries, worker_env
from webhook_receiver import Answer, Receiver, eventually


def _loop(health: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(loop for loop in health["loops"] if loop["name"] == name)
    return found


def test_health_reports_each_background_loop(client: TestClient) -> None:
    response = client.get("/v1/health")

    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok" and health["database"] == "ok"
    for name in ("webhook-claims", "webhook-records"):
        assert _loop(health, name)["state"] in ("starting", "running")
        assert _loop(health, name)["failures"] == 0
    if not POSTGRES:
        assert _loop(health, "sqlite-checkpoints")["state"] in ("starting", "running")


def test_pending_reports_are_delivered_after_the_database_comes_back(
    client: TestClient,
    settings: Settings,
    database: Database,
    tenant: Tenant,
    receiver: Receiver,
) -> None:
    url = receiver.on("/after-outage", lambda _n: Answer(200))
    webhook_ids = enqueue_reports(database, tenant, url, 20, due=utcnow() + dt.timedelta(seconds=1))
    answers = []

    with database_away(settings):

        def claims_failing() -> bool:
            answers.append(client.get("/v1/health"))
            return _loop(answers[-1].json(), "webhook-claims")["state"] == "failing"

        eventually(claims_failing, "health to report the failing claims", 30)

    down = answers[-1]
    assert down.status_code == 503
    assert down.headers["retry-after"]
    body = down.json()
    assert body["error"] == 503 and body["status"] == "unavailable"
    # On PostgreSQL no connection can be had at all; on SQLite reads still work.
    assert body["database"] == ("unavailable" if POSTGRES else "ok")
    claims = _loop(body, "webhook-claims")
    assert claims["state"] == "failing" and claims["failures"] >= 1
    assert "database unavailable" in claims["last_error"]
    assert "webhook-claims" in body["message"]

    # The same process, never restarted, delivers every report once the database is back.
    eventually(
        lambda: unfinished_deliveries(database) == 0, "every pending report to be delivered", 60
    )
    delivered = {received.headers["webhook-id"] for received in receiver.to("/after-outage")}
    assert delivered == webhook_ids
    eventually(lambda: client.get("/v1/health").status_code == 200, "health to recover", 30)
    assert _loop(client.get("/v1/health").json(), "webhook-claims")["failures"] == 0


def test_a_request_while_the_database_is_away_is_503_logged_once(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assistant = api.create_assistant()
    path = f"/v1/assistant/{assistant['id']}"
    with caplog.at_level(logging.WARNING, logger="clarion"), database_away(settings):
        response = api.patch(path, json={"first_message": "Changed while away"})

    assert_error(response, 503, "database")
    assert response.headers["retry-after"]
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    lines = [record for record in caplog.records if record.name == "clarion.api.errors"]
    assert len(lines) == 1, [record.getMessage() for record in lines]
    assert lines[0].levelno == logging.WARNING and lines[0].exc_info is None
    assert "database unavailable on PATCH" in lines[0].getMessage()
    # Nothing was changed, and the server serves again once the database is back.
    assert api.get(path).json() == assistant


@pytest.fixture
def quiet_server(settings: Settings) -> Settings:
    return settings.model_copy(update={"run_worker": False})


def test_a_worker_process_outlives_the_outage(
    quiet_server: Settings, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    settings = quiet_server
    url = receiver.on("/worker-outage", lambda _n: Answer(200))
    worker = subprocess.Popen(
        [sys.executable, "-m", "clarion", "worker"],
        env=worker_env(settings, CLARION_LOG_FORMAT="json"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log_lines: list[bytes] = []
    reader = threading.Thread(target=lambda: log_lines.extend(iter(worker.stderr.readline, b"")))
    reader.start()
    try:
        eventually(
            lambda: any(b"background loops started" in line for line in log_lines),
            "the worker to start",
            30,
        )
        webhook_ids = enqueue_reports(
            database, tenant, url, 10, due=utcnow() + dt.timedelta(seconds=1)
        )
        with database_away(settings):
            eventually(
                lambda: any(b"webhook-claims failed" in line for line in log_lines),
                "the worker to meet the outage",
                30,
            )
        eventually(
            lambda: unfinished_deliveries(database) == 0, "the worker to deliver everything", 60
        )
        assert worker.poll() is None  # still running: it never gave up
        delivered = {received.headers["webhook-id"] for received in receiver.to("/worker-outage")}
        assert delivered == webhook_ids
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        reader.join()
    assert not any(b"Traceback" in line for line in log_lines), log_lines
    failures = [orjson.loads(line) for line in log_lines if b"webhook-claims failed" in line]
    assert failures and all(entry["level"] == "warning" for entry in failures)
    assert all("exception" not in entry for entry in failures)


@contextmanager
def database_read_only(settings: Settings) -> Iterator[None]:
    """PostgreSQL: every new transaction of the server's database is read-only (a standby,
    or a database an operator froze), and the connections already open are ended."""
    assert settings.database_url is not None
    url = make_url(settings.database_url)
    name = url.database
    admin = create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    terminate = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = :name AND pid <> pg_backend_pid()"
    )
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        connection.execute(terminate, {"name": name})
        try:
            yield
        finally:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
            connection.execute(terminate, {"name": name})
    admin.dispose()


@pytest.mark.skipif(not POSTGRES, reason="a read-only PostgreSQL database")
def test_a_write_to_a_read_only_database_is_503_and_reads_go_on(
    api: Api, settings: Settings
) -> None:
    assistant = api.create_assistant()
    path = f"/v1/assistant/{assistant['id']}"
    with database_read_only(settings):
        refused = api.patch(path, json={"first_message": "Changed while read-only"})
        read = api.get(path)

    assert_error(refused, 503, "database")
    assert refused.headers["retry-after"]
    assert read.status_code == 200 and read.json() == assistant
    assert api.get(path).json() == assistant  # nothing was written
