"""The delivery outbox: enqueueing events, claiming due deliveries, recording attempts.

Claiming is one UPDATE over a locked subselect: on PostgreSQL ``FOR UPDATE SKIP LOCKED``
lets any number of workers take disjoint batches; on SQLite the write transaction (BEGIN
IMMEDIATE) already admits one claimer at a time. A claim sets a lease: a worker that dies
between claim and record leaves the delivery to be claimed again when the lease runs out,
so every event is delivered at least once.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update

from clarion.database import Unit
from clarion.errors import NotFound
from clarion.webhooks.models import WebhookAttemptRow, WebhookDeliveryRow, WebhookEventRow
from clarion.webhooks.sender import Outcome

PENDING, IN_FLIGHT, SUCCEEDED, FAILED = "pending", "in_flight", "succeeded", "failed"
JITTER = 0.1  # a retry comes up to 10% earlier or later, so failures do not retry in lockstep


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a worker holds until its lease runs out."""

    delivery_id: int
    attempt: int
    organization_id: int
    url: str
    secret_encrypted: bytes | None
    webhook_id: str
    body: bytes


def enqueue(
    unit: Unit,
    *,
    organization_id: int,
    assistant_id: int,
    url: str,
    secret_encrypted: bytes | None,
    event_type: str,
    body: bytes,
    now: dt.datetime,
    call_id: int | None = None,
) -> tuple[WebhookDeliveryRow, WebhookEventRow]:
    """Store an event (about ``call_id``, for a call's report) and its delivery, due now, in
    the caller's transaction."""
    session = unit.session
    event = WebhookEventRow(
        organization_id=organization_id,
        assistant_id=assistant_id,
        event_type=event_type,
        webhook_id=f"evt_{secrets.token_hex(16)}",
        body=body,
        created_at=now,
        call_id=call_id,
    )
    session.add(event)
    session.flush()
    delivery = WebhookDeliveryRow(
        organization_id=organization_id,
        event_id=event.id,
        assistant_id=assistant_id,
        url=url,
        secret_encrypted=secret_encrypted,
        status=PENDING,
        attempt_count=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery, event


def claim(unit: Unit, limit: int, lease_seconds: float, now: dt.datetime) -> list[Claimed]:
    """Take up to ``limit`` due deliveries (and any whose lease ran out) for this worker."""
    session = unit.session
    due = or_(
        and_(WebhookDeliveryRow.status == PENDING, WebhookDeliveryRow.next_attempt_at <= now),
        and_(WebhookDeliveryRow.status == IN_FLIGHT, WebhookDeliveryRow.lease_expires_at < now),
    )
    chosen = (
        select(WebhookDeliveryRow.id)
        .where(due)
        .order_by(WebhookDeliveryRow.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = session.execute(
        update(WebhookDeliveryRow)
        .where(WebhookDeliveryRow.id.in_(chosen))
        .values(
            status=IN_FLIGHT,
            lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
            attempt_count=WebhookDeliveryRow.attempt_count + 1,
            updated_at=now,
        )
        .returning(
            WebhookDeliveryRow.id,
            WebhookDeliveryRow.attempt_count,
            WebhookDeliveryRow.organization_id,
            WebhookDeliveryRow.url,
            WebhookDeliveryRow.secret_encrypted,
            WebhookDeliveryRow.event_id,
        ),
        execution_options={"synchronize_session": False},
    ).all()
    if not rows:
        return []
    events = {
        event_id: (webhook_id, body)
        for event_id, webhook_id, body in session.execute(
            select(WebhookEventRow.id, WebhookEventRow.webhook_id, WebhookEventRow.body).where(
                WebhookEventRow.id.in_([row.event_id for row in rows])
            )
        )
    }
    return [
        Claimed(
            row.id,
            row.attempt_count,
            row.organization_id,
            row.url,
            row.secret_encrypted,
            *events[row.event_id],
        )
        for row in rows
    ]


def record(
    unit: Unit,
    results: Sequence[tuple[Claimed, dt.datetime, Outcome]],
    delays: Sequence[float],
    now: dt.datetime,
) -> None:
    """Write each attempt, and move each delivery on: done, failed, or due again later.

    Both are one executemany each, whatever the size of the batch.
    """
    session = unit.session
    connection = session.connection()
    connection.execute(
        insert(WebhookAttemptRow),
        [
            {
                "delivery_id": claimed.delivery_id,
                "number": claimed.attempt,
                "started_at": started_at,
                "status_code": outcome.status_code,
                "latency_ms": outcome.latency_ms,
                "error": outcome.error,
                "response_excerpt": outcome.excerpt,
            }
            for claimed, started_at, outcome in results
        ],
    )
    moves = []
    for claimed, _started_at, outcome in results:
        if outcome.succeeded:
            status, due = SUCCEEDED, now
        elif outcome.gone or claimed.attempt >= len(delays):
            status, due = FAILED, now
        else:
            wait = _delay(delays[claimed.attempt], outcome.retry_after)
            status, due = PENDING, now + dt.timedelta(seconds=wait)
        moves.append(
            {
                "claimed_id": claimed.delivery_id,
                "claimed_attempt": claimed.attempt,
                "new_status": status,
                "due": due,
                "status_code": outcome.status_code,
                "error": outcome.error,
                "now": now,
            }
        )
    connection.execute(_MOVE, moves)


# Only while the claim is still ours: a worker whose lease ran out and was taken over keeps
# its attempt in the log but does not move the delivery.
_DELIVERIES = cast(Table, WebhookDeliveryRow.__table__)
_MOVE = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("claimed_id"),
        _DELIVERIES.c.status == IN_FLIGHT,
        _DELIVERIES.c.attempt_count == bindparam("claimed_attempt"),
    )
    .values(
        status=bindparam("new_status"),
        next_attempt_at=bindparam("due"),
        last_status_code=bindparam("status_code"),
        last_error=bindparam("error"),
        lease_expires_at=None,
        updated_at=bindparam("now"),
    )
)


def _delay(scheduled: float, retry_after: float | None) -> float:
    delay = scheduled * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - not security
    return max(delay, retry_after or 0.0)


def list_deliveries(
    unit: Unit,
    organization_id: int,
    assistant_id: int | None,
    status: str | None,
    limit: int,
    call_id: int | None = None,
) -> list[tuple[WebhookDeliveryRow, WebhookEventRow]]:
    """Newest first."""
    session = unit.session
    query = (
        select(WebhookDeliveryRow, WebhookEventRow)
        .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
        .where(WebhookDeliveryRow.organization_id == organization_id)
    )
    if assistant_id is not None:
        query = query.where(WebhookDeliveryRow.assistant_id == assistant_id)
    if status is not None:
        query = query.where(WebhookDeliveryRow.status == status)
    if call_id is not None:
        query = query.where(
            WebhookEventRow.organization_id == organization_id, WebhookEventRow.call_id == call_id
        )
    rows = session.execute(query.order_by(WebhookDeliveryRow.id.desc()).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def get_delivery(
    unit: Unit, organization_id: int, delivery_id: int
) -> tuple[WebhookDeliveryRow, WebhookEventRow, list[WebhookAttemptRow]]:
    """One of the organization's deliveries with its event and attempts; NotFound if none."""
    session = unit.session
    row = session.execute(
        select(WebhookDeliveryRow, WebhookEventRow)
        .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
        .where(
            WebhookDeliveryRow.id == delivery_id,
            WebhookDeliveryRow.organization_id == organization_id,
        )
    ).first()
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    attempts = session.scalars(
        select(WebhookAttemptRow)
        .where(WebhookAttemptRow.delivery_id == delivery_id)
        .order_by(WebhookAttemptRow.number, WebhookAttemptRow.id)
    ).all()
    return row[0], row[1], list(attempts)


def redeliver(
    unit: Unit, organization_id: int, delivery_id: int, now: dt.datetime
) -> tuple[WebhookDeliveryRow, WebhookEventRow, list[WebhookAttemptRow]]:
    """Make a delivery due now again, whatever became of it; its attempts are kept."""
    session = unit.session
    delivery, _event, _attempts = get_delivery(unit, organization_id, delivery_id)
    if delivery.status != IN_FLIGHT:  # one in flight will be recorded by its worker
        delivery.status = PENDING
        delivery.next_attempt_at = now
        delivery.attempt_count = 0
        delivery.updated_at = now
        session.flush()
    return get_delivery(unit, organization_id, delivery_id)
