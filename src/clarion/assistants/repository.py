"""SQL for assistants. Every query is scoped to the caller's organization."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from clarion.assistants.models import Assistant


def add(session: Session, assistant: Assistant) -> Assistant:
    session.add(assistant)
    session.flush()
    return assistant


def get(
    session: Session, organization_id: int, assistant_id: int, *, for_update: bool = False
) -> Assistant | None:
    """The organization's assistant, or None: another organization's is as good as missing.

    ``for_update`` locks the row until the transaction ends (PostgreSQL); on SQLite the write
    transaction already holds the database's write lock.
    """
    query = select(Assistant).where(
        Assistant.id == assistant_id, Assistant.organization_id == organization_id
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_recent(
    session: Session,
    organization_id: int,
    limit: int,
    created_from: dt.datetime | None,
    created_to: dt.datetime | None,
) -> Sequence[Assistant]:
    """Newest first; assistants created in the same instant come highest id first."""
    query = select(Assistant).where(Assistant.organization_id == organization_id)
    if created_from is not None:
        query = query.where(Assistant.created_at >= created_from)
    if created_to is not None:
        query = query.where(Assistant.created_at <= created_to)
    query = query.order_by(Assistant.created_at.desc(), Assistant.id.desc()).limit(limit)
    return session.scalars(query).all()


def delete(session: Session, assistant: Assistant) -> None:
    session.delete(assistant)
    session.flush()
