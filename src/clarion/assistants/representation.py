"""How assistants and their versions are shown over HTTP: their JSON, and their ETags."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from clarion.assistants.fields import configuration
from clarion.assistants.models import AssistantRecord, VersionRecord
from clarion.assistants.service import ANY_VERSION, StaleVersion
from clarion.errors import PreconditionFailed


def assistant_json(record: AssistantRecord) -> dict[str, Any]:
    """The Assistant representation: optional fields without a value are left out."""
    shown = {
        "id": record.id,
        "organization_id": record.organization_id,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
    return configuration(record.values, record.webhook_secret_encrypted is not None, shown)


def etag(record: AssistantRecord) -> str:
    """A strong ETag that changes with every version of the assistant."""
    return _etag_of(record.version)


def _etag_of(version: int) -> str:
    return f'"v{version}"'


def stale_as_etag(stale: StaleVersion) -> PreconditionFailed:
    """A stale If-Match said in the client's terms: the ETag the assistant has now."""
    return PreconditionFailed(
        f"If-Match does not match the assistant's current ETag {_etag_of(stale.current)}: "
        "it was changed since you read it; fetch it again"
    )


def expected_versions(tags: Collection[str] | None) -> Collection[int] | None:
    """The versions an If-Match header's entity tags name (ANY_VERSION for ``*``), or None
    without the header. A tag this server never gave matches no version."""
    if tags is None:
        return None
    if "*" in tags:
        return ANY_VERSION
    return frozenset(
        int(tag[2:-1])
        for tag in tags
        if tag.startswith('"v') and tag.endswith('"') and tag[2:-1].isdigit()
    )


def version_json(record: VersionRecord) -> dict[str, Any]:
    """The AssistantVersion representation."""
    body: dict[str, Any] = {
        "assistant_id": record.assistant_id,
        "organization_id": record.organization_id,
        "version": record.version,
        "action": record.action,
        "changed_fields": record.changed_fields,
    }
    if record.webhook_secret_change is not None:
        body["webhook_secret"] = record.webhook_secret_change
    body["configuration"] = record.configuration
    body["created_at"] = record.created_at
    body["api_key_id"] = record.api_key_id
    body["request_id"] = record.request_id
    body["user_id"] = record.user_id
    return body
