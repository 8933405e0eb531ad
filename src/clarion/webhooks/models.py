"""The delivery outbox: events, their deliveries, and every attempt."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, Identifier, OrganizationScoped, UTCDateTime


class WebhookEventRow(OrganizationScoped, Base):
    """A report to deliver, stored in the transaction that produced it. Never changes."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_organization_id", "organization_id"),
        Index("ix_webhook_events_organization_id_call_id", "organization_id", "call_id"),
        {"sqlite_autoincrement": True},
    )

    assistant_id: Mapped[int] = mapped_column(Identifier)
    event_type: Mapped[str] = mapped_column(String(64))
    # The webhook-id header: the same on every attempt, so receivers can drop duplicates.
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The exact bytes sent (and signed) on every attempt.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The call a report is about; None for a test report (its sample call is not one).
    call_id: Mapped[int | None] = mapped_column(Identifier, default=None)


class WebhookDeliveryRow(OrganizationScoped, Base):
    """Getting one event to one URL: pending, in flight (claimed, leased), succeeded, failed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # What workers ask for: due pending deliveries, and expired leases.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_organization_id_id", "organization_id", "id"),
        {"sqlite_autoincrement": True},
    )

    event_id: Mapped[int] = mapped_column(
        Identifier, ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    assistant_id: Mapped[int] = mapped_column(Identifier)
    url: Mapped[str] = mapped_column(Text)
    # The assistant's webhook secret when the event was made, still encrypted.
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    status: Mapped[str] = mapped_column(String(16))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookAttemptRow(Base):
    """One try at a delivery, as it went."""

    __tablename__ = "webhook_attempts"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        Identifier, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # The first 2 KiB of the receiver's answer.
    response_excerpt: Mapped[str | None] = mapped_column(Text, default=None)
