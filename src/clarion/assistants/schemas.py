"""What the API accepts and returns for assistants: the request and response schemas, made
from the field table (clarion.assistants.fields)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, create_model
from typing_extensions import TypedDict

from clarion.assistants.configs import WebhookSecret
from clarion.assistants.fields import FIELDS


def _not_nullable(schema: dict[str, Any]) -> None:
    """Document an optional field as never null: left out, or a value."""
    variants = schema.pop("anyOf", None)
    if variants is not None:
        schema.update(next(v for v in variants if v.get("type") != "null"))
    schema.pop("default", None)


_SECRET = (
    WebhookSecret | None,
    Field(
        None,
        description="Sent with each webhook as X-Clarion-Secret. Write-only: never returned.",
        json_schema_extra={"writeOnly": True},
    ),
)
_REQUEST = ConfigDict(extra="forbid", strict=True)


def _request_model(name: str, doc: str, *, create: bool) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for field in FIELDS:
        if field.required and create:
            definitions[field.name] = (field.accepts, Field(description=field.description))
        elif field.required:
            # Optional but never null (clarion.assistants.bodies refuses null), documented so.
            definitions[field.name] = (
                field.accepts | None,
                Field(None, description=field.description, json_schema_extra=_not_nullable),
            )
        else:
            definitions[field.name] = (
                field.accepts | None,
                Field(None, description=field.description),
            )
    definitions["webhook_secret"] = _SECRET
    model: type[BaseModel] = create_model(name, __config__=_REQUEST, __doc__=doc, **definitions)
    return model


CreateAssistant = _request_model(
    "CreateAssistant", "A new assistant. Only ``name`` is required.", create=True
)
UpdateAssistant = _request_model(
    "UpdateAssistant",
    "Assistant properties to update.\n\nA field left out is unchanged; a field given replaces "
    "the stored value whole; ``null`` clears an optional field. ``name`` cannot be cleared.",
    create=False,
)


def _response_model() -> type[BaseModel]:
    definitions: dict[str, Any] = {
        "id": (int, Field(description="The unique identifier for the assistant")),
        "organization_id": (int, Field(description="The organization the assistant belongs to")),
        "created_at": (dt.datetime, Field(description="When it was created (UTC)")),
        "updated_at": (dt.datetime, Field(description="When it was last changed (UTC)")),
    }
    for field in FIELDS:
        if field.required:
            definitions[field.name] = (field.accepts, Field(description=field.description))
        else:
            # Left out when it has no value; never null.
            definitions[field.name] = (
                field.accepts,
                Field(None, description=field.description, json_schema_extra=_not_nullable),
            )
    definitions["is_webhook_secret_set"] = (
        bool,
        Field(description="Whether a webhook secret is set"),
    )
    model: type[BaseModel] = create_model(
        "Assistant",
        __doc__="An assistant. Optional fields with no value are left out.",
        **definitions,
    )
    return model


Assistant = _response_model()


class AssistantVersion(TypedDict):
    """One immutable record of a change to an assistant."""

    assistant_id: int
    organization_id: int
    version: Annotated[int, Field(description="1 for the creation, then 2, 3, ...")]
    action: Literal["created", "updated", "deleted", "restored"]
    changed_fields: Annotated[list[str], Field(description="The fields this change altered")]
    webhook_secret: NotRequired[
        Annotated[
            Literal["set", "changed", "cleared", "dropped"],
            Field(
                description="How the change touched the webhook secret (never its value): "
                "`cleared` by a deletion that took the secret with it, `dropped` by a restore "
                "of such a deleted assistant, which comes back without it (set a new one)"
            ),
        ]
    ]
    configuration: Annotated[
        dict[str, Any],
        Field(description="The assistant's configuration after the change (as in Assistant)"),
    ]
    created_at: dt.datetime
    api_key_id: Annotated[int | None, Field(description="The API key that made the change")]
    request_id: Annotated[str | None, Field(description="The X-Request-Id of that request")]
    user_id: Annotated[
        int | None, Field(description="The console user who made the change (else null)")
    ]
