"""What the API accepts and returns for provider credentials: the checked field types, the
request models, the Credential representation, and how a credential is shown."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypedDict

from clarion.api.secret_resources import (
    REQUEST_MODEL,
    VISIBLE_ASCII_PATTERN,
    check_header_secret,
    check_name,
    hint_field,
    never_null,
    show_secret,
)
from clarion.credentials.models import NAME_MAX, CredentialRecord
from clarion.outbound.urls import SOCKET_SCHEMES, check_http_or_socket_url

ProviderName = Literal["openai", "anthropic", "deepgram", "elevenlabs"]
SOCKET_PROVIDERS = frozenset({"deepgram"})
"""Providers reached over a WebSocket, whose base URL may be ws:// or wss://."""

API_KEY_MAX = 512
BASE_URL_MAX = 2048


ApiKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=API_KEY_MAX,
        description="The provider's API key. Write-only: stored encrypted, never returned.",
        json_schema_extra={"writeOnly": True, "pattern": VISIBLE_ASCII_PATTERN},
    ),
    AfterValidator(check_header_secret),
]
Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX, description="A name to tell credentials apart"),
    AfterValidator(check_name),
]
BaseUrl = Annotated[
    str,
    Field(
        max_length=BASE_URL_MAX,
        description="Where the provider's API is (absolute http or https URL; for deepgram "
        "also ws or wss, the same host either way), for a compatible server or a proxy; "
        "left out: the provider's own",
        examples=["https://api.openai.com/v1"],
    ),
    AfterValidator(check_http_or_socket_url),
]


def base_url_problem(provider: str, base_url: str | None) -> str | None:
    """Why ``base_url`` cannot be ``provider``'s, or None: only a provider reached over a
    WebSocket takes a ws:// or wss:// URL. The message never quotes the URL."""
    if base_url is None or provider in SOCKET_PROVIDERS:
        return None
    if base_url.split(":", 1)[0].lower() in SOCKET_SCHEMES:
        return f"base_url: {provider} is reached over http or https, not a WebSocket (ws, wss)"
    return None


class CreateCredential(BaseModel):
    """A new provider credential. Only ``provider`` and ``api_key`` are required."""

    model_config = REQUEST_MODEL

    provider: ProviderName = Field(description="The provider the key is for")
    api_key: ApiKey
    base_url: BaseUrl | None = None
    name: Name | None = None


class UpdateCredential(BaseModel):
    """Credential properties to update. A field left out is unchanged; ``null`` clears
    ``base_url`` or ``name``. ``api_key`` may be replaced, never cleared; ``provider`` cannot
    change (sending the credential's own provider is allowed)."""

    model_config = REQUEST_MODEL

    provider: ProviderName | SkipJsonSchema[None] = never_null(
        "The credential's own provider, or left out: it cannot change"
    )
    api_key: ApiKey | SkipJsonSchema[None] = never_null()
    base_url: BaseUrl | None = None
    name: Name | None = None


class Credential(TypedDict):
    """A provider credential. Fields without a value are left out; the key is never shown."""

    id: int
    organization_id: int
    provider: ProviderName
    name: NotRequired[Annotated[str, Field(description="The credential's name")]]
    base_url: NotRequired[
        Annotated[str, Field(description="Where requests go instead of the provider's own API")]
    ]
    is_api_key_set: Annotated[bool, Field(description="Always true: every credential has a key")]
    api_key_hint: NotRequired[Annotated[str, hint_field("key")]]
    created_at: Annotated[dt.datetime, Field(description="When it was created (UTC)")]
    updated_at: Annotated[dt.datetime, Field(description="When it was last changed (UTC)")]


def credential_json(record: CredentialRecord) -> dict[str, Any]:
    """The Credential representation: fields without a value are left out."""
    shown: dict[str, Any] = {
        "id": record.id,
        "organization_id": record.organization_id,
        "provider": record.provider,
    }
    if record.name is not None:
        shown["name"] = record.name
    if record.base_url is not None:
        shown["base_url"] = record.base_url
    show_secret(shown, "api_key", record.api_key_hint)
    shown["created_at"] = record.created_at
    shown["updated_at"] = record.updated_at
    return shown
