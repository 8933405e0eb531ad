"""GET /talk and its assets: the browser page that joins a web call with a microphone.

Not part of the API (left out of the OpenAPI document). Every response forbids other
origins' scripts and styles, keeps the page's URL, whose fragment holds the call's token,
out of Referer headers, and is never stored by a cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

router = APIRouter(prefix="/talk", include_in_schema=False)

_STATIC = files(__package__) / "static"

# The page opens the call's WebSocket, which may be on another host when the server's public
# URL is set; everything else comes from this server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}

ASSETS: Mapping[str, str] = {
    "talk.js": "text/javascript; charset=utf-8",
    "talk-worklet.js": "text/javascript; charset=utf-8",
    "talk.css": "text/css; charset=utf-8",
}


@cache
def _read(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


def _static(name: str, media_type: str) -> Response:
    return Response(_read(name), media_type=media_type, headers=dict(SECURITY_HEADERS))


@router.get("")
async def talk_page() -> Response:
    """The page; the web call's URL goes in its fragment."""
    return _static("talk.html", "text/html; charset=utf-8")


@router.get("/{asset}")
async def talk_asset(asset: str) -> Response:
    """One of the page's scripts or its style sheet."""
    media_type = ASSETS.get(asset)
    if media_type is None:
        raise HTTPException(404)  # rendered as any unknown route is
    return _static(asset, media_type)
