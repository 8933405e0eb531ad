"""What the webhook API does: queue a sample report, list, show and redeliver deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from clarion.assistants import repository as assistants
from clarion.auth.service import Caller
from clarion.call_reads import service as call_reads
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.errors import InvalidInput, found
from clarion.webhooks import outbox
from clarion.webhooks.models import WebhookAttemptRow, WebhookDeliveryRow, WebhookEventRow
from clarion.webhooks.sample import sample_report
from clarion.webhooks.schemas import delivery_json

END_OF_CALL_REPORT = "end-of-call-report"


def send_test_report(
    unit: Unit, caller: Caller, assistant_id: int, due: Callable[[], object]
) -> dict[str, Any]:
    """Queue a sample end-of-call report (clarion.webhooks.sample) to the assistant's
    webhook, due now; ``due`` is called once it is committed."""
    assistant = found(
        assistants.get(unit.statements, caller.organization_id, assistant_id),
        f"assistant {assistant_id} not found",
    )
    webhook_url = assistant.values["webhook_url"]
    if webhook_url is None:
        raise InvalidInput("webhook_url: the assistant has no webhook_url to send a report to")
    now = utcnow()
    report = sample_report(assistant_id, assistant.values, now)
    delivery, event = outbox.enqueue(
        unit,
        organization_id=caller.organization_id,
        assistant_id=assistant_id,
        url=webhook_url,
        secret_encrypted=assistant.webhook_secret_encrypted,
        event_type=END_OF_CALL_REPORT,
        # Encoded as a real report is (clarion.after_call.moves), timestamps and all.
        body=orjson.dumps(report, option=orjson.OPT_UTC_Z),
        now=now,
    )
    unit.after_commit(due)
    return delivery_json(delivery, event, [])


def list_deliveries(
    unit: Unit,
    caller: Caller,
    assistant_id: int | None,
    status: str | None,
    limit: int,
    call_id: int | None = None,
) -> list[dict[str, Any]]:
    """The caller's deliveries, newest first, optionally of one assistant, in one status, or
    of one call's report."""
    rows = outbox.list_deliveries(
        unit, caller.organization_id, assistant_id, status, limit, call_id
    )
    return [delivery_json(delivery, event) for delivery, event in rows]


def get_delivery(unit: Unit, caller: Caller, delivery_id: int) -> dict[str, Any]:
    """One of the caller's deliveries with its payload and attempts; NotFound if not theirs."""
    return _shown(unit, caller, *outbox.get_delivery(unit, caller.organization_id, delivery_id))


def redeliver(
    unit: Unit, caller: Caller, delivery_id: int, due: Callable[[], object]
) -> dict[str, Any]:
    """Make a delivery due now again, with a fresh retry schedule; ``due`` is called once that
    is committed. The delivery as it now is, with its payload and attempts."""
    unit.after_commit(due)
    return _shown(
        unit, caller, *outbox.redeliver(unit, caller.organization_id, delivery_id, utcnow())
    )


def _shown(
    unit: Unit,
    caller: Caller,
    delivery: WebhookDeliveryRow,
    event: WebhookEventRow,
    attempts: list[WebhookAttemptRow],
) -> dict[str, Any]:
    """A delivery with its payload, shown to the caller. A report's payload carries the call's
    transcript, so showing it is a read of the call, noted in the access log."""
    if event.call_id is not None:
        call_reads.record(unit, caller, [event.call_id])
    return delivery_json(delivery, event, attempts)
