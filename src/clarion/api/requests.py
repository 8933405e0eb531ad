"""Reading requests: path ids, list limits, If-Match, media types, bodies within the limit,
and bodies that must be one JSON object.

Routes and fast lanes read requests through these same functions, so a rule changed here
holds for both.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Query
from starlette.requests import Request
from starlette.types import Receive, Scope

from clarion.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType

ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")
MAX_ID = 10**18 - 1  # what ID_PATTERN admits; well inside a 64-bit column

LIST_LIMIT_DEFAULT = 100
LIST_LIMIT_MAX = 1000
Limit = Annotated[
    int, Query(ge=1, le=LIST_LIMIT_MAX, description="How many to return (at most 1000)")
]


def resource_id(raw: str, resource: str) -> int:
    """A path id: a positive integer, or the resource is simply not there (404)."""
    if not ID_PATTERN.fullmatch(raw):
        raise NotFound(f"{resource} {raw[:40]!r} not found")
    return int(raw)


def header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's raw value (the first, when repeated), or None."""
    for key, value in scope["headers"]:
        if key == name:
            found: bytes = value
            return found
    return None


def only_limit(query_string: bytes) -> int | None:
    """The list limit of a query that names nothing else (the default for no query); None
    when the query is anything else, which the route itself then reads and checks."""
    if not query_string:
        return LIST_LIMIT_DEFAULT
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "limit" or not pairs[0][1].isdigit():
        return None
    limit = int(pairs[0][1])
    return limit if 1 <= limit <= LIST_LIMIT_MAX else None


def media_type(scope: Scope) -> str | None:
    """The request's media type, lower-cased and without parameters."""
    content_type = header(scope, b"content-type")
    if content_type is None:
        return None
    return content_type.decode("latin-1").split(";", 1)[0].strip().lower()


def json_media_type(scope: Scope) -> str:
    """The media type of a request that must be JSON (saying nothing counts as JSON)."""
    media = media_type(scope) or "application/json"
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type {media!r} is not supported: send application/json"
        )
    return media


def if_match(scope: Scope) -> frozenset[str] | None:
    """The entity tags of an If-Match header, ``{"*"}`` for any, or None when absent."""
    value = header(scope, b"if-match")
    if value is None:
        return None
    tags = value.decode("latin-1").split(",")
    return frozenset(tag.strip() for tag in tags if tag.strip())


class BodyLimit:
    """The request body size limit: refused with 413, whether declared or streamed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.message = f"request body is larger than the limit of {limit} bytes"

    def check_declared(self, scope: Scope) -> None:
        """Refuse at once a body whose Content-Length is over the limit."""
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            raise PayloadTooLarge(self.message)

    async def read(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body, refused as soon as it passes the limit."""
        self.check_declared(scope)
        chunks = []
        received = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.limit:
                raise PayloadTooLarge(self.message)
            chunks.append(chunk)
            if not message.get("more_body"):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def json_object(raw: bytes, read_only: frozenset[str]) -> dict[str, Any]:
    """A request body that must be one JSON object naming none of the ``read_only`` fields
    (those the server owns); else InvalidInput saying which rule it breaks. No message quotes
    the body: it may carry a key or a patient's details."""
    if not raw.strip():
        raise InvalidInput("request body is empty: send a JSON object")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # The decoder's message gives a position, never the text around it.
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidInput("request body must be a JSON object")
    for field in document:
        if field in read_only:
            raise InvalidInput(f"{field!r} is read-only and cannot be set")
    return document


def reached_at(request: Request) -> str:
    """The scheme and host the request came to (``http://127.0.0.1:8000``): where answers
    that name the server point when no public URL is set."""
    host = request.headers.get("host") or request.url.netloc
    return f"{request.url.scheme}://{host}"
