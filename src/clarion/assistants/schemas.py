"""What the API accepts and returns for assistants.

Request bodies are checked by the Pydantic models below and then stored as the client sent
them: nested objects (``model``, ``voice``, ``analysis_plan``) keep unknown keys and their
original values, so a provider option we do not know yet survives a round trip.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Any, Literal, NotRequired, TypeVar
from urllib.parse import urlsplit

import orjson
from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, with_config
from typing_extensions import TypedDict
from yarl import URL

from clarion.assistants.documents import (
    LARGEST_INTEGER,
    MAX_DEPTH,
    SMALLEST_INTEGER,
    first_path,
    inexact_integer_at,
    nested_too_deeply,
)
from clarion.assistants.repository import AssistantRecord as AssistantRow
from clarion.assistants.repository import VersionRecord as AssistantVersionRow
from clarion.errors import InvalidInput, describe_validation_error

NAME_MAX = 200
MESSAGE_MAX = 10_000
PROMPT_MAX = 100_000
IDENTIFIER_MAX = 200
WEBHOOK_URL_MAX = 2048
WEBHOOK_SECRET_MAX = 1024

Rubric = Literal[
    "NumericScale",
    "DescriptiveScale",
    "Checklist",
    "Matrix",
    "PercentageScale",
    "LikertScale",
    "AutomaticRubric",
    "PassFail",
]

# Fields the server owns. Naming one in a request body is a 400 that says it is read-only.
READ_ONLY_FIELDS = frozenset(
    {"id", "organization_id", "created_at", "updated_at", "is_webhook_secret_set"}
)


def _check_webhook_url(value: str) -> str:
    """The URL, if the sender can POST to it: read by yarl, the parser aiohttp sends with, so
    a URL accepted here is never one the sender cannot read."""
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        url = URL(value)
    except ValueError as exc:  # a bad port, a backslash in the host, a bad IDNA label, ...
        raise ValueError(f"is not a URL the server can send to: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http or https URL")
    # yarl forgets an empty user part ("https://@host/"); the text still shows one.
    if url.user is not None or url.password is not None or "@" in urlsplit(value).netloc:
        raise ValueError(
            "must not contain a user name or password: it would be shown wherever the URL is"
        )
    return value


def _check_header_value(value: str) -> str:
    """The secret, if it can travel as an HTTP header value (X-Clarion-Secret)."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters: it is sent as a header value")
    return value


def _check_json_schema(value: dict[str, Any]) -> dict[str, Any]:
    try:
        validator_for(value).check_schema(value)
    except SchemaError as exc:
        raise ValueError(f"is not a valid JSON Schema: {exc.message}") from None
    return value


WebhookUrl = Annotated[
    str,
    Field(max_length=WEBHOOK_URL_MAX, description="Absolute http or https URL"),
    AfterValidator(_check_webhook_url),
]
WebhookSecret = Annotated[
    str,
    Field(min_length=1, max_length=WEBHOOK_SECRET_MAX),
    AfterValidator(_check_header_value),
]
JsonSchema = Annotated[
    dict[str, Any],
    Field(description="A JSON Schema (any draft jsonschema knows) for the extracted data"),
    AfterValidator(_check_json_schema),
]

_OPEN = ConfigDict(extra="allow", strict=True)

# The nested objects are TypedDicts: a well-known key may be left out but, when present, has
# its documented type (no null); keys not listed are allowed and kept.


@with_config(_OPEN)
class ModelMessage(TypedDict):
    """One message of the model's prompt."""

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, Field(max_length=PROMPT_MAX)]


@with_config(_OPEN)
class ModelConfig(TypedDict, total=False):
    """The language-model configuration. Keys not listed here are kept as given."""

    provider: Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX, examples=["openai"])]
    model: Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX, examples=["gpt-4o"])]
    temperature: Annotated[float, Field(ge=0, le=2)]
    max_tokens: Annotated[int, Field(gt=0)]
    messages: Annotated[list[ModelMessage], Field(max_length=1000)]


@with_config(_OPEN)
class VoiceConfig(TypedDict, total=False):
    """The voice configuration. Keys not listed here are kept as given."""

    provider: Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX, examples=["11labs"])]
    voiceId: Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX)]


Prompt = Annotated[str, Field(max_length=PROMPT_MAX)]


@with_config(_OPEN)
class AnalysisPlan(TypedDict, total=False):
    """How a finished call is analysed. Keys not listed here are kept as given."""

    summaryPrompt: Prompt
    structuredDataPrompt: Prompt
    structuredDataSchema: JsonSchema
    successEvaluationPrompt: Prompt
    successEvaluationRubric: Rubric


def _not_nullable(schema: dict[str, Any]) -> None:
    variants = schema.pop("anyOf")
    schema.update(next(v for v in variants if v.get("type") != "null"))
    schema.pop("default", None)


class _AssistantFields(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    model: ModelConfig | None = Field(None, description="The language model configuration")
    voice: VoiceConfig | None = Field(None, description="The voice configuration")
    first_message: str | None = Field(
        None, max_length=MESSAGE_MAX, description="The initial message the assistant will use"
    )
    max_duration_seconds: int | None = Field(
        None, ge=10, le=43_200, description="The maximum call length, in seconds"
    )
    voicemail_message: str | None = Field(
        None, max_length=MESSAGE_MAX, description="The message left on voicemail"
    )
    webhook_url: WebhookUrl | None = Field(
        None, description="The URL the end-of-call report is sent to"
    )
    webhook_secret: WebhookSecret | None = Field(
        None,
        description="Sent with each webhook as X-Clarion-Secret. Write-only: never returned.",
        json_schema_extra={"writeOnly": True},
    )
    analysis_plan: AnalysisPlan | None = Field(None, description="The post-call analysis plan")


class CreateAssistant(_AssistantFields):
    """A new assistant. Only ``name`` is required."""

    name: str = Field(min_length=1, max_length=NAME_MAX, description="The name of the assistant")


class UpdateAssistant(_AssistantFields):
    """Assistant properties to update.

    A field left out is unchanged; a field given replaces the stored value whole; ``null``
    clears an optional field. ``name`` cannot be cleared.
    """

    # Optional but never null (see parse_assistant_body), and documented so.
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX)] | None = Field(
        None, description="The name of the assistant", json_schema_extra=_not_nullable
    )


class Assistant(TypedDict):
    """An assistant. Optional fields with no value are left out."""

    id: Annotated[int, Field(description="The unique identifier for the assistant")]
    name: Annotated[str, Field(description="The name of the assistant")]
    organization_id: Annotated[int, Field(description="The organization the assistant belongs to")]
    created_at: Annotated[dt.datetime, Field(description="When it was created (UTC)")]
    updated_at: Annotated[dt.datetime, Field(description="When it was last changed (UTC)")]
    model: NotRequired[ModelConfig]
    voice: NotRequired[VoiceConfig]
    first_message: NotRequired[str]
    max_duration_seconds: NotRequired[int]
    voicemail_message: NotRequired[str]
    webhook_url: NotRequired[str]
    is_webhook_secret_set: Annotated[bool, Field(description="Whether a webhook secret is set")]
    analysis_plan: NotRequired[AnalysisPlan]


FieldsModel = TypeVar("FieldsModel", CreateAssistant, UpdateAssistant)


def parse_assistant_body(raw: bytes, schema: type[FieldsModel]) -> dict[str, Any]:
    """The fields of a request body, checked against ``schema``, as the client sent them."""
    document = _read_document(raw)
    validate_fields(document, schema)
    return document


# The fields a merge patch merges into the stored value key by key, when it sends an object.
MERGED_FIELDS = frozenset({"model", "voice", "analysis_plan"})


def parse_merge_patch(raw: bytes) -> dict[str, Any]:
    """A JSON Merge Patch of an assistant, checked by the rules of a plain update.

    Every value but an object for a MERGED_FIELDS field replaces the stored value whole, so
    it is checked here as it is; the merged objects are checked after merging
    (validate_fields, by the service).
    """
    document = _read_document(raw)
    validate_fields(
        {
            field: value
            for field, value in document.items()
            if field not in MERGED_FIELDS or not isinstance(value, dict)
        }
    )
    return document


def validate_fields(fields: dict[str, Any], schema: type[FieldsModel] | None = None) -> None:
    """Raise InvalidInput naming the first field whose value breaks ``schema``."""
    try:
        (schema or UpdateAssistant).model_validate(fields)
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
    _check_storable(document, raw)
    if "name" in document and document["name"] is None:
        raise InvalidInput("name: cannot be null; every assistant has a name")
    return document


def _check_storable(document: dict[str, Any], raw: bytes) -> None:
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


# What a client configures: the columns a create, update or restore sets directly.
CONFIGURABLE_FIELDS = (
    "name",
    "model",
    "voice",
    "first_message",
    "max_duration_seconds",
    "voicemail_message",
    "webhook_url",
    "analysis_plan",
)


def configuration_of(row: AssistantRow) -> dict[str, Any]:
    """What a client configured, without server-owned fields; the secret only as a flag."""
    configuration: dict[str, Any] = {}
    for field in CONFIGURABLE_FIELDS:
        value = getattr(row, field)
        if value is not None:
            configuration[field] = value
    configuration["is_webhook_secret_set"] = row.webhook_secret_encrypted is not None
    return configuration


def assistant_json(row: AssistantRow) -> dict[str, Any]:
    """The Assistant representation: optional fields without a value are left out."""
    # configuration_of, written out field by field: a list of 100 renders this a hundred
    # times, and attribute access is twice as fast as getattr in a loop.
    body = {
        "id": row.id,
        "organization_id": row.organization_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "name": row.name,
    }
    if row.model is not None:
        body["model"] = row.model
    if row.voice is not None:
        body["voice"] = row.voice
    if row.first_message is not None:
        body["first_message"] = row.first_message
    if row.max_duration_seconds is not None:
        body["max_duration_seconds"] = row.max_duration_seconds
    if row.voicemail_message is not None:
        body["voicemail_message"] = row.voicemail_message
    if row.webhook_url is not None:
        body["webhook_url"] = row.webhook_url
    if row.analysis_plan is not None:
        body["analysis_plan"] = row.analysis_plan
    body["is_webhook_secret_set"] = row.webhook_secret_encrypted is not None
    return body


def etag(row: AssistantRow) -> str:
    """A strong ETag that changes with every version of the assistant."""
    return f'"v{row.version}"'


class AssistantVersion(TypedDict):
    """One immutable record of a change to an assistant."""

    assistant_id: int
    organization_id: int
    version: Annotated[int, Field(description="1 for the creation, then 2, 3, ...")]
    action: Literal["created", "updated", "deleted", "restored"]
    changed_fields: Annotated[list[str], Field(description="The fields this change altered")]
    webhook_secret: NotRequired[
        Annotated[
            Literal["set", "changed", "cleared"],
            Field(description="How the change touched the webhook secret (never its value)"),
        ]
    ]
    configuration: Annotated[
        dict[str, Any],
        Field(description="The assistant's configuration after the change (as in Assistant)"),
    ]
    created_at: dt.datetime
    api_key_id: Annotated[int | None, Field(description="The API key that made the change")]
    request_id: Annotated[str | None, Field(description="The X-Request-Id of that request")]


def version_json(record: AssistantVersionRow) -> dict[str, Any]:
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
    return body
