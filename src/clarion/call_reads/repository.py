"""SQL for the access log: entries are only ever added and read, and always within one
organization."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clarion.call_reads.models import CALL_READS, CallReadRow


def add(session: Session, entries: list[dict[str, Any]]) -> None:
    """Add entries, all in one statement."""
    if entries:
        session.execute(insert(CALL_READS), entries)


def entries(
    session: Session,
    organization_id: int,
    limit: int | None,
    filters: dict[str, Any],
    *,
    oldest_first: bool = False,
) -> Iterator[CallReadRow]:
    """An organization's entries, newest first (ties: highest id first) unless
    ``oldest_first``, filtered by ``call_id``, ``actor_type``, ``actor_id`` and the bounds
    ``at_ge`` and ``at_le``."""
    statement = select(CallReadRow).where(CallReadRow.organization_id == organization_id)
    for name in ("call_id", "actor_type", "actor_id"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(CallReadRow, name) == filters[name])
    at_ge: dt.datetime | None = filters.get("at_ge")
    at_le: dt.datetime | None = filters.get("at_le")
    if at_ge is not None:
        statement = statement.where(CallReadRow.at >= at_ge)
    if at_le is not None:
        statement = statement.where(CallReadRow.at <= at_le)
    if oldest_first:
        statement = statement.order_by(CallReadRow.at, CallReadRow.id)
    else:
        statement = statement.order_by(CallReadRow.at.desc(), CallReadRow.id.desc())
    if limit is not None:
        statement = statement.limit(limit)
    return iter(session.scalars(statement.execution_options(yield_per=1000)))
