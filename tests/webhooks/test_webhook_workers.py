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

from clarion.config import Settings
from clarion.database import Database
from support import Tenant, enqueue_reports, unfinished_deliveries, worker_env
from webhook_receiver import Answer, Receiver, eventually


@contextmanager
def _worker(settings: Settings, **overrides: str) -> Iterator[subprocess.Popen[bytes]]:
    env = worker_env(
        settings,
        CLARION_WEBHOOK_RETRY_SCHEDULE="0,0.1,0.1,0.1",
        CLARION_LOG_FORMAT="text",
        **overrides,
    )
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
    webhook_ids = enqueue_reports(database, tenant, url, 40)

    with _worker(
        settings, CLARION_WEBHOOK_CONCURRENCY="8", CLARION_WEBHOOK_LEASE_SECONDS="1"
    ) as first:
        receiver.wait_for("/crash", 4)  # it has claimed deliveries and is sending them
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert unfinished_deliveries(database) > 0

    with _worker(settings, CLARION_WEBHOOK_CONCURRENCY="8", CLARION_WEBHOOK_LEASE_SECONDS="1"):
        eventually(lambda: unfinished_deliveries(database) == 0, "every delivery to finish", 60)

    delivered = {r.headers["webhook-id"] for r in receiver.to("/crash")}
    assert delivered == webhook_ids


@pytest.mark.skipif(
    not os.environ.get("CLARION_TEST_DATABASE_URL"), reason="SKIP LOCKED claims need PostgreSQL"
)
def test_several_workers_share_a_backlog_without_overlap(
    settings: Settings, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    url = receiver.on("/backlog", lambda _n: Answer(200))
    webhook_ids = enqueue_reports(database, tenant, url, 2000)

    with _worker(settings), _worker(settings), _worker(settings):
        eventually(lambda: unfinished_deliveries(database) == 0, "the backlog to drain", 120)

    counts = Counter(r.headers["webhook-id"] for r in receiver.to("/backlog"))
    assert set(counts) == webhook_ids
    assert receiver.overlaps == []  # no event was ever being delivered twice at once
    assert max(counts.values()) == 1
