"""Reading assistant request bodies: parsed once, checked by the request models and by what
every later step can store and show, and otherwise kept exactly as the client sent them."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from clarion.assistants.documents import (
    LARGEST_INTEGER,
    MAX_DEPTH,
    SMALLEST_INTEGER,
    first_path,
    inexact_integer_at,
    nested_too_deeply,
)
from clarion.assistants.fields import MERGED_FIELDS
from clarion.assistants.key_spelling import check_key_spelling
from clarion.assistants.schemas import UpdateAssistant
from clarion.errors import InvalidInput, describe_validation_error

# Fields the server owns. Naming one in a request body is a 400 that says it is read-only.
READ_ONLY_FIELDS = frozenset(
    {"id", "organization_id", "created_at", "updated_at", "is_webhook_secret_set"}
)


def parse_assistant_body(raw: bytes, schema: type[BaseModel]) -> dict[str, Any]:
    """The fields of a request body, checked against ``schema``, as the client sent them."""
    document = _read_document(raw)
    validate_fields(document, schema)
    return document


def parse_merge_patch(raw: bytes) -> dict[str, Any]:
    """A JSON Merge Patch of an assistant, checked by the rules of a plain update.

    Every value but an object for a MERGED_FIELDS field replaces the stored value whole, so
    it is checked here as it is; the merged objects are checked after merging
    (validate_merged, by the service). Their keys are checked for near misses here, as the
    patch gives them: a change is not refused for a key stored before, which it does not
    send, and a key set to null, removed, is let through.
    """
    document = _read_document(raw)
    validate_fields(
        {
            field: value
            for field, value in document.items()
            if field not in MERGED_FIELDS or not isinstance(value, dict)
        }
    )
    check_key_spelling(document, merge=True)
    return document


def validate_fields(fields: dict[str, Any], schema: type[BaseModel] | None = None) -> None:
    """Raise InvalidInput naming the first field whose value breaks ``schema``, or else the
    first key of its ``model`` or ``analysis_plan`` that is a near miss of one clarion reads
    (clarion.assistants.key_spelling)."""
    _check_values(fields, schema or UpdateAssistant)
    check_key_spelling(fields)


def validate_merged(fields: dict[str, Any]) -> None:
    """Raise InvalidInput naming the first field of a merge patch's result that breaks the
    rules of an update; its keys were looked at in the patch (parse_merge_patch)."""
    _check_values(fields, UpdateAssistant)


def _check_values(fields: dict[str, Any], schema: type[BaseModel]) -> None:
    try:
        schema.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def _read_document(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise InvalidInput("request body is empty: send a JSON object")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in exc.msg:  # deeper still than orjson reads at all
            raise InvalidInput(_TOO_DEEP) from None
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"request body must be a JSON object, not {_json_kind(document)}")
    for field in document:
        if field in READ_ONLY_FIELDS:
            raise InvalidInput(f"{field!r} is read-only and cannot be set")
    check_storable(document, raw)
    if "name" in document and document["name"] is None:
        raise InvalidInput("name: cannot be null; every assistant has a name")
    return document


def check_storable(document: dict[str, Any], raw: bytes) -> None:
    """Raise InvalidInput unless every later step (storage, rendering, version records) can
    carry ``document`` unchanged; see clarion.assistants.documents."""
    if nested_too_deeply(document, raw):
        raise InvalidInput(_TOO_DEEP)
    # JSON can carry U+0000 only as the escape \u0000 (orjson refuses a raw NUL byte), so
    # most bodies need no walk through every string to look for it.
    where = first_path(document, _holds_nul) if b"\\u0000" in raw else None
    if where is not None:
        raise InvalidInput(f"{where}: must not contain the NUL character (\\u0000)")
    where = inexact_integer_at(raw)
    if where is not None:
        raise InvalidInput(
            f"{where}: integers must lie between {SMALLEST_INTEGER} and {LARGEST_INTEGER} "
            "to be kept exactly; send a larger one as a string"
        )


_TOO_DEEP = (
    f"request body is nested too deeply: at most {MAX_DEPTH} levels of objects and arrays, "
    "the body itself the first"
)


def _holds_nul(value: object) -> bool:
    """Whether ``value`` is a string holding U+0000, which no database column takes."""
    return isinstance(value, str) and "\x00" in value


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
