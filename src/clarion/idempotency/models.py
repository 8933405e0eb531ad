"""The table of remembered responses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, OrganizationScoped, UTCDateTime


class IdempotentRequestRow(OrganizationScoped, Base):
    """The first response to a request made with an idempotency key, kept for replay."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (
        UniqueConstraint("organization_id", "operation", "key"),
        {"sqlite_autoincrement": True},
    )

    operation: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the request body: the same key with another body is a client error.
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    response_etag: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
