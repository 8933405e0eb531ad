"""The provider credentials table, and the plain record its rows are read into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import cast

from sqlalchemy import Index, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, OrganizationScoped, UTCDateTime

PROVIDER_MAX = 16
NAME_MAX = 200
HINT_LENGTH = 4


class ProviderCredentialRow(OrganizationScoped, Base):
    """One API key for one language-model or speech provider, kept for one organization."""

    __tablename__ = "provider_credentials"
    __table_args__ = (
        # Serves the list (newest first) and the lookup of a provider's newest credential.
        Index(
            "ix_provider_credentials_organization_id_created_at_id",
            "organization_id",
            "created_at",
            "id",
        ),
        # An id is never handed out twice: a conversation naming a deleted credential's id
        # must not reach another one.
        {"sqlite_autoincrement": True},
    )

    provider: Mapped[str] = mapped_column(String(PROVIDER_MAX))
    name: Mapped[str | None] = mapped_column(String(NAME_MAX), default=None)
    base_url: Mapped[str | None] = mapped_column(Text, default=None)
    # AES-GCM ciphertext of the key (clarion.storage.secret_box); never the key.
    api_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # The key's last characters, or None (see clarion.api.secret_resources.key_hint).
    api_key_hint: Mapped[str | None] = mapped_column(String(HINT_LENGTH), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


CREDENTIALS = cast(Table, ProviderCredentialRow.__table__)


@dataclass(slots=True)
class CredentialRecord:
    """A ProviderCredentialRow read into a plain record. Field order is the table's column order."""

    id: int
    organization_id: int
    provider: str
    name: str | None
    base_url: str | None
    # The ciphertext is nothing without the server key, but has no place in a log either.
    api_key_encrypted: bytes = field(repr=False)
    api_key_hint: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


assert [f.name for f in fields(CredentialRecord)] == [c.name for c in CREDENTIALS.columns]  # noqa: S101
