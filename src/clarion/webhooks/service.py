"""What the webhook API does: queue a sample report, list, show and redeliver deliveries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson

from clarion.assistants import repository as assistants
from clarion.auth.service import Caller
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.errors import InvalidInput, found
from clarion.webhooks import outbox
from clarion.webhooks.schemas import EndOfCallReport, delivery_json

END_OF_CALL_REPORT = "end-of-call-report"
SAMPLE_CALL_ID = 0  # no real call has id 0: receivers can tell a test report apart


def send_test_report(
    unit: Unit, caller: Caller, assistant_id: int, due: Callable[[], object]
) -> dict[str, Any]:
    """Queue a realistic sample end-of-call report to the assistant's webhook, due now;
    ``due`` is called once it is committed."""
    assistant = found(
        assistants.get(unit.statements, caller.organization_id, assistant_id),
        f"assistant {assistant_id} not found",
    )
    webhook_url = assistant.values["webhook_url"]
    if webhook_url is None:
        raise InvalidInput("webhook_url: the assistant has no webhook_url to send a report to")
    now = utcnow()
    values = assistant.values
    report = sample_report(assistant_id, values["first_message"], values["voicemail_message"], now)
    delivery, event = outbox.enqueue(
        unit,
        organization_id=caller.organization_id,
        assistant_id=assistant_id,
        url=webhook_url,
        secret_encrypted=assistant.webhook_secret_encrypted,
        event_type=END_OF_CALL_REPORT,
        body=orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_UTC_Z),
        now=now,
    )
    unit.after_commit(due)
    return delivery_json(delivery, event, [])


def sample_report(
    assistant_id: int, first_message: str | None, voicemail: str | None, now: dt.datetime
) -> EndOfCallReport:
    """A realistic end-of-call report for the assistant, under the sample call id, ending now."""
    started = now - dt.timedelta(minutes=2, seconds=14)
    greeting = first_message or "Hello, this is your clinic calling about your appointment."
    return EndOfCallReport.model_validate(
        {
            "id": SAMPLE_CALL_ID,
            "assistant_id": assistant_id,
            "started_at": started,
            "ended_at": now,
            "call_status": "ended",
            "duration_ms": 134_000,
            "ended_reason": "customer-ended",
            "transcript": f"AI: {greeting}\nUser: Yes, I can make it on Thursday.\n"
            "AI: Thank you, we will see you then.",
            "source_number": "+15555550100",
            "destination_number": "+15555550123",
            "call_type": "outboundPhoneCall",
            "analysis": {
                "structuredData": {"appointment_confirmed": True},
                "successEvaluation": "true",
            },
            "summary": "The patient confirmed Thursday's appointment.",
            "outcome": "resolved",
            "voicemail_message": voicemail,
        }
    )


def list_deliveries(
    unit: Unit, caller: Caller, assistant_id: int | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    """The caller's deliveries, newest first, optionally of one assistant or in one status."""
    rows = outbox.list_deliveries(unit, caller.organization_id, assistant_id, status, limit)
    return [delivery_json(delivery, event) for delivery, event in rows]


def get_delivery(unit: Unit, caller: Caller, delivery_id: int) -> dict[str, Any]:
    """One of the caller's deliveries with its payload and attempts; NotFound if not theirs."""
    return delivery_json(*outbox.get_delivery(unit, caller.organization_id, delivery_id))


def redeliver(
    unit: Unit, caller: Caller, delivery_id: int, due: Callable[[], object]
) -> dict[str, Any]:
    """Make a delivery due now again, with a fresh retry schedule; ``due`` is called once that
    is committed."""
    unit.after_commit(due)
    return delivery_json(*outbox.redeliver(unit, caller.organization_id, delivery_id, utcnow()))
