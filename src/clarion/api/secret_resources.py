"""What the resources holding a write-only secret share: a provider credential's API key and a
phone number's Twilio auth token are taken, kept and shown by the same rules.

Their request models are strict, and a field that may be left out need not admit null. The
body is checked without any message quoting it; the secret is sealed as soon as it arrives,
opened only when the server itself must send it, and shown only as being set and by its last
characters. Each resource still says which of its fields are read-only or never null, and
what its secret is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from clarion.api.requests import json_object
from clarion.errors import InvalidInput, describe_validation_error
from clarion.storage.secret_box import PROVIDER_API_KEY, SecretBox

HINT_PREFIX = "…"
HINT_LENGTH = 4
HINT_MIN_SECRET_LENGTH = 16

# An auth token is a carrier's API secret: it is sealed as the providers' keys are, to its
# organization and to that purpose.
_PURPOSE = PROVIDER_API_KEY

VISIBLE_ASCII_PATTERN = r"^[!-~]+$"
"""What :func:`check_header_secret` admits, as the OpenAPI document states it."""

REQUEST_MODEL = ConfigDict(extra="forbid", strict=True)
"""The request models' configuration: an unknown field is refused, and no value is coerced."""


def check_header_secret(value: str) -> str:
    """The secret (an API key, an auth token), if it is made of visible ASCII characters
    (``!`` to ``~``) only: it travels as an HTTP header value (``Authorization``,
    ``x-api-key``), where anything else is mangled or refused, and a space or line break in it
    is always a pasting mistake. The message never quotes the secret."""
    if not all("!" <= ch <= "~" for ch in value):
        raise ValueError(
            "must be visible ASCII characters only, without spaces or control characters"
        )
    return value


def check_name(value: str) -> str:
    """The name, if it holds no NUL character (no column takes it)."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


def _without_default(schema: dict[str, Any]) -> None:
    """Document an optional field that is never null: left out, or a value."""
    schema.pop("default", None)


def never_null(description: str | None = None) -> Any:
    """A field a request may leave out but never set to null (:func:`read_body` refuses null
    with the resource's own message): the model takes None only as "left out"."""
    return Field(None, description=description, json_schema_extra=_without_default)


def read_body(
    raw: bytes,
    schema: type[BaseModel],
    read_only: frozenset[str],
    not_null: Mapping[str, str],
) -> dict[str, Any]:
    """The fields of a request body, checked against ``schema``, as the client sent them.

    Naming one of the ``read_only`` fields is refused, and so is null for a field of
    ``not_null``, with the message given for it. No message quotes a value the client sent:
    the body carries a secret.
    """
    document = json_object(raw, read_only)
    for name, message in not_null.items():
        if name in document and document[name] is None:
            raise InvalidInput(message)
    try:
        schema.model_validate(document)
    except ValidationError as exc:
        # describe_validation_error names the field and the rule, never the input.
        raise InvalidInput(describe_validation_error(exc)) from None
    return document


def request_body(schema: type[BaseModel], description: str) -> dict[str, Any]:
    """The request body's entry in the OpenAPI document: the routes read the body themselves
    (:func:`read_body`), so FastAPI does not know its model."""
    return {
        "requestBody": {
            "description": description,
            "required": True,
            "content": {"application/json": {"schema": schema.model_json_schema()}},
        }
    }


def key_hint(secret: str) -> str | None:
    """The secret's last 4 characters, or None for a secret shorter than 16.

    Shown (as ``…wxyz``) so that whoever manages the keys can tell which one is stored, after
    a rotation say, as the providers' own consoles do. Provider keys and auth tokens are dozens
    of random characters; the last 4 leave the rest as far beyond guessing as ever. A short
    key (a local server's, say) gets no hint: 4 characters would be a good part of it.
    """
    if len(secret) < HINT_MIN_SECRET_LENGTH:
        return None
    return secret[-HINT_LENGTH:]


@dataclass(frozen=True, slots=True)
class Sealed:
    """A secret as it is stored: its ciphertext, and the hint kept beside it."""

    # The ciphertext is nothing without the server key, but has no place in a log either.
    ciphertext: bytes = field(repr=False)
    hint: str | None


def seal(secrets: SecretBox, secret: str, organization_id: int) -> Sealed:
    """``secret`` sealed for its organization, with its hint."""
    return Sealed(secrets.encrypt(secret, organization_id, _PURPOSE), key_hint(secret))


def unseal(
    secrets: SecretBox, ciphertext: bytes, organization_id: int, holder: str, name: str
) -> str:
    """The secret ``name`` of ``holder`` (``credential 7``, say), opened; InvalidInput when
    this server's key cannot open it."""
    try:
        return secrets.decrypt(ciphertext, organization_id, _PURPOSE)
    except (InvalidTag, ValueError):
        # Sealed under another server key (CLARION_SECRET_KEY changed, or a copied row).
        raise InvalidInput(
            f"{holder}: its {name} cannot be read with this server's secret key; set {name} again"
        ) from None


def hint_field(what: str) -> FieldInfo:
    """How a representation documents the hint of its secret, a ``key`` or a ``token``."""
    description = (
        f"``{HINT_PREFIX}`` and the {what}'s last {HINT_LENGTH} characters, to tell {what}s "
        f"apart; left out for a {what} shorter than {HINT_MIN_SECRET_LENGTH} characters"
    )
    info: FieldInfo = Field(description=description, examples=[HINT_PREFIX + "wxyz"])
    return info


def show_secret(shown: dict[str, Any], name: str, hint: str | None) -> None:
    """Add what a representation tells of the secret ``name``: that it is set (it always is),
    and its hint when it has one. Never the secret itself."""
    shown[f"is_{name}_set"] = True
    if hint is not None:
        shown[f"{name}_hint"] = HINT_PREFIX + hint
