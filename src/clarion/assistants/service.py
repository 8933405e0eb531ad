"""The rules of the assistant resource: what a create, update or delete does.

Functions here run inside one transaction opened by the caller (see clarion.db) and raise
domain errors; they never commit and never speak HTTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from clarion.assistants import repository
from clarion.assistants.models import Assistant
from clarion.assistants.schemas import assistant_json
from clarion.auth.service import Caller
from clarion.db import utcnow
from clarion.encryption import SecretBox
from clarion.errors import NotFound

# Request fields that map one-to-one onto columns.
_PLAIN_FIELDS = frozenset(
    {
        "name",
        "model",
        "voice",
        "first_message",
        "max_duration_seconds",
        "voicemail_message",
        "webhook_url",
        "analysis_plan",
    }
)


def create_assistant(
    session: Session, caller: Caller, fields: dict[str, Any], secrets: SecretBox
) -> dict[str, Any]:
    now = utcnow()
    assistant = Assistant(
        organization_id=caller.organization_id,
        created_at=now,
        updated_at=now,
        **{name: value for name, value in fields.items() if name in _PLAIN_FIELDS},
    )
    secret = fields.get("webhook_secret")
    if secret is not None:
        assistant.webhook_secret_encrypted = secrets.encrypt(secret, caller.organization_id)
    return assistant_json(repository.add(session, assistant))


def get_assistant(session: Session, caller: Caller, assistant_id: int) -> dict[str, Any]:
    return assistant_json(_find(session, caller, assistant_id))


def list_assistants(
    session: Session,
    caller: Caller,
    limit: int,
    created_from: dt.datetime | None,
    created_to: dt.datetime | None,
) -> list[dict[str, Any]]:
    rows = repository.list_recent(session, caller.organization_id, limit, created_from, created_to)
    return [assistant_json(row) for row in rows]


def update_assistant(
    session: Session,
    caller: Caller,
    assistant_id: int,
    changes: dict[str, Any],
    secrets: SecretBox,
) -> dict[str, Any]:
    """Apply the fields present in ``changes``; each replaces the stored value whole.

    The row is read under the write lock, so two clients changing different fields at the
    same moment both keep their change; only columns whose value differs are written.
    """
    assistant = _find(session, caller, assistant_id, for_update=True)
    changed = False
    for name, value in changes.items():
        if name in _PLAIN_FIELDS and getattr(assistant, name) != value:
            setattr(assistant, name, value)
            changed = True
    if "webhook_secret" in changes:
        secret = changes["webhook_secret"]
        if secret is None:
            changed |= assistant.webhook_secret_encrypted is not None
            assistant.webhook_secret_encrypted = None
        else:
            assistant.webhook_secret_encrypted = secrets.encrypt(secret, caller.organization_id)
            changed = True
    if changed:
        assistant.updated_at = max(utcnow(), assistant.updated_at)
        session.flush()
    return assistant_json(assistant)


def delete_assistant(session: Session, caller: Caller, assistant_id: int) -> dict[str, Any]:
    assistant = _find(session, caller, assistant_id, for_update=True)
    body = assistant_json(assistant)
    repository.delete(session, assistant)
    return body


def _find(
    session: Session, caller: Caller, assistant_id: int, *, for_update: bool = False
) -> Assistant:
    assistant = repository.get(session, caller.organization_id, assistant_id, for_update=for_update)
    if assistant is None:
        raise NotFound(f"assistant {assistant_id} not found")
    return assistant
