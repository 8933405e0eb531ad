"""The rules of the assistant resource: what a create, update, delete or restore does.

Functions here run inside one transaction opened by the caller (see clarion.db) and raise
domain errors; they never commit and never speak HTTP. Every change writes its version
record in that same transaction, so the history can never disagree with the assistant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from clarion.assistants import repository
from clarion.assistants.rendered import RenderedAssistants, json_array
from clarion.assistants.repository import AssistantRecord, VersionRecord
from clarion.assistants.schemas import (
    CONFIGURABLE_FIELDS,
    configuration_of,
    etag,
    validate_fields,
)
from clarion.auth.service import Caller
from clarion.db import utcnow
from clarion.encryption import SecretBox
from clarion.errors import NotFound, PreconditionFailed
from clarion.merge_patch import apply_merge_patch
from clarion.statements import Transaction


def create_assistant(
    transaction: Transaction, caller: Caller, fields: dict[str, Any], secrets: SecretBox
) -> AssistantRecord:
    now = utcnow()
    secret = fields.get("webhook_secret")
    assistant = _new_assistant(
        0,
        caller.organization_id,
        fields,
        secrets.encrypt(secret, caller.organization_id) if secret is not None else None,
        created_at=now,
        version=1,
    )
    repository.add(transaction, assistant)
    changed = [name for name in CONFIGURABLE_FIELDS if getattr(assistant, name) is not None]
    _record(transaction, caller, assistant, "created", changed, "set" if secret else None, now)
    return assistant


def get_assistant(transaction: Transaction, caller: Caller, assistant_id: int) -> AssistantRecord:
    """The assistant, read to be shown (see repository.get)."""
    assistant = repository.get(transaction, caller.organization_id, assistant_id, to_show=True)
    if assistant is None:
        raise NotFound(f"assistant {assistant_id} not found")
    return assistant


def list_assistants(
    transaction: Transaction,
    caller: Caller,
    limit: int,
    created_from: dt.datetime | None,
    created_to: dt.datetime | None,
    rendered: RenderedAssistants,
) -> bytes:
    """The caller's assistants as the API shows them, newest first: a JSON array.

    Either answer comes from one statement, so from one consistent view of the database: the
    (id, version) pairs when every one of them is already rendered, else the whole rows.
    """
    organization_id = caller.organization_id
    keys = repository.list_keys(transaction, organization_id, limit, created_from, created_to)
    bodies = rendered.all_of(keys)
    if bodies is None:
        shown = repository.list_shown(transaction, organization_id, limit, created_from, created_to)
        bodies = [rendered.render(key, representation) for key, representation in shown]
    return json_array(bodies)


def update_assistant(
    transaction: Transaction,
    caller: Caller,
    assistant_id: int,
    changes: dict[str, Any],
    secrets: SecretBox,
    *,
    merge: bool = False,
    if_match: Collection[str] | None = None,
) -> AssistantRecord:
    """Apply ``changes``: each field replaces the stored value whole, or, with ``merge``, is
    applied as an RFC 7396 merge patch to it.

    The row is read under the write lock, so two clients changing different fields at the
    same moment both keep their change; only columns whose value differs are written.
    """
    assistant = _find(transaction, caller, assistant_id, for_update=True)
    _check_precondition(assistant, if_match)
    values = {name: value for name, value in changes.items() if name in CONFIGURABLE_FIELDS}
    if merge:
        values = {
            name: apply_merge_patch(getattr(assistant, name), value)
            for name, value in values.items()
        }
        validate_fields(values)
    changed = _assign(assistant, values)
    secret_change = None
    if "webhook_secret" in changes:
        secret_change = _assign_secret(assistant, changes["webhook_secret"], secrets)
    return _commit_change(transaction, caller, assistant, "updated", changed, secret_change)


def delete_assistant(
    transaction: Transaction,
    caller: Caller,
    assistant_id: int,
    *,
    if_match: Collection[str] | None = None,
) -> AssistantRecord:
    assistant = _find(transaction, caller, assistant_id, for_update=True)
    _check_precondition(assistant, if_match)
    _record(transaction, caller, assistant, "deleted", [], None, utcnow(), assistant.version + 1)
    repository.delete_one(transaction, assistant)
    return assistant


def list_versions(
    transaction: Transaction, caller: Caller, assistant_id: int, limit: int
) -> list[VersionRecord]:
    """Newest first. The history of a deleted assistant stays readable."""
    records = repository.list_versions(transaction, caller.organization_id, assistant_id, limit)
    if not records:
        raise NotFound(f"assistant {assistant_id} not found")
    return list(records)


def get_version(
    transaction: Transaction, caller: Caller, assistant_id: int, version: int
) -> VersionRecord:
    record = repository.get_version(transaction, caller.organization_id, assistant_id, version)
    if record is None:
        raise NotFound(f"version {version} of assistant {assistant_id} not found")
    return record


def restore_version(
    transaction: Transaction,
    caller: Caller,
    assistant_id: int,
    version: int,
    *,
    if_match: Collection[str] | None = None,
) -> AssistantRecord:
    """Make a recorded configuration current again, as a new version.

    The webhook secret is never recorded, so it stays as it is. Restoring a version of a
    deleted assistant brings the assistant back, under its old id and without a secret.
    """
    record = get_version(transaction, caller, assistant_id, version)
    assistant = repository.get(transaction, caller.organization_id, assistant_id, for_update=True)
    if assistant is None:
        return _undelete(transaction, caller, assistant_id, record, if_match)
    _check_precondition(assistant, if_match)
    changed = _assign(assistant, _recorded_values(record))
    return _commit_change(transaction, caller, assistant, "restored", changed, None)


def _undelete(
    transaction: Transaction,
    caller: Caller,
    assistant_id: int,
    record: VersionRecord,
    if_match: Collection[str] | None,
) -> AssistantRecord:
    if if_match is not None:
        raise PreconditionFailed("If-Match was given, but the assistant no longer exists")
    latest = repository.latest_version_for_update(transaction, caller.organization_id, assistant_id)
    first = repository.get_version(transaction, caller.organization_id, assistant_id, 1)
    assert latest is not None and first is not None  # noqa: S101 - record exists, so these do
    now = utcnow()
    assistant = _new_assistant(
        assistant_id,
        caller.organization_id,
        _recorded_values(record),
        None,
        created_at=first.created_at,
        version=latest.version + 1,
    )
    assistant.updated_at = now
    repository.add(transaction, assistant, keep_id=True)
    changed = [name for name in CONFIGURABLE_FIELDS if getattr(assistant, name) is not None]
    _record(transaction, caller, assistant, "restored", changed, None, now)
    return assistant


def _new_assistant(
    assistant_id: int,
    organization_id: int,
    fields: dict[str, Any],
    secret_encrypted: bytes | None,
    *,
    created_at: dt.datetime,
    version: int,
) -> AssistantRecord:
    return AssistantRecord(
        id=assistant_id,
        organization_id=organization_id,
        name=fields["name"],
        model=fields.get("model"),
        voice=fields.get("voice"),
        first_message=fields.get("first_message"),
        max_duration_seconds=fields.get("max_duration_seconds"),
        voicemail_message=fields.get("voicemail_message"),
        webhook_url=fields.get("webhook_url"),
        webhook_secret_encrypted=secret_encrypted,
        analysis_plan=fields.get("analysis_plan"),
        created_at=created_at,
        updated_at=created_at,
        version=version,
    )


def _recorded_values(record: VersionRecord) -> dict[str, Any]:
    return {name: record.configuration.get(name) for name in CONFIGURABLE_FIELDS}


def _assign(assistant: AssistantRecord, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; the names of the fields that changed, in field order."""
    changed = []
    for name in CONFIGURABLE_FIELDS:
        if name in values and getattr(assistant, name) != values[name]:
            setattr(assistant, name, values[name])
            changed.append(name)
    return changed


def _assign_secret(
    assistant: AssistantRecord, secret: str | None, secrets: SecretBox
) -> str | None:
    was_set = assistant.webhook_secret_encrypted is not None
    if secret is None:
        assistant.webhook_secret_encrypted = None
        return "cleared" if was_set else None
    assistant.webhook_secret_encrypted = secrets.encrypt(secret, assistant.organization_id)
    return "changed" if was_set else "set"


def _commit_change(
    transaction: Transaction,
    caller: Caller,
    assistant: AssistantRecord,
    action: str,
    changed: list[str],
    secret_change: str | None,
) -> AssistantRecord:
    """Bump the version and write its record, when anything changed at all."""
    if not changed and secret_change is None:
        return assistant
    now = max(utcnow(), assistant.updated_at)
    assistant.updated_at = now
    assistant.version += 1
    columns = [*changed, "updated_at", "version"]
    if secret_change is not None:
        columns.append("webhook_secret_encrypted")
    repository.save(transaction, assistant, columns)
    _record(transaction, caller, assistant, action, changed, secret_change, now)
    return assistant


def _record(
    transaction: Transaction,
    caller: Caller,
    assistant: AssistantRecord,
    action: str,
    changed: list[str],
    secret_change: str | None,
    now: dt.datetime,
    version: int | None = None,
) -> None:
    if secret_change is not None:
        changed = [*changed, "webhook_secret"]
    repository.add_version(
        transaction,
        VersionRecord(
            id=0,
            organization_id=assistant.organization_id,
            assistant_id=assistant.id,
            version=version or assistant.version,
            action=action,
            configuration=configuration_of(assistant),
            changed_fields=changed,
            webhook_secret_change=secret_change,
            created_at=now,
            api_key_id=caller.api_key_id,
            request_id=caller.request_id,
        ),
    )


def _check_precondition(assistant: AssistantRecord, if_match: Collection[str] | None) -> None:
    if if_match is None or "*" in if_match or etag(assistant) in if_match:
        return
    raise PreconditionFailed(
        f"If-Match does not match the assistant's current ETag {etag(assistant)}: "
        "it was changed since you read it; fetch it again"
    )


def _find(
    transaction: Transaction, caller: Caller, assistant_id: int, *, for_update: bool = False
) -> AssistantRecord:
    assistant = repository.get(
        transaction, caller.organization_id, assistant_id, for_update=for_update
    )
    if assistant is None:
        raise NotFound(f"assistant {assistant_id} not found")
    return assistant
