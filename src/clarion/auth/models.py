"""Tables for organizations and API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, Identifier, OrganizationScoped, UTCDateTime


class OrganizationRow(Base):
    """A tenant: every other row belongs to exactly one."""

    __tablename__ = "organizations"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiKeyRow(OrganizationScoped, Base):
    """An API key. Only the SHA-256 digest of the key is kept; the key itself is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index("ix_api_keys_organization_id", "organization_id"),
        {"sqlite_autoincrement": True},
    )

    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, enough to tell keys apart in a listing.
    display_prefix: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # The console user who created the key, so that disabling them revokes it; none for a key
    # made by the command line or with another API key.
    created_by_user_id: Mapped[int | None] = mapped_column(Identifier, default=None)
