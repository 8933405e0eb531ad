"""A server stopped with SIGTERM while a call's analysis waits on a model that does not answer:
it hands the analysis over instead of waiting for it, and exits within its drain. The call
stays pending, and the next server analyses it and queues its report. `clarion serve` runs
as a real subprocess."""

from __future__ import annotations

import signal
import subprocess
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

DRAIN_SECONDS = 2
SUMMARY_PROMPT = "Summarise the call."
SAID = "My chest has hurt since Tuesday."
HANG_SECONDS = 600.0  # far longer than the test: the first server must not wait for it


def _is_analysis(request: dict[str, Any]) -> bool:
    return any(SUMMARY_PROMPT in str(message.get("content")) for message in request["messages"])


def _after_call(settings: Settings, call_id: int) -> tuple[Any, ...]:
    database = Database(settings.database)
    try:
        with database.unit() as unit:
            row = unit.session.execute(
                text(
                    "SELECT call_status, after_call, after_call_claimed_until, summary "
                    "FROM calls WHERE id = :id"
                ),
                {"id": call_id},
            ).one()
        return tuple(row)
    finally:
        database.dispose()


def test_sigterm_hands_a_hung_analysis_over_and_the_next_server_reports_the_call(
    settings: Settings, tenant: Tenant, fake: FakeProviders, receiver: Receiver
) -> None:
    env = worker_env(
        settings, CLARION_CALL_DRAIN_SECONDS=str(DRAIN_SECONDS), CLARION_LOG_FORMAT="text"
    )
    model_answers = False

    def script(request: dict[str, Any]) -> Reply:
        if not _is_analysis(request):
            return Reply("Thursday at nine.")
        if model_answers:
            return Reply("The patient asked about Thursday.")
        return Reply("never sent", delay=HANG_SECONDS)

    fake.script = script
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    with clarion_serving(env) as first:
        plan = {"summaryPrompt": SUMMARY_PROMPT}
        call = web_call_on(first.base, tenant, fake, receiver, analysis_plan=plan)
        with connect(call["web_call_url"], open_timeout=10) as connection:
            frames_until(connection, "assistant-message")
            connection.send(orjson.dumps({"type": "user-message", "text": SAID}).decode())
            frames_until(connection, "assistant-message")
            connection.send(orjson.dumps({"type": "hangup"}).decode())
            frames_until(connection, "call-ended")
        deadline = time.monotonic() + 20
        while not any(_is_analysis(received.json) for received in fake.received):
            assert time.monotonic() < deadline, "the analysis was never asked for"
            time.sleep(0.05)

        first.process.send_signal(signal.SIGTERM)
        try:
            first.process.wait(DRAIN_SECONDS + 15)
        except subprocess.TimeoutExpired:
            raise AssertionError("the server waited for the hung analysis") from None

    assert "Application shutdown complete" in first.output  # a clean stop, not a crash
    assert f"call {call['id']}: analysis handed over" in first.output
    assert SAID not in first.output  # the log names the call, never what was said
    status, after_call, _claimed_until, summary = _after_call(settings, call["id"])
    assert (status, after_call, summary) == ("ended", "pending", None)  # not lost, not reported
    assert receiver.to("/report") == []

    model_answers = True
    with clarion_serving(env) as second:
        # Well within the 300 s claim the first server took: it gave the claim back.
        report = orjson.loads(receiver.wait_for("/report", 1, seconds=30)[0].body)
        assert report["id"] == call["id"]
        assert report["summary"] == "The patient asked about Thursday."
        found = httpx.get(f"{second.base}/v1/call/{call['id']}", headers=headers).json()
        assert found["summary"] == "The patient asked about Thursday."
    assert _after_call(settings, call["id"])[1] == "done"
