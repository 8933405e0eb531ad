"""Responses: JSON encoded once with orjson, and the reply a fast lane hands the front."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import JSONResponse, Response

_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS

Headers = list[tuple[bytes, bytes]]
"""Raw response headers, beyond Content-Type and Content-Length."""

Reply = tuple[bytes, Headers]
"""A 200 response a fast lane makes: its JSON body and its headers."""


def encode_json(body: Any) -> bytes:
    """JSON bytes via orjson, timestamps as UTC with a ``Z``."""
    return orjson.dumps(body, option=_JSON_OPTIONS)


def json_array(bodies: Sequence[bytes]) -> bytes:
    """A JSON array of already-encoded values, as orjson would write it."""
    return b"[" + b",".join(bodies) + b"]"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded once with orjson."""
    return Response(encode_json(body), status, headers, media_type="application/json")


def with_etag(body: bytes, etag: str) -> Reply:
    """A JSON reply carrying its ETag: the one place the header is set."""
    return body, [(b"etag", etag.encode())]


def reply_response(reply: Reply, status: int = 200) -> Response:
    """A reply as a framework response, for routes that share a fast lane's rendering."""
    body, headers = reply
    response = Response(body, status, media_type="application/json")
    for name, value in headers:
        response.headers[name.decode()] = value.decode()
    return response


class ORJSONResponse(JSONResponse):
    """The default response class, for the few routes that return plain objects."""

    def render(self, content: Any) -> bytes:
        """Encode with orjson, timestamps as UTC with a ``Z``."""
        return orjson.dumps(content, option=_JSON_OPTIONS)
