"""SQL for the access log: entries are only ever added and read, and always within one
organization."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clarion.call_reads.models import CALL_READS, ActorType, CallReadRow


def add(session: Session, entries: list[dict[str, Any]]) -> None:
    """Add entries, all in one statement."""
    if entries:
        session.execute(insert(CALL_READS), entries)


@dataclass(frozen=True, slots=True)
class Wanted:
    """Which entries: of one call, by one kind of reader or one reader, between two times."""

    call_id: int | None = None
    actor_type: ActorType | None = None
    actor_id: int | None = None
    at_ge: dt.datetime | None = None
    at_le: dt.datetime | None = None


def entries(
    session: Session,
    organization_id: int,
    limit: int | None,
    wanted: Wanted,
    *,
    oldest_first: bool = False,
) -> Iterator[CallReadRow]:
    """An organization's entries that are ``wanted``, newest first (ties: highest id first)
    unless ``oldest_first``."""
    statement = select(CallReadRow).where(CallReadRow.organization_id == organization_id)
    if wanted.call_id is not None:
        statement = statement.where(CallReadRow.call_id == wanted.call_id)
    if wanted.actor_type is not None:
        statement = statement.where(CallReadRow.actor_type == wanted.actor_type)
    if wanted.actor_id is not None:
        statement = statement.where(CallReadRow.actor_id == wanted.actor_id)
    if wanted.at_ge is not None:
        statement = statement.where(CallReadRow.at >= wanted.at_ge)
    if wanted.at_le is not None:
        statement = statement.where(CallReadRow.at <= wanted.at_le)
    if oldest_first:
        statement = statement.order_by(CallReadRow.at, CallReadRow.id)
    else:
        statement = statement.order_by(CallReadRow.at.desc(), CallReadRow.id.desc())
    if limit is not None:
        statement = statement.limit(limit)
    return iter(session.scalars(statement.execution_options(yield_per=1000)))
