"""The calls table and the messages said in each call, and the records their rows are read into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, Identifier, JSONDocument, OrganizationScoped, UTCDateTime

NAME_MAX = 50
PHONE_MAX = 32

QUEUED, RINGING, IN_PROGRESS, ENDED = "queued", "ringing", "in-progress", "ended"
WEB_CALL, OUTBOUND, INBOUND = "webCall", "outboundPhoneCall", "inboundPhoneCall"
WAITING = (QUEUED, RINGING)
"""The states of a call waiting for its caller to join (a web call's socket, a phone call's
stream)."""

# What is left to do after a call ends: its analysis, then its report into the outbox.
AFTER_CALL_PENDING, AFTER_CALL_DONE = "pending", "done"


class CallRow(OrganizationScoped, Base):
    """One conversation of an assistant, from its creation to its report."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_organization_id_created_at_id", "organization_id", "created_at", "id"),
        # The list's filters, each followed by the list's order, so that a filtered page is
        # read off the index newest first and stops at its limit.
        Index("ix_calls_list_assistant", "organization_id", "assistant_id", "created_at", "id"),
        Index("ix_calls_list_status", "organization_id", "call_status", "created_at", "id"),
        Index("ix_calls_list_ended_reason", "organization_id", "ended_reason", "created_at", "id"),
        Index(
            "ix_calls_list_assistant_status",
            "organization_id",
            "assistant_id",
            "call_status",
            "created_at",
            "id",
        ),
        Index(
            "ix_calls_list_assistant_ended_reason",
            "organization_id",
            "assistant_id",
            "ended_reason",
            "created_at",
            "id",
        ),
        # The lease keeper's and the reaper's questions: whose calls are live, and until when.
        Index("ix_calls_call_status_lease_expires_at", "call_status", "lease_expires_at"),
        Index("ix_calls_after_call", "after_call"),
        # Counting an organization's live calls (its limit) reads only the live ones.
        Index(
            "ix_calls_organization_id_live",
            "organization_id",
            postgresql_where=text("call_status <> 'ended'"),
            sqlite_where=text("call_status <> 'ended'"),
        ),
        {"sqlite_autoincrement": True},
    )

    assistant_id: Mapped[int] = mapped_column(Identifier)
    # The assistant's version the call started from: later edits never reach a live call.
    assistant_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(NAME_MAX), default=None)
    call_type: Mapped[str] = mapped_column(String(32))
    call_status: Mapped[str] = mapped_column(String(16))
    source_phone_number_id: Mapped[int | None] = mapped_column(Identifier, default=None)
    source_number: Mapped[str | None] = mapped_column(String(PHONE_MAX), default=None)
    destination_number: Mapped[str | None] = mapped_column(String(PHONE_MAX), default=None)
    # The configuration the call runs with: the version's, overridden by task_parameters,
    # its variables filled in.
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    webhook_url: Mapped[str | None] = mapped_column(Text, default=None)
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # SHA-256 of the web call's token; cleared once the caller has joined, so it works once.
    token_digest: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    failure_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    after_call: Mapped[str | None] = mapped_column(String(16), default=None)
    after_call_claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # A phone call's: the organization's number it was made on or came to, and Twilio's
    # call; what kept a call from being connected, in words (never what was said).
    phone_number_id: Mapped[int | None] = mapped_column(Identifier, default=None)
    twilio_call_sid: Mapped[str | None] = mapped_column(String(64), default=None)
    failure_detail: Mapped[str | None] = mapped_column(Text, default=None)
    # An outbound phone call's answering-machine verdict, Twilio's AnsweredBy (human,
    # machine_end_beep, fax...): it decides whether the assistant converses or leaves a message.
    answered_by: Mapped[str | None] = mapped_column(String(32), default=None)
    # When the phone was answered: its stream is due to open within moments.
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class CallMessageRow(Base):
    """One message said in a call, stored as it is said."""

    __tablename__ = "call_messages"

    call_id: Mapped[int] = mapped_column(
        Identifier, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    time: Mapped[int] = mapped_column(BigInteger)
    """Unix time in milliseconds when it began."""
    end_time: Mapped[int] = mapped_column(BigInteger)


CALLS = cast(Table, CallRow.__table__)
CALL_MESSAGES = cast(Table, CallMessageRow.__table__)


@dataclass(slots=True)
class CallRecord:
    """A CallRow read into a plain record. Field order is the table's column order."""

    id: int
    organization_id: int
    assistant_id: int
    assistant_version: int
    name: str | None
    call_type: str
    call_status: str
    source_phone_number_id: int | None
    source_number: str | None
    destination_number: str | None
    configuration: dict[str, Any] = field(repr=False)
    webhook_url: str | None
    webhook_secret_encrypted: bytes | None = field(repr=False)
    token_digest: bytes | None = field(repr=False)
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    ended_reason: str | None
    duration_ms: int | None
    analysis: dict[str, Any] | None = field(repr=False)
    summary: str | None = field(repr=False)
    outcome: str | None
    failure_reason: str | None
    after_call: str | None
    after_call_claimed_until: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    phone_number_id: int | None = None
    twilio_call_sid: str | None = None
    failure_detail: str | None = None
    answered_by: str | None = None
    answered_at: dt.datetime | None = None

    @property
    def live(self) -> bool:
        """Queued or in progress: not ended."""
        return self.call_status != ENDED


@dataclass(frozen=True, slots=True)
class SaidMessage:
    """A message as the conversation records it. Its words are the patient's or the
    assistant's: never in a log, so never in a repr."""

    call_id: int
    position: int
    role: str
    message: str = field(repr=False)
    time: int
    end_time: int


assert [f.name for f in fields(CallRecord)] == [c.name for c in CALLS.columns]  # noqa: S101
assert [f.name for f in fields(SaidMessage)] == [c.name for c in CALL_MESSAGES.columns]  # noqa: S101
