"""Reading phone number request bodies: one JSON object, checked against a request model,
with server-owned fields and nulls that would clear something required refused by name.

No message here ever quotes a value the client sent: the body carries an auth token.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from clarion.api import secret_resources

# Fields the server owns. Naming one in a request body is a 400 that says it is read-only.
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "organization_id",
        "is_twilio_auth_token_set",
        "twilio_auth_token_hint",
        "created_at",
        "updated_at",
    }
)
_NOT_NULL = {
    "number": "number: cannot be null; every phone number has its number",
    "provider": "provider: cannot be null; every phone number is held at one carrier",
    "twilio_account_sid": "twilio_account_sid: cannot be null; every phone number is held "
    "in one Twilio account",
    "twilio_auth_token": "twilio_auth_token: cannot be null; every phone number has its "
    "account's auth token (send a new one to replace it, or delete the number)",
}


def read_body(raw: bytes, schema: type[BaseModel]) -> dict[str, Any]:
    """The fields of a request body, checked against ``schema``, as the client sent them."""
    return secret_resources.read_body(raw, schema, READ_ONLY_FIELDS, _NOT_NULL)
