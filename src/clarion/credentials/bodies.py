"""Reading credential request bodies: one JSON object, checked against a request model, with
server-owned fields and nulls that would clear something required refused by name.

No message here ever quotes a value the client sent: the body carries an API key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from clarion.api import secret_resources

# Fields the server owns. Naming one in a request body is a 400 that says it is read-only.
READ_ONLY_FIELDS = frozenset(
    {"id", "organization_id", "is_api_key_set", "api_key_hint", "created_at", "updated_at"}
)
_NOT_NULL = {
    "provider": "provider: cannot be null; every credential is for one provider",
    "api_key": "api_key: cannot be null; every credential has a key "
    "(send a new one to replace it, or delete the credential)",
}


def read_body(raw: bytes, schema: type[BaseModel]) -> dict[str, Any]:
    """The fields of a request body, checked against ``schema``, as the client sent them."""
    return secret_resources.read_body(raw, schema, READ_ONLY_FIELDS, _NOT_NULL)
