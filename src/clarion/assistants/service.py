"""The rules of the assistant resource: what a create, update, delete or restore does.

Functions here run inside a unit of work they are given (clarion.database.units) and raise
domain errors; they never commit and never speak HTTP. Every change writes its version
record in that same transaction, so the history can never disagree with the assistant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson

from clarion.api.merge_patch import apply_merge_patch
from clarion.assistants import repository
from clarion.assistants.bodies import validate_merged
from clarion.assistants.fields import CONFIGURABLE_FIELDS, configuration
from clarion.assistants.models import AssistantRecord, VersionRecord
from clarion.auth.service import Caller
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.database.windows import Window
from clarion.errors import NotFound, PayloadTooLarge, PreconditionFailed, found
from clarion.storage.secret_box import SecretBox

ANY_VERSION: Collection[int] = range(1, 2**63)
"""What ``If-Match: *`` expects: whichever version is current."""


def create_assistant(
    unit: Unit,
    caller: Caller,
    fields: dict[str, Any],
    secrets: SecretBox,
    *,
    max_document_bytes: int,
) -> AssistantRecord:
    """A new assistant in the caller's organization, with its first version record.

    ``max_document_bytes`` bounds the assistant's configuration, as every change does (see
    check_document_size).
    """
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
    check_document_size(assistant.values, max_document_bytes)
    repository.add(unit.statements, assistant)
    changed = [name for name, value in assistant.values.items() if value is not None]
    _record(unit, caller, assistant, Change("created", changed, "set" if secret else None), now)
    return assistant


def get_assistant(unit: Unit, caller: Caller, assistant_id: int) -> AssistantRecord:
    """The assistant, read to be shown (see repository.get)."""
    return found(
        repository.get(unit.statements, caller.organization_id, assistant_id, to_show=True),
        f"assistant {assistant_id} not found",
    )


def list_current_versions(unit: Unit, caller: Caller, window: Window) -> list[tuple[int, int]]:
    """The (id, version) of each assistant the list shows, newest first."""
    return repository.list_current_versions(unit.statements, caller.organization_id, window)


def list_assistants(
    unit: Unit, caller: Caller, window: Window
) -> list[tuple[tuple[int, int], dict[str, Any]]]:
    """The caller's assistants as the API shows them, newest first, each with its
    (id, version)."""
    return repository.list_shown(unit.statements, caller.organization_id, window)


def update_assistant(
    unit: Unit,
    caller: Caller,
    assistant_id: int,
    changes: dict[str, Any],
    secrets: SecretBox,
    *,
    max_document_bytes: int,
    merge: bool = False,
    expected: Collection[int] | None = None,
) -> AssistantRecord:
    """Apply ``changes``: each field replaces the stored value whole, or, with ``merge``, is
    applied as an RFC 7396 merge patch to it.

    The row is read under the write lock, so two clients changing different fields at the
    same moment both keep their change; only columns whose value differs are written. The
    changed assistant must stay within ``max_document_bytes`` (check_document_size).
    """
    assistant = _find(unit, caller, assistant_id, for_update=True)
    _check_precondition(assistant, expected)
    values = {name: value for name, value in changes.items() if name in CONFIGURABLE_FIELDS}
    if merge:
        values = {
            name: apply_merge_patch(assistant.values[name], value) for name, value in values.items()
        }
        validate_merged(values)
    changed = _assign(assistant, values)
    if changed:
        check_document_size(assistant.values, max_document_bytes)
    secret_change = None
    if "webhook_secret" in changes:
        secret_change = _assign_secret(assistant, changes["webhook_secret"], secrets)
    return _commit_change(unit, caller, assistant, Change("updated", changed, secret_change))


def delete_assistant(
    unit: Unit,
    caller: Caller,
    assistant_id: int,
    *,
    expected: Collection[int] | None = None,
) -> AssistantRecord:
    """Delete the assistant, recording the deletion as its last version."""
    assistant = _find(unit, caller, assistant_id, for_update=True)
    _check_precondition(assistant, expected)
    # The secret goes with the assistant; the record says so, and a restore says it is gone.
    secret = "cleared" if assistant.webhook_secret_encrypted is not None else None
    _record(unit, caller, assistant, Change("deleted", [], secret), utcnow(), assistant.version + 1)
    repository.delete_one(unit.statements, assistant)
    return assistant


def list_versions(unit: Unit, caller: Caller, assistant_id: int, limit: int) -> list[VersionRecord]:
    """Newest first. The history of a deleted assistant stays readable."""
    records = repository.list_versions(unit.statements, caller.organization_id, assistant_id, limit)
    if not records:
        raise NotFound(f"assistant {assistant_id} not found")
    return list(records)


def get_version(unit: Unit, caller: Caller, assistant_id: int, version: int) -> VersionRecord:
    """One version record of the caller's assistant."""
    return found(
        repository.get_version(unit.statements, caller.organization_id, assistant_id, version),
        f"version {version} of assistant {assistant_id} not found",
    )


def restore_version(
    unit: Unit,
    caller: Caller,
    assistant_id: int,
    version: int,
    *,
    max_document_bytes: int,
    expected: Collection[int] | None = None,
) -> AssistantRecord:
    """Make a recorded configuration current again, as a new version.

    The webhook secret is never recorded, so it stays as it is. Restoring a version of a
    deleted assistant brings the assistant back, under its old id and without a secret. The
    configuration must be within ``max_document_bytes`` (check_document_size) now, whatever
    the limit was when it was recorded.
    """
    record = get_version(unit, caller, assistant_id, version)
    assistant = repository.get(
        unit.statements, caller.organization_id, assistant_id, for_update=True
    )
    if assistant is None:
        return _undelete(unit, caller, assistant_id, record, expected, max_document_bytes)
    _check_precondition(assistant, expected)
    changed = _assign(assistant, _recorded_values(record))
    if changed:
        check_document_size(assistant.values, max_document_bytes)
    return _commit_change(unit, caller, assistant, Change("restored", changed))


def _undelete(
    unit: Unit,
    caller: Caller,
    assistant_id: int,
    record: VersionRecord,
    expected: Collection[int] | None,
    max_document_bytes: int,
) -> AssistantRecord:
    if expected is not None:
        raise PreconditionFailed("If-Match was given, but the assistant no longer exists")
    latest = repository.latest_version_for_update(
        unit.statements, caller.organization_id, assistant_id
    )
    first = repository.get_version(unit.statements, caller.organization_id, assistant_id, 1)
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
    check_document_size(assistant.values, max_document_bytes)
    repository.add(unit.statements, assistant, keep_id=True)
    changed = [name for name, value in assistant.values.items() if value is not None]
    # The secret is never recorded: one the deletion took cannot come back.
    dropped = "dropped" if latest.webhook_secret_change == "cleared" else None  # noqa: S105
    _record(unit, caller, assistant, Change("restored", changed, dropped), now)
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
        values={name: fields.get(name) for name in CONFIGURABLE_FIELDS},
        webhook_secret_encrypted=secret_encrypted,
        created_at=created_at,
        updated_at=created_at,
        version=version,
    )


def check_document_size(values: dict[str, Any], max_document_bytes: int) -> None:
    """Raise PayloadTooLarge, naming the largest field, when the configuration ``values``
    are more than ``max_document_bytes`` bytes of JSON (fields without a value left out).

    The request body limit bounds one request; this bounds what requests add up to, so
    that no series of updates (merge patches adding a key at a time, or plain ones setting
    one field each) grows an assistant past what a single request could send. Called only
    before something is written, so a refused change leaves the assistant as it was.
    """
    # One serialization for almost every write: with its nulls the configuration can only be
    # larger than as it is shown and recorded. Only near the limit is it measured again
    # without them, and the size of each field worked out for a refusal.
    if len(orjson.dumps(values)) <= max_document_bytes:
        return
    present = {name: value for name, value in values.items() if value is not None}
    size = len(orjson.dumps(present))
    if size <= max_document_bytes:
        return
    largest = max(present, key=lambda name: len(orjson.dumps(present[name])))
    raise PayloadTooLarge(
        f"{largest}: after this change the assistant would be {size:,} bytes of JSON, "
        f"over the limit of {max_document_bytes:,} (CLARION_MAX_BODY_BYTES)"
    )


def _recorded_values(record: VersionRecord) -> dict[str, Any]:
    return {name: record.configuration.get(name) for name in CONFIGURABLE_FIELDS}


def _assign(assistant: AssistantRecord, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; the names of the fields that changed, in field order."""
    changed = []
    for name in CONFIGURABLE_FIELDS:
        if name in values and assistant.values[name] != values[name]:
            assistant.values[name] = values[name]
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


@dataclass(frozen=True, slots=True)
class Change:
    """What a change did: its action, the fields it altered, and how it touched the secret."""

    action: str
    changed: list[str]
    secret_change: str | None = None


def _commit_change(
    unit: Unit, caller: Caller, assistant: AssistantRecord, change: Change
) -> AssistantRecord:
    """Bump the version and write its record, when anything changed at all."""
    if not change.changed and change.secret_change is None:
        return assistant
    now = max(utcnow(), assistant.updated_at)
    assistant.updated_at = now
    assistant.version += 1
    columns = [*change.changed, "updated_at", "version"]
    if change.secret_change is not None:
        columns.append("webhook_secret_encrypted")
    repository.save(unit.statements, assistant, columns)
    _record(unit, caller, assistant, change, now)
    return assistant


def _record(
    unit: Unit,
    caller: Caller,
    assistant: AssistantRecord,
    change: Change,
    now: dt.datetime,
    version: int | None = None,
) -> None:
    changed = change.changed
    if change.secret_change is not None:
        changed = [*changed, "webhook_secret"]
    repository.add_version(
        unit.statements,
        VersionRecord(
            id=0,
            organization_id=assistant.organization_id,
            assistant_id=assistant.id,
            version=version or assistant.version,
            action=change.action,
            configuration=configuration(
                assistant.values, assistant.webhook_secret_encrypted is not None
            ),
            changed_fields=changed,
            webhook_secret_change=change.secret_change,
            created_at=now,
            api_key_id=caller.api_key_id,
            request_id=caller.request_id,
            user_id=caller.user_id,
        ),
    )


class StaleVersion(PreconditionFailed):
    """If-Match named versions of which none is the assistant's current one."""

    def __init__(self, current: int) -> None:
        super().__init__(f"If-Match does not name the assistant's current version {current}")
        self.current = current


def _check_precondition(assistant: AssistantRecord, expected: Collection[int] | None) -> None:
    if expected is not None and assistant.version not in expected:
        raise StaleVersion(assistant.version)


def _find(
    unit: Unit, caller: Caller, assistant_id: int, *, for_update: bool = False
) -> AssistantRecord:
    return found(
        repository.get(
            unit.statements, caller.organization_id, assistant_id, for_update=for_update
        ),
        f"assistant {assistant_id} not found",
    )
