"""Benchmark of the calls list: GET /v1/call, its first page and filtered pages, over many calls.

    .venv/bin/python bench/calls_list.py                 # SQLite, the embedded default
    .venv/bin/python bench/calls_list.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

It migrates a database of its own (a SQLite file, or a fresh ``clarion_calls_list_bench``
database on the PostgreSQL server given), stores an organization with a few assistants and
their calls straight into it (100,000 by default, created over the last 90 days, most of them
ended, each ended call with 4 to 10 messages; a few queued and in progress; ended reasons from
common to rare), then starts `clarion serve` (one process) on it.
On PostgreSQL the tables are analyzed after the load, as autovacuum would soon do; SQLite is
left without statistics, as the server leaves it.

Each page (the first one, then one per filter: an assistant, a status, an ended reason, a
week of creation times, an assistant and a status together) is asked for with common, rare and
absent values: a filter no index serves reads every call when few or none match. The pages
are asked for in turn over a kept-alive HTTP connection, one request at a time, after a
warm-up. It prints, per page, how many calls and messages it holds, its size, and the latency
the client sees (p50, p99, max).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from harness import MODEL, free_port, percentile, running_process, seed_assistants, wait_ready
from sqlalchemy import Connection, create_engine, insert, select, text
from sqlalchemy.engine import URL

from clarion.assistants.models import AssistantRow
from clarion.calls.endings import EndedReason
from clarion.calls.models import CALL_MESSAGES, CALLS, ENDED, IN_PROGRESS, QUEUED, WEB_CALL
from clarion.config import Settings, sqlalchemy_url
from clarion.database.migrate import upgrade

BENCH_DATABASE = "clarion_calls_list_bench"
DAYS = 90
BATCH = 5000
_INSERT_CALLS = insert(CALLS).returning(CALLS.c.id, sort_by_parameter_order=True)

# How often each ended reason comes up: most calls end with a goodbye, a few fail.
REASONS = {
    EndedReason.CUSTOMER_ENDED: 600,
    EndedReason.ASSISTANT_ENDED: 200,
    EndedReason.SILENCE_TIMED_OUT: 80,
    EndedReason.CUSTOMER_DID_NOT_ANSWER: 50,
    EndedReason.VOICEMAIL: 30,
    EndedReason.EXCEEDED_MAX_DURATION: 20,
    EndedReason.MANUALLY_CANCELED: 15,
    EndedReason.PIPELINE_ERROR_LLM: 4,
    EndedReason.WORKER_DIED: 1,
}
LIVE = {QUEUED: 30, IN_PROGRESS: 20}
"""How many of the calls, the newest, are still queued or in progress."""

CONFIGURATION = {
    "name": "Appointment reminders",
    "model": MODEL,
    "voice": {"provider": "11labs", "voiceId": "rachel"},
    "transcriber": {"provider": "deepgram", "model": "nova-2", "language": "en"},
    "first_message": "Hello, this is Northside Clinic calling about your appointment.",
    "end_call_message": "Thank you, goodbye.",
    "max_duration_seconds": 600,
    "silence_timeout_seconds": 30,
    "analysis_plan": {"summary_prompt": "Summarize the call in two sentences."},
}
LINES = [
    "Hello, this is Northside Clinic calling about your appointment on Thursday.",
    "Yes, this is she. Is something wrong with the appointment?",
    "Nothing is wrong; we are calling to confirm Thursday at 10:30 with Dr. Patel.",
    "Thursday works. Should I bring anything with me?",
    "Please bring your insurance card and a list of the medicines you take.",
    "All right, I will. Can I park at the clinic?",
    "Yes, the car park behind the building is free for patients.",
    "Thank you, that is all I needed.",
    "You are welcome. We look forward to seeing you on Thursday. Goodbye.",
    "Goodbye.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="PostgreSQL server URL (a bench database is made on it)"
    )
    parser.add_argument("--calls", type=int, default=100_000, help="calls stored")
    parser.add_argument("--assistants", type=int, default=4, help="assistants they belong to")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    parser.add_argument("--warm-up", type=int, default=10, help="unmeasured requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as workdir:
        bench(Path(workdir), args)


def prepare_database(workdir: Path, server: str | None) -> str:
    """A SQLite file in ``workdir``, or a fresh bench database on the PostgreSQL ``server``."""
    if server is None:
        return f"sqlite:///{workdir / 'clarion.db'}"
    url = sqlalchemy_url(server)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    admin.dispose()
    return url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def bench(workdir: Path, args: argparse.Namespace) -> None:
    database_url = prepare_database(workdir, args.database_url)
    settings = Settings(data_dir=workdir, database_url=database_url)
    upgrade(settings.database)
    started = time.monotonic()
    api_key = seed_assistants(settings, args.assistants)
    assistant_ids, stored = seed_calls(settings.database, args.calls)
    print(
        f"stored {args.calls:,} calls ({stored:,} messages) of {len(assistant_ids)} assistants "
        f"in {time.monotonic() - started:.0f} s"
    )

    env = {**os.environ, "CLARION_DATA_DIR": str(workdir), "CLARION_DATABASE_URL": database_url}
    port = free_port()
    with (
        (workdir / "server.log").open("w") as log,
        running_process(
            [sys.executable, "-m", "clarion", "serve", "--port", str(port)], env=env, output=log
        ),
    ):
        wait_ready(f"http://127.0.0.1:{port}/v1/health")
        pages = _pages(assistant_ids)
        timings, shapes = measure(port, api_key, pages, args.warm_up, args.requests)

    backend = "postgresql" if args.database_url else "sqlite"
    print(
        f"\n{args.calls:,} calls, {backend}, 1 server process, one request at a time, "
        f"{args.requests} requests per page"
    )
    print(f"{'page':<38}{'calls':>6}{'msgs':>6}{'KB':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label in pages:
        ordered = sorted(timings[label])
        calls, messages, size = shapes[label]
        print(
            f"{label:<38}{calls:>6}{messages:>6}{size / 1024:>6.0f}"
            f"{percentile(ordered, 0.50):>9.1f}{percentile(ordered, 0.99):>9.1f}"
            f"{ordered[-1]:>9.1f}"
        )
    # Other work on the machine shows in the tail: say how busy it was.
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    sys.stdout.flush()


def _pages(assistant_ids: list[int]) -> dict[str, dict[str, Any]]:
    """Each page measured: its label and its query parameters."""
    first = assistant_ids[0]
    week_end = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    week = {
        "createdAtGe": (week_end - dt.timedelta(days=7)).isoformat(),
        "createdAtLe": week_end.isoformat(),
    }
    return {
        "first page": {},
        "assistant": {"assistant_id": first},
        "status ended": {"call_status": ENDED},
        "status in-progress (rare)": {"call_status": IN_PROGRESS},
        f"ended_reason {EndedReason.CUSTOMER_ENDED}": {"ended_reason": EndedReason.CUSTOMER_ENDED},
        f"ended_reason {EndedReason.WORKER_DIED} (rare)": {"ended_reason": EndedReason.WORKER_DIED},
        f"ended_reason {EndedReason.SERVER_SHUTDOWN} (none)": {
            "ended_reason": EndedReason.SERVER_SHUTDOWN
        },
        "a week, 30 days ago": week,
        "assistant + ended": {"assistant_id": first, "call_status": ENDED},
        "assistant + queued (rare)": {"assistant_id": first, "call_status": QUEUED},
        "assistant + reason + week": {
            "assistant_id": first,
            "ended_reason": EndedReason.ASSISTANT_ENDED,
            **week,
        },
        # The console's list: the calls without their conversations.
        "first page, no messages": {"include_messages": "false"},
        "assistant + ended, no messages": {
            "assistant_id": first,
            "call_status": ENDED,
            "include_messages": "false",
        },
    }


def measure(
    port: int, api_key: str, pages: dict[str, dict[str, Any]], warm_up: int, requests: int
) -> tuple[dict[str, list[float]], dict[str, tuple[int, int, int]]]:
    """Each page's latencies in ms, the pages asked for in turn so that drift hits them alike;
    and each page's calls, messages and bytes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {api_key}"}
    paths = {label: f"/v1/call?{urlencode(query)}" for label, query in pages.items()}
    timings: dict[str, list[float]] = {label: [] for label in pages}
    shapes: dict[str, tuple[int, int, int]] = {}
    for round_ in range(warm_up + requests):
        for label, path in paths.items():
            began = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - began) * 1000
            if response.status != 200:
                raise SystemExit(f"{label}: {response.status} {body[:300]!r}")
            if round_ >= warm_up:
                timings[label].append(elapsed)
            if label not in shapes:
                calls = orjson.loads(body)
                said = sum(len(call.get("messages", ())) for call in calls)
                shapes[label] = (len(calls), said, len(body))
    connection.close()
    return timings, shapes


def seed_calls(url: URL, count: int) -> tuple[list[int], int]:
    """``count`` calls of the bench organization's assistants, newest last, with their
    messages, written in batches; the assistants, and how many messages were stored."""
    engine = create_engine(url)
    with engine.begin() as connection:
        rows = connection.execute(select(AssistantRow.organization_id, AssistantRow.id)).all()
    organization_id, assistant_ids = rows[0][0], sorted(row[1] for row in rows)
    chosen = random.Random(7)  # noqa: S311 - made-up data, the same in every run
    now = dt.datetime.now(dt.UTC)
    spacing = dt.timedelta(days=DAYS) / count
    live = [status for status, n in LIVE.items() for _ in range(n)]
    stored = 0
    for start in range(0, count, BATCH):
        calls: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        for number in range(start, min(count, start + BATCH)):
            created = now - (count - number) * spacing
            status = live[count - 1 - number] if count - 1 - number < len(live) else ENDED
            calls.append(_call(chosen, organization_id, assistant_ids, created, status))
        with engine.begin() as connection:
            ids = connection.execute(_INSERT_CALLS, calls).scalars().all()
            for call_id, call in zip(ids, calls, strict=True):
                if call["call_status"] == ENDED:
                    messages.extend(_messages(chosen, call_id, call["started_at"]))
            connection.execute(insert(CALL_MESSAGES), messages)
        stored += len(messages)
    if url.get_backend_name() == "postgresql":
        with engine.begin() as connection:
            _analyze(connection)
    engine.dispose()
    return assistant_ids, stored


def _analyze(connection: Connection) -> None:
    connection.execute(text("ANALYZE calls"))
    connection.execute(text("ANALYZE call_messages"))


def _call(
    chosen: random.Random,
    organization_id: int,
    assistant_ids: list[int],
    created: dt.datetime,
    status: str,
) -> dict[str, Any]:
    ended = status == ENDED
    duration_ms = chosen.randint(20_000, 300_000)
    started = created + dt.timedelta(seconds=chosen.uniform(2, 20))
    ended_at = started + dt.timedelta(milliseconds=duration_ms)
    return {
        "organization_id": organization_id,
        "assistant_id": chosen.choice(assistant_ids),
        "assistant_version": 1,
        "name": "Appointment reminder",
        "call_type": WEB_CALL,
        "call_status": status,
        "configuration": CONFIGURATION,
        "started_at": started if status != QUEUED else None,
        "ended_at": ended_at if ended else None,
        "ended_reason": _reason(chosen) if ended else None,
        "duration_ms": duration_ms if ended else None,
        "summary": "The patient confirmed Thursday's appointment." if ended else None,
        "after_call": "done" if ended else None,
        "created_at": created,
        "updated_at": ended_at if ended else created,
    }


def _reason(chosen: random.Random) -> str:
    reasons, weights = zip(*REASONS.items(), strict=True)
    return str(chosen.choices(reasons, weights)[0])


def _messages(
    chosen: random.Random, call_id: int, started: dt.datetime
) -> Iterator[dict[str, Any]]:
    """What was said in an ended call: 4 to 10 turns, the assistant first."""
    moment = int(started.timestamp() * 1000)
    for position in range(chosen.randint(4, 10)):
        length = chosen.randint(1500, 6000)
        yield {
            "call_id": call_id,
            "position": position,
            "role": "assistant" if position % 2 == 0 else "user",
            "message": LINES[position],
            "time": moment,
            "end_time": moment + length,
        }
        moment += length + 400


if __name__ == "__main__":
    main()
