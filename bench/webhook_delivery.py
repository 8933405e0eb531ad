"""Benchmark of webhook delivery: deliveries per second to a local receiver.

    .venv/bin/python bench/webhook_delivery.py
    .venv/bin/python bench/webhook_delivery.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

For each database it queues a backlog of signed end-of-call reports (10,000 by default),
starts 1 and then 4 `clarion worker` processes, and reports how fast the backlog drains into
a receiver on 127.0.0.1 (the bare ASGI app of bench/ceiling.py, answering 200).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import free_port, prepare_database, start_ceiling, wait_ready
from sqlalchemy import func, insert, select

from clarion.auth import service as auth_service
from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.database.migrate import upgrade
from clarion.webhooks.models import WebhookDeliveryRow, WebhookEventRow

REPORT = (
    b'{"id": %d, "assistant_id": 1, "call_status": "ended", "duration_ms": 134000, '
    b'"ended_reason": "customer-ended", "transcript": "AI: Hello, this is Northside Clinic '
    b'calling about your appointment.\\nUser: Yes, Thursday works.\\nAI: Thank you.", '
    b'"source_number": "+15555550100", "destination_number": "+15555550123", '
    b'"call_type": "outboundPhoneCall", "summary": "The patient confirmed.", "outcome": "resolved"}'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", default="1,4")
    args = parser.parse_args()

    port = free_port()
    receiver = start_ceiling(port)
    try:
        wait_ready(f"http://127.0.0.1:{port}/")
        backend = "postgresql" if args.postgres else "sqlite"
        print(f"{args.events:,} events, {backend}, receiver on 127.0.0.1")
        for workers in (int(n) for n in args.workers.split(",")):
            with tempfile.TemporaryDirectory(prefix="clarion-bench-") as workdir:
                rate = _drain(Path(workdir), args, workers, f"http://127.0.0.1:{port}/hook")
            print(
                f"  {workers} worker process{'es' if workers > 1 else ''}: {rate:,.0f} deliveries/s"
            )
            sys.stdout.flush()
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)


def _drain(workdir: Path, args: argparse.Namespace, workers: int, url: str) -> float:
    database_url = prepare_database(workdir, args.postgres)
    settings = Settings(data_dir=workdir, database_url=database_url)
    upgrade(settings.database)
    database = Database(settings.database)
    _enqueue(database, args.events, url)
    env = {
        **os.environ,
        "CLARION_DATA_DIR": str(workdir),
        "CLARION_DATABASE_URL": database_url,
        "CLARION_ALLOWED_NETWORKS": "127.0.0.0/8",
        "CLARION_LOG_FORMAT": "text",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "clarion", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        # Time from the first delivery to the last, so process start-up is not counted.
        first_count, first_at = 0, 0.0
        while True:
            done = _succeeded(database)
            now = time.perf_counter()
            if done and not first_at:
                first_count, first_at = done, now
            if done >= args.events:
                return (done - first_count) / (now - first_at)
            time.sleep(0.05)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        database.dispose()


def _enqueue(database: Database, count: int, url: str) -> None:
    with database.unit(write=True) as unit:
        session = unit.session
        organization_id, _key = auth_service.create_organization(unit, "Bench Clinic")
        now = utcnow()
        event_ids = session.scalars(
            insert(WebhookEventRow).returning(WebhookEventRow.id),
            [
                {
                    "organization_id": organization_id,
                    "assistant_id": 1,
                    "event_type": "end-of-call-report",
                    "webhook_id": f"evt_{secrets.token_hex(16)}",
                    "body": REPORT % number,
                    "created_at": now,
                }
                for number in range(count)
            ],
        ).all()
        session.execute(
            insert(WebhookDeliveryRow),
            [
                {
                    "organization_id": organization_id,
                    "event_id": event_id,
                    "assistant_id": 1,
                    "url": url,
                    "secret_encrypted": None,
                    "status": "pending",
                    "attempt_count": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for event_id in event_ids
            ],
        )


def _succeeded(database: Database) -> int:
    with database.unit() as unit:
        session = unit.session
        return (
            session.scalar(select(func.count()).where(WebhookDeliveryRow.status == "succeeded"))
            or 0
        )


if __name__ == "__main__":
    main()
