"""The one description of an assistant's configurable fields.

Each field says how it is stored, what the API accepts for it and what it means. The table's
column, the request models, the Assistant representation, the version records' configuration
and the list's rendering are all made from :data:`FIELDS`, so a new field is one line here
plus a migration that adds its column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import Integer, String, Text
from sqlalchemy.types import TypeEngine

from clarion.assistants.configs import (
    MESSAGE_MAX,
    NAME_MAX,
    AnalysisPlan,
    ModelConfig,
    TranscriberConfig,
    VoiceConfig,
    WebhookUrl,
)
from clarion.assistants.placeholders import check_placeholders
from clarion.database.schema import JSONDocument


@dataclass(frozen=True, slots=True)
class AssistantField:
    """One field a client configures."""

    name: str
    column: TypeEngine[Any]
    """How the field is stored."""
    accepts: Any
    """The type the API accepts for it (a Pydantic annotation; null is handled apart)."""
    description: str
    document: bool = False
    """A JSON object, kept as sent; a merge patch merges it key by key."""
    required: bool = False
    """Required on create and never null (the name)."""


FIELDS: tuple[AssistantField, ...] = (
    AssistantField(
        "name",
        String(NAME_MAX),
        Annotated[str, Field(min_length=1, max_length=NAME_MAX)],
        "The name of the assistant",
        required=True,
    ),
    AssistantField(
        "model", JSONDocument, ModelConfig, "The language model configuration", document=True
    ),
    AssistantField("voice", JSONDocument, VoiceConfig, "The voice configuration", document=True),
    AssistantField(
        "transcriber",
        JSONDocument,
        TranscriberConfig,
        "The transcriber configuration: who hears the patient, and in which language",
        document=True,
    ),
    AssistantField(
        "first_message",
        Text(),
        Annotated[str, Field(max_length=MESSAGE_MAX), AfterValidator(check_placeholders)],
        "The initial message the assistant will use",
    ),
    AssistantField(
        "max_duration_seconds",
        Integer(),
        Annotated[int, Field(ge=10, le=43_200)],
        "The maximum call length, in seconds",
    ),
    AssistantField(
        "voicemail_message",
        Text(),
        Annotated[str, Field(max_length=MESSAGE_MAX), AfterValidator(check_placeholders)],
        "The message left on voicemail",
    ),
    AssistantField("webhook_url", Text(), WebhookUrl, "The URL the end-of-call report is sent to"),
    AssistantField(
        "analysis_plan", JSONDocument, AnalysisPlan, "The post-call analysis plan", document=True
    ),
    AssistantField(
        "silence_timeout_seconds",
        Integer(),
        Annotated[int, Field(ge=5, le=3600)],
        "How long the patient may stay silent before the call ends, in seconds (30 when unset)",
    ),
)

CONFIGURABLE_FIELDS = tuple(field.name for field in FIELDS)
"""What a create, update or restore sets, in the order the API shows them."""

MERGED_FIELDS = frozenset(field.name for field in FIELDS if field.document)
"""The fields a merge patch merges into the stored value key by key, when it sends an object."""


def configuration(
    values: dict[str, Any], secret_set: bool, shown: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a client configured, as the API shows it (added to ``shown`` when given): fields
    without a value are left out, and the webhook secret is only a flag."""
    if shown is None:
        shown = {}
    for name, value in values.items():
        if value is not None:
            shown[name] = value
    shown["is_webhook_secret_set"] = secret_set
    return shown
