"""The access log's table. The database refuses to change or delete its rows (migration
0016's triggers)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import cast

from sqlalchemy import Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, Identifier, UTCDateTime


class ActorType(StrEnum):
    """Who read a call: a console user, or a program with an API key."""

    USER = "user"
    API_KEY = "api_key"


class CallReadRow(Base):
    """One read of one call's messages or transcript, by a console user or an API key."""

    __tablename__ = "call_reads"
    __table_args__ = (
        Index("ix_call_reads_organization_id_at_id", "organization_id", "at", "id"),
        Index("ix_call_reads_organization_id_call_id_at", "organization_id", "call_id", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    # No foreign keys: an entry outlives its call, and no cascade may delete one.
    organization_id: Mapped[int] = mapped_column(Identifier)
    call_id: Mapped[int] = mapped_column(Identifier)
    actor_type: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int] = mapped_column(Identifier)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    address: Mapped[str | None] = mapped_column(String(64), default=None)


CALL_READS = cast(Table, CallReadRow.__table__)
