"""Calls across process faults, with `clarion serve` as real subprocesses: a server killed
with SIGKILL mid-call (its call ends as worker-died, messages and report kept), and a server
stopped with SIGTERM (no new calls, live ones go on for the drain, then end as
server-shutdown with their reports queued before it exits)."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from websockets.sync.client import connect

from clarion.config import Settings
from clarion.database import Database
from fake_providers import FakeProviders, Reply
from served import clarion_serving, frames_until, web_call_on
from support import Tenant, worker_env
from webhook_receiver import Receiver


def _get(base: str, tenant: Tenant, call_id: int) -> dict[str, Any]:
    response = httpx.get(
        f"{base}/v1/call/{call_id}", headers={"Authorization": f"Bearer {tenant.api_key}"}
    )
    found: dict[str, Any] = response.json()
    return found


def test_a_call_whose_server_is_killed_ends_as_worker_died_with_its_messages_and_report(
    settings: Settings, tenant: Tenant, fake: FakeProviders, receiver: Receiver
) -> None:
    env = worker_env(settings, CLARION_CALL_LEASE_SECONDS="1", CLARION_LOG_FORMAT="text")
    fake.script = lambda _request: Reply("Thursday at nine.")
    with clarion_serving(env) as first:
        call = web_call_on(first.base, tenant, fake, receiver)
        with connect(call["web_call_url"], open_timeout=10) as connection:
            frames_until(connection, "assistant-message")
            said = {"type": "user-message", "text": "When is it?"}
            connection.send(orjson.dumps(said).decode())
            assert frames_until(connection, "assistant-message")[-1]["text"] == "Thursday at nine."
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(10)
    with clarion_serving(env) as second:
        deadline = time.monotonic() + 20
        while (ended := _get(second.base, tenant, call["id"]))["call_status"] != "ended":
            assert time.monotonic() < deadline, ended
            time.sleep(0.1)
        assert ended["ended_reason"] == "worker-died"
        assert [m["message"] for m in ended["messages"]] == [
            "Hello, this is Northside Clinic.",
            "When is it?",
            "Thursday at nine.",
        ]
        report = orjson.loads(receiver.wait_for("/report", 1)[0].body)
        assert report["id"] == call["id"]
        assert report["ended_reason"] == "worker-died"
        assert report["transcript"] == ended["transcript"]


def test_sigterm_drains_live_calls_then_ends_them_as_server_shutdown_with_reports_queued(
    settings: Settings, tenant: Tenant, fake: FakeProviders, receiver: Receiver
) -> None:
    env = worker_env(
        settings,
        CLARION_CALL_DRAIN_SECONDS="3",
        CLARION_RUN_WORKER="false",  # the report must be queued; nobody delivers it here
        CLARION_LOG_FORMAT="text",
    )
    fake.script = lambda _request: Reply("Still here.")
    with clarion_serving(env) as served:
        call = web_call_on(served.base, tenant, fake, receiver)
        with connect(call["web_call_url"], open_timeout=10) as connection:
            frames_until(connection, "assistant-message")
            served.process.send_signal(signal.SIGTERM)
            headers = {"Authorization": f"Bearer {tenant.api_key}"}
            deadline = time.monotonic() + 10
            while True:  # the signal reaches the server's loop in a moment
                refused = httpx.post(
                    f"{served.base}/v1/call",
                    json={"assistant_id": call["assistant_id"]},
                    headers=headers,
                )
                if refused.status_code == 503:
                    break
                assert refused.status_code == 201, refused.text
                assert time.monotonic() < deadline
            assert refused.json()["error"] == 503
            assert refused.headers["Retry-After"]
            health = httpx.get(f"{served.base}/v1/health")
            assert health.status_code == 503  # a load balancer sends new calls elsewhere
            assert health.json()["calls"]["held"] == 1
            assert health.json()["calls"]["accepting"] is False
            assert "draining" in health.json()["message"]
            # The live call goes on during the drain.
            connection.send(orjson.dumps({"type": "user-message", "text": "Hello?"}).decode())
            assert frames_until(connection, "assistant-message")[-1]["text"] == "Still here."
            ended = frames_until(connection, "call-ended", timeout=15)[-1]
            assert ended == {"type": "call-ended", "ended_reason": "server-shutdown"}
        assert served.process.wait(30) is not None
    database = Database(settings.database)
    try:
        with database.unit() as unit:
            rows = unit.session.execute(
                text("SELECT ended_reason, after_call FROM calls WHERE id = :id"),
                {"id": call["id"]},
            ).all()
            assert rows == [("server-shutdown", "done")]
            bodies = unit.session.execute(text("SELECT body FROM webhook_events")).all()
        reports = [orjson.loads(body) for (body,) in bodies]
        assert [r["id"] for r in reports if r["id"] == call["id"]] == [call["id"]]
        assert (
            next(r for r in reports if r["id"] == call["id"])["ended_reason"] == "server-shutdown"
        )
    finally:
        database.dispose()
