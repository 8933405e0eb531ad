"""The assistants table and its version records, and the plain records rows are read into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, cast

import orjson
from sqlalchemy import Index, Integer, LargeBinary, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clarion.assistants.fields import FIELDS
from clarion.database.schema import Base, Identifier, JSONDocument, OrganizationScoped, UTCDateTime


class AssistantRow(OrganizationScoped, Base):
    """An assistant: the fixed columns here, one column per field of clarion.assistants.fields."""

    __tablename__ = "assistants"
    __table_args__ = (
        # Serves the list: one organization's assistants, newest first, filtered by date.
        Index("ix_assistants_organization_id_created_at_id", "organization_id", "created_at", "id"),
        {"sqlite_autoincrement": True},
    )

    # AES-GCM ciphertext of the webhook secret (clarion.storage.secret_box); never the secret.
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The number of the newest version record; the ETag is derived from it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


for _field in FIELDS:
    setattr(AssistantRow, _field.name, mapped_column(_field.column, nullable=not _field.required))


class AssistantVersionRow(OrganizationScoped, Base):
    """An immutable record of one change to an assistant, written in the change's transaction.

    There is no foreign key to ``assistants``: the history outlives the assistant's deletion.
    """

    __tablename__ = "assistant_versions"
    # The unique index serves every lookup (they all name the assistant). No AUTOINCREMENT:
    # record ids are never shown, and it would rewrite sqlite_sequence on every change.
    __table_args__ = (UniqueConstraint("assistant_id", "version"),)

    assistant_id: Mapped[int] = mapped_column(Identifier)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    # The configuration after the change; the webhook secret appears only as a flag.
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    changed_fields: Mapped[list[str]] = mapped_column(JSONDocument)
    # "set", "changed" or "cleared" when the change touched the webhook secret; "dropped" when
    # a restore brought back a deleted assistant whose secret went with its deletion.
    webhook_secret_change: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    api_key_id: Mapped[int | None] = mapped_column(Identifier, default=None)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # The console user who made the change; None when it was made with an API key.
    user_id: Mapped[int | None] = mapped_column(Identifier, default=None)


ASSISTANTS = cast(Table, AssistantRow.__table__)
VERSIONS = cast(Table, AssistantVersionRow.__table__)

Document = dict[str, Any] | orjson.Fragment
"""A JSON column's value: decoded, or (rows read only to be shown) its stored JSON text."""

_FIXED = (
    "id",
    "organization_id",
    "webhook_secret_encrypted",
    "created_at",
    "updated_at",
    "version",
)
_FIELD_NAMES = tuple(field.name for field in FIELDS)
# The fixed columns come first, then the fields in the table's order (they are added to the
# class after it): a row splits into the two by position.
assert tuple(column.name for column in ASSISTANTS.columns) == (*_FIXED, *_FIELD_NAMES)  # noqa: S101
_FIRST_FIELD = len(_FIXED)


@dataclass(slots=True)
class AssistantRecord:
    """An assistant as read or about to be written."""

    id: int
    organization_id: int
    values: dict[str, Any]
    """Every configurable field by name (clarion.assistants.fields), None where unset."""
    webhook_secret_encrypted: bytes | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @classmethod
    def from_row(cls, row: Any) -> AssistantRecord:
        """The record of a row with every column of the table, in the table's order."""
        values = dict(zip(_FIELD_NAMES, row[_FIRST_FIELD:], strict=True))
        return cls(row[0], row[1], values, row[2], row[3], row[4], row[5])

    def columns(self) -> dict[str, Any]:
        """Every column's value, by column name."""
        return {
            "id": self.id,
            "organization_id": self.organization_id,
            **self.values,
            "webhook_secret_encrypted": self.webhook_secret_encrypted,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
        }


@dataclass(slots=True)
class VersionRecord:
    """An AssistantVersionRow read into a plain record. Field order is the table's column order."""

    id: int
    organization_id: int
    assistant_id: int
    version: int
    action: str
    configuration: dict[str, Any]
    changed_fields: list[str]
    webhook_secret_change: str | None
    created_at: dt.datetime
    api_key_id: int | None
    request_id: str | None
    user_id: int | None


assert [f.name for f in fields(VersionRecord)] == [c.name for c in VERSIONS.columns]  # noqa: S101
