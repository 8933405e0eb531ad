"""GET /talk and its assets: the browser page that joins a web call with a microphone.

Not part of the API (left out of the OpenAPI document). Every response carries the pages'
security headers (clarion.api.page_headers: other origins' scripts and styles forbidden, no
framing, the page's URL, whose fragment holds the call's token, kept out of Referer headers)
and is never stored by a cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from clarion.api.page_headers import held_page_headers, public_socket_origin, talk_policy
from clarion.services import services_of

router = APIRouter(prefix="/talk", include_in_schema=False)

_STATIC = files(__package__) / "static"


@cache
def security_headers(public_url: str | None) -> Mapping[str, str]:
    """The headers of the page and its files: the call's socket may be on this server or at
    its public URL, and nowhere else."""
    return held_page_headers(talk_policy(public_socket_origin(public_url)), microphone=True)


ASSETS: Mapping[str, str] = {
    "talk.js": "text/javascript; charset=utf-8",
    "talk-worklet.js": "text/javascript; charset=utf-8",
    "talk.css": "text/css; charset=utf-8",
}


@cache
def _read(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


def _static(request: Request, name: str, media_type: str) -> Response:
    settings = services_of(request.app).settings
    headers = dict(security_headers(settings.public_url))
    return Response(_read(name), media_type=media_type, headers=headers)


@router.get("")
async def talk_page(request: Request) -> Response:
    """The page; the web call's URL goes in its fragment."""
    return _static(request, "talk.html", "text/html; charset=utf-8")


@router.get("/{asset}")
async def talk_asset(request: Request, asset: str) -> Response:
    """One of the page's scripts or its style sheet."""
    media_type = ASSETS.get(asset)
    if media_type is None:
        raise HTTPException(404)  # rendered as any unknown route is
    return _static(request, asset, media_type)
