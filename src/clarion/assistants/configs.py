"""The shapes an assistant's configuration takes: its nested documents and checked strings.

The nested objects (``model``, ``voice``, ``transcriber``, ``analysis_plan``) are TypedDicts:
a well-known key may be left out but, when present, has its documented type (no null); keys
not listed are allowed and kept as the client sent them, so a provider option we do not know
yet survives a round trip. A key of ``model`` or ``analysis_plan`` that is a near miss of one
clarion reads is the exception (clarion.assistants.key_spelling).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from clarion.assistants.json_schemas import schema_problem
from clarion.assistants.placeholders import check_placeholders
from clarion.outbound.urls import check_outbound_url

NAME_MAX = 200
MESSAGE_MAX = 10_000
PROMPT_MAX = 100_000
IDENTIFIER_MAX = 200
LANGUAGE_MAX = 35  # the longest BCP 47 tag RFC 5646 asks every implementation to keep
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


def _check_header_value(value: str) -> str:
    """The secret, if it can travel as an HTTP header value (X-Clarion-Secret)."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters: it is sent as a header value")
    return value


def _check_json_schema(value: dict[str, Any]) -> dict[str, Any]:
    problem = schema_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


WebhookUrl = Annotated[
    str,
    Field(max_length=WEBHOOK_URL_MAX, description="Absolute http or https URL"),
    AfterValidator(check_outbound_url),
]
WebhookSecret = Annotated[
    str,
    Field(min_length=1, max_length=WEBHOOK_SECRET_MAX),
    AfterValidator(_check_header_value),
]
JsonSchema = Annotated[
    dict[str, Any],
    Field(description="A JSON Schema (draft 4, 6, 7, 2019-09 or 2020-12) for the extracted data"),
    AfterValidator(_check_json_schema),
]

_OPEN = ConfigDict(extra="allow", strict=True)


@with_config(_OPEN)
class ModelMessage(TypedDict):
    """One message of the model's prompt."""

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, Field(max_length=PROMPT_MAX), AfterValidator(check_placeholders)]


@with_config(_OPEN)
class ModelConfig(TypedDict, total=False):
    """The language-model configuration. Keys clarion does not read are kept as given; one
    that is a near miss of a key it reads (``temprature``, ``maxTokens``) is refused."""

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


@with_config(_OPEN)
class TranscriberConfig(TypedDict, total=False):
    """The transcriber configuration: who hears the patient, with which model, in which
    language. Keys not listed here are kept as given."""

    provider: Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX, examples=["deepgram"])]
    model: Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX, examples=["nova-2"])]
    language: Annotated[
        str,
        Field(
            min_length=1,
            max_length=LANGUAGE_MAX,
            description="A BCP 47 language tag",
            examples=["en-US"],
        ),
    ]


Prompt = Annotated[str, Field(max_length=PROMPT_MAX), AfterValidator(check_placeholders)]


@with_config(_OPEN)
class AnalysisPlan(TypedDict, total=False):
    """How a finished call is analysed. Keys not listed here are kept as given, unless one is
    a near miss of a listed key (``summary_prompt``), which is refused."""

    summaryPrompt: Prompt
    structuredDataPrompt: Prompt
    structuredDataSchema: JsonSchema
    successEvaluationPrompt: Prompt
    successEvaluationRubric: Rubric
