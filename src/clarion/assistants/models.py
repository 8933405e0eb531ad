"""The assistants table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clarion.db import Base, Identifier, JSONDocument, UTCDateTime


class Assistant(Base):
    __tablename__ = "assistants"
    __table_args__ = (
        # Serves the list: one organization's assistants, newest first, filtered by date.
        Index("ix_assistants_organization_id_created_at_id", "organization_id", "created_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        Identifier, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    voice: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    first_message: Mapped[str | None] = mapped_column(Text, default=None)
    max_duration_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    voicemail_message: Mapped[str | None] = mapped_column(Text, default=None)
    webhook_url: Mapped[str | None] = mapped_column(Text, default=None)
    # AES-GCM ciphertext of the webhook secret (see clarion.secrets); never the secret itself.
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    analysis_plan: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The number of the newest version record; the ETag is derived from it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AssistantVersion(Base):
    """An immutable record of one change to an assistant, written in the change's transaction.

    There is no foreign key to ``assistants``: the history outlives the assistant's deletion.
    """

    __tablename__ = "assistant_versions"
    # The unique index serves every lookup (they all name the assistant). No AUTOINCREMENT:
    # record ids are never shown, and it would rewrite sqlite_sequence on every change.
    __table_args__ = (UniqueConstraint("assistant_id", "version"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        Identifier, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    assistant_id: Mapped[int] = mapped_column(Identifier)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    # The configuration after the change; the webhook secret appears only as a flag.
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    changed_fields: Mapped[list[str]] = mapped_column(JSONDocument)
    # "set", "changed" or "cleared" when the change touched the webhook secret.
    webhook_secret_change: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    api_key_id: Mapped[int | None] = mapped_column(Identifier, default=None)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
