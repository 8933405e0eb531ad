"""Reading a new call's request body: one JSON object, checked against CreateCall and by what
the call can store, with messages that never quote what was sent (task parameters may hold
patient details)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from clarion.api.requests import json_object
from clarion.assistants.bodies import check_storable
from clarion.calls.schemas import CreateCall
from clarion.errors import InvalidInput, describe_validation_error

READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "organization_id",
        "call_status",
        "started_at",
        "ended_at",
        "duration_ms",
        "ended_reason",
        "messages",
        "transcript",
        "analysis",
        "summary",
        "web_call_url",
        "created_at",
        "updated_at",
    }
)


def read_call_body(raw: bytes) -> dict[str, Any]:
    """The fields of a new call, checked, as the client sent them."""
    document = json_object(raw, READ_ONLY_FIELDS)
    check_storable(document, raw)
    try:
        CreateCall.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None
    return document
