"""What the webhook API does: queue a sample report, list, show and redeliver deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy.orm import Session

from clarion.assistants import repository as assistants
from clarion.auth.service import Caller
from clarion.db import utcnow
from clarion.errors import InvalidInput, NotFound
from clarion.statements import Transaction
from clarion.webhooks import outbox
from clarion.webhooks.schemas import EndOfCallReport, delivery_json

END_OF_CALL_REPORT = "end-of-call-report"
SAMPLE_CALL_ID = 0  # no real call has id 0: receivers can tell a test report apart


def send_test_report(session: Session, caller: Caller, assistant_id: int) -> dict[str, Any]:
    """Queue a realistic sample end-of-call report to the assistant's webhook, due now."""
    assistant = assistants.get(Transaction.of(session), caller.organization_id, assistant_id)
    if assistant is None:
        raise NotFound(f"assistant {assistant_id} not found")
    if assistant.webhook_url is None:
        raise InvalidInput("webhook_url: the assistant has no webhook_url to send a report to")
    now = utcnow()
    report = sample_report(assistant_id, assistant.first_message, assistant.voicemail_message, now)
    delivery, event = outbox.enqueue(
        session,
        organization_id=caller.organization_id,
        assistant_id=assistant_id,
        url=assistant.webhook_url,
        secret_encrypted=assistant.webhook_secret_encrypted,
        event_type=END_OF_CALL_REPORT,
        body=orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_UTC_Z),
        now=now,
    )
    return delivery_json(delivery, event, [])


def sample_report(
    assistant_id: int, first_message: str | None, voicemail: str | None, now: dt.datetime
) -> EndOfCallReport:
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
    session: Session, caller: Caller, assistant_id: int | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = outbox.list_deliveries(session, caller.organization_id, assistant_id, status, limit)
    return [delivery_json(delivery, event) for delivery, event in rows]


def get_delivery(session: Session, caller: Caller, delivery_id: int) -> dict[str, Any]:
    return delivery_json(*outbox.get_delivery(session, caller.organization_id, delivery_id))


def redeliver(session: Session, caller: Caller, delivery_id: int) -> dict[str, Any]:
    return delivery_json(*outbox.redeliver(session, caller.organization_id, delivery_id, utcnow()))
