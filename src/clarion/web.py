"""HTTP plumbing shared by the routes: fast JSON responses, body reading, the size limit."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clarion.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, error_response

_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def encode_json(body: Any) -> bytes:
    """JSON bytes via orjson, timestamps as UTC with a ``Z``."""
    return orjson.dumps(body, option=_JSON_OPTIONS)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded once with orjson."""
    return Response(encode_json(body), status, headers, media_type="application/json")


class ORJSONResponse(JSONResponse):
    """The default response class, for the few routes that return plain objects."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_JSON_OPTIONS)


ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")
MAX_ID = 10**18 - 1  # what ID_PATTERN admits; well inside a 64-bit column


def resource_id(raw: str, resource: str) -> int:
    """A path id: a positive integer, or the resource is simply not there (404)."""
    if not ID_PATTERN.fullmatch(raw):
        raise NotFound(f"{resource} {raw[:40]!r} not found")
    return int(raw)


def media_type(request: Request) -> str | None:
    """The request's media type, lower-cased and without parameters."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def if_match(request: Request) -> frozenset[str] | None:
    """The entity tags of an If-Match header, ``{"*"}`` for any, or None when absent."""
    return parse_if_match(request.headers.get("if-match"))


def parse_if_match(header: str | None) -> frozenset[str] | None:
    if header is None:
        return None
    return frozenset(tag.strip() for tag in header.split(",") if tag.strip())


async def read_json_body(request: Request) -> bytes:
    """The raw body of a request that says it is JSON (or says nothing)."""
    media = media_type(request)
    if media is not None and not _is_json(media):
        raise UnsupportedMediaType(
            f"Content-Type {media!r} is not supported: send application/json"
        )
    return await request.body()


class BodySizeLimit:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.limit:
                    await error_response(413, self._message())(scope, receive, send)
                    return
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise PayloadTooLarge(self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return f"request body is larger than the limit of {self.limit} bytes"
