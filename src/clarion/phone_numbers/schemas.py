"""What the API accepts and returns for phone numbers: the checked field types, the request
models, the PhoneNumber representation, and how a number is shown."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypedDict

from clarion.api.requests import MAX_ID
from clarion.api.secret_resources import (
    REQUEST_MODEL,
    VISIBLE_ASCII_PATTERN,
    check_header_secret,
    check_name,
    hint_field,
    never_null,
    show_secret,
)
from clarion.phone_numbers.models import NAME_MAX, PhoneNumberRecord

PhoneProvider = Literal["twilio"]

AUTH_TOKEN_MAX = 256
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
ACCOUNT_SID_PATTERN = r"^AC[0-9a-fA-F]{32}$"


Number = Annotated[
    str,
    Field(
        pattern=E164_PATTERN,
        description="The phone number in E.164: `+`, the country code and the number, digits only",
        examples=["+15555550123"],
    ),
]
AccountSid = Annotated[
    str,
    Field(
        pattern=ACCOUNT_SID_PATTERN,
        description="The Twilio account's SID: `AC` and 32 hexadecimal digits",
        examples=["AC0123456789abcdef0123456789abcdef"],
    ),
]
AuthToken = Annotated[
    str,
    Field(
        min_length=1,
        max_length=AUTH_TOKEN_MAX,
        description="The Twilio account's auth token. Write-only: stored encrypted, never "
        "returned.",
        json_schema_extra={"writeOnly": True, "pattern": VISIBLE_ASCII_PATTERN},
    ),
    AfterValidator(check_header_secret),
]
Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX, description="A name to tell numbers apart"),
    AfterValidator(check_name),
]
AssistantId = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_ID,
        description="The organization's assistant that answers calls to this number; left "
        "out: calls to it are not answered. A deleted assistant stays named here (a restore "
        "brings it back) and answers nothing until then.",
    ),
]


class CreatePhoneNumber(BaseModel):
    """A new phone number. ``name`` and ``assistant_id`` are optional."""

    model_config = REQUEST_MODEL

    number: Number
    provider: PhoneProvider = Field(description="The carrier the number is held at")
    twilio_account_sid: AccountSid
    twilio_auth_token: AuthToken
    assistant_id: AssistantId | None = None
    name: Name | None = None


class UpdatePhoneNumber(BaseModel):
    """Phone number properties to update. A field left out is unchanged; ``null`` clears
    ``assistant_id`` or ``name``. ``twilio_auth_token`` may be replaced, never cleared."""

    model_config = REQUEST_MODEL

    number: Number | SkipJsonSchema[None] = never_null("A new number (E.164)")
    provider: PhoneProvider | SkipJsonSchema[None] = never_null("The carrier the number is held at")
    twilio_account_sid: AccountSid | SkipJsonSchema[None] = never_null(
        "The Twilio account's SID: `AC` and 32 hexadecimal digits"
    )
    twilio_auth_token: AuthToken | SkipJsonSchema[None] = never_null()
    assistant_id: AssistantId | None = None
    name: Name | None = None


class PhoneNumber(TypedDict):
    """A phone number. Fields without a value are left out; the auth token is never shown."""

    id: int
    organization_id: int
    number: Annotated[str, Field(description="The phone number (E.164)")]
    provider: PhoneProvider
    name: NotRequired[Annotated[str, Field(description="The number's name")]]
    assistant_id: NotRequired[
        Annotated[int, Field(description="The assistant that answers calls to this number")]
    ]
    twilio_account_sid: Annotated[str, Field(description="The Twilio account's SID")]
    is_twilio_auth_token_set: Annotated[
        bool, Field(description="Always true: every number has its account's auth token")
    ]
    twilio_auth_token_hint: NotRequired[Annotated[str, hint_field("token")]]
    created_at: Annotated[dt.datetime, Field(description="When it was created (UTC)")]
    updated_at: Annotated[dt.datetime, Field(description="When it was last changed (UTC)")]


def phone_number_json(record: PhoneNumberRecord) -> dict[str, Any]:
    """The PhoneNumber representation: fields without a value are left out."""
    shown: dict[str, Any] = {
        "id": record.id,
        "organization_id": record.organization_id,
        "number": record.number,
        "provider": record.provider,
    }
    if record.name is not None:
        shown["name"] = record.name
    if record.assistant_id is not None:
        shown["assistant_id"] = record.assistant_id
    shown["twilio_account_sid"] = record.twilio_account_sid
    show_secret(shown, "twilio_auth_token", record.twilio_auth_token_hint)
    shown["created_at"] = record.created_at
    shown["updated_at"] = record.updated_at
    return shown
