"""What the webhook API returns, and the end-of-call report itself."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, NotRequired

import orjson
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from clarion.calls.schemas import CallAnalysis
from clarion.webhooks.models import WebhookAttemptRow, WebhookDeliveryRow, WebhookEventRow


class EndOfCallReport(BaseModel):
    """Sent to an assistant's webhook_url right after each call ends (Clarion's field names)."""

    id: int = Field(description="The call id")
    assistant_id: int
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    call_status: Literal["queued", "ringing", "in-progress", "forwarding", "ended"]
    duration_ms: int | None = None
    ended_reason: str | None = Field(None, examples=["customer-ended", "assistant-ended"])
    transcript: str | None = Field(None, description="Lines labelled 'AI:' and 'User:'")
    source_number: str | None = None
    destination_number: str | None = Field(None, description="E.164")
    call_type: Literal["webCall", "outboundPhoneCall", "inboundPhoneCall"] | None = None
    analysis: CallAnalysis | None = None
    summary: str | None = None
    outcome: str | None = Field(None, examples=["resolved", "unresolved", "voicemail"])
    failure_reason: (
        Literal[
            "declined",
            "escalated",
            "requested-callback",
            "customer-dropped",
            "assistant-ended",
            "opt-out",
        ]
        | None
    ) = None
    voicemail_message: str | None = None


class DeliveryAttempt(TypedDict):
    """One try at sending a delivery, and what came of it."""

    number: int
    started_at: dt.datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None


class Delivery(TypedDict):
    """A webhook delivery: one event on its way to one URL."""

    id: int
    assistant_id: int
    call_id: int | None
    event_type: str
    webhook_id: str
    url: str
    status: Literal["pending", "in_flight", "succeeded", "failed"]
    attempt_count: int
    next_attempt_at: NotRequired[dt.datetime]
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    payload: NotRequired[EndOfCallReport]
    attempts: NotRequired[list[DeliveryAttempt]]


def delivery_json(
    delivery: WebhookDeliveryRow,
    event: WebhookEventRow,
    attempts: list[WebhookAttemptRow] | None = None,
) -> dict[str, Any]:
    """A delivery as the API shows it; with ``attempts``, its payload and attempts too."""
    body: dict[str, Any] = {
        "id": delivery.id,
        "assistant_id": delivery.assistant_id,
        "call_id": event.call_id,
        "event_type": event.event_type,
        "webhook_id": event.webhook_id,
        "url": delivery.url,
        "status": delivery.status,
        "attempt_count": delivery.attempt_count,
    }
    if delivery.status == "pending":
        body["next_attempt_at"] = delivery.next_attempt_at
    body.update(
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
    )
    if attempts is not None:
        body["payload"] = orjson.loads(event.body)
        body["attempts"] = [
            {
                "number": a.number,
                "started_at": a.started_at,
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "response_excerpt": a.response_excerpt,
            }
            for a in attempts
        ]
    return body
