"""The failures an operation documents in the OpenAPI document, each with the Error body.

The document itself is built and served by clarion.openapi_document.
"""

from __future__ import annotations

from typing import Any

from clarion.api.errors import Error

Responses = dict[int | str, dict[str, Any]]


def error_response(status: int, description: str) -> Responses:
    """One documented failure, with the Error body."""
    return {status: {"model": Error, "description": description}}


def error_responses(not_found: str = "Not found") -> Responses:
    """The failures every authenticated operation documents: 400, 401 and 404."""
    return {
        **error_response(400, "Bad request"),
        **error_response(401, "Missing, invalid or revoked API key"),
        **error_response(404, not_found),
    }


def body_error_responses() -> Responses:
    """The failures of an operation that reads a JSON body, beyond the usual ones."""
    return {
        **error_response(413, "The body is larger than the server accepts"),
        **error_response(415, "The body is not JSON"),
    }
