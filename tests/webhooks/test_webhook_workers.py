"""Worker processes: a killed worker loses nothing; several workers never share a delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.webhooks import outbox
from clarion.webhooks.models import WebhookDelivery
from support import Tenant
from webhook_receiver import Answer, Receiver, eventually


def _enqueue(database: Database, tenant: Tenant, url: str, count: int) -> set[str]:
    ids = set()
    with database.unit(write=True) as unit:
        for number in range(count):
            _delivery, event = outbox.enqueue(
                unit,
                organization_id=tenant.organization_id,
                assistant_id=1,
                url=url,
                secret_encrypted=None,
                event_type="end-of-call-report",
                body=b'{"id": %d, "assistant_id": 1, "call_status": "ended"}' % number,
                now=utcnow(),
            )
            ids.add(event.webhook_id)
    return ids


def _unfinished(database: Database) -> int:
    with database.unit() as unit:
        session = unit.session
        return (
            session.scalar(
                select(func.count()).where(WebhookDelivery.status.in_(["pending", "in_flight"]))
            )
            or 0
        )


@contextmanager
def _worker(settings: Settings, **overrides: str) -> Iterator[subprocess.Popen[bytes]]:
    assert settings.database_url is not None
    env = {
        **os.environ,
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": settings.database_url,
        "CLARION_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "CLARION_WEBHOOK_RETRY_SCHEDULE": "0,0.1,0.1,0.1",
        "CLARION_LOG_FORMAT": "text",
        **overrides,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion", "worker"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"run_worker": False})  # only the worker processes


def test_a_killed_worker_loses_nothing(
    settings: Settings, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    url = receiver.on("/crash", lambda _n: Answer(200, delay=0.3))
    webhook_ids = _enqueue(database, tenant, url, 40)

    with _worker(
        settings, CLARION_WEBHOOK_CONCURRENCY="8", CLARION_WEBHOOK_LEASE_SECONDS="1"
    ) as first:
        receiver.wait_for("/crash", 4)  # it has claimed deliveries and is sending them
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert _unfinished(database) > 0

    with _worker(settings, CLARION_WEBHOOK_CONCURRENCY="8", CLARION_WEBHOOK_LEASE_SECONDS="1"):
        eventually(lambda: _unfinished(database) == 0, "every delivery to finish", 60)

    delivered = {r.headers["webhook-id"] for r in receiver.to("/crash")}
    assert delivered == webhook_ids


@pytest.mark.skipif(
    not os.environ.get("CLARION_TEST_DATABASE_URL"), reason="SKIP LOCKED claims need PostgreSQL"
)
def test_several_workers_share_a_backlog_without_overlap(
    settings: Settings, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    url = receiver.on("/backlog", lambda _n: Answer(200))
    webhook_ids = _enqueue(database, tenant, url, 2000)

    with _worker(settings), _worker(settings), _worker(settings):
        eventually(lambda: _unfinished(database) == 0, "the backlog to drain", 120)

    counts = Counter(r.headers["webhook-id"] for r in receiver.to("/backlog"))
    assert set(counts) == webhook_ids
    assert receiver.overlaps == []  # no event was ever being delivered twice at once
    assert max(counts.values()) == 1
