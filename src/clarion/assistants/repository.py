"""SQL for assistants. Every query is scoped to the caller's organization."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from clarion.assistants.models import Assistant, AssistantVersion


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


def add_version(session: Session, record: AssistantVersion) -> AssistantVersion:
    session.add(record)
    session.flush()
    return record


def get_version(
    session: Session, organization_id: int, assistant_id: int, version: int
) -> AssistantVersion | None:
    return session.scalars(
        select(AssistantVersion).where(
            AssistantVersion.organization_id == organization_id,
            AssistantVersion.assistant_id == assistant_id,
            AssistantVersion.version == version,
        )
    ).first()


def list_versions(
    session: Session, organization_id: int, assistant_id: int, limit: int
) -> Sequence[AssistantVersion]:
    return session.scalars(
        select(AssistantVersion)
        .where(
            AssistantVersion.organization_id == organization_id,
            AssistantVersion.assistant_id == assistant_id,
        )
        .order_by(AssistantVersion.version.desc())
        .limit(limit)
    ).all()


def latest_version(
    session: Session, organization_id: int, assistant_id: int, *, for_update: bool = False
) -> AssistantVersion | None:
    """The newest record; ``for_update`` serialises restores of a deleted assistant."""
    query = (
        select(AssistantVersion)
        .where(
            AssistantVersion.organization_id == organization_id,
            AssistantVersion.assistant_id == assistant_id,
        )
        .order_by(AssistantVersion.version.desc())
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()
