"""GET ``/`` and the console's files under ``/console/``.

The console is one page whose scripts draw each view from the JSON API, signed in with a
session cookie (clarion.people). Every file is ours, shipped in the package; each response
carries the console's Content-Security-Policy (nothing from another origin, no framing).
Not part of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from clarion.api.page_headers import console_policy, held_page_headers, public_socket_origin
from clarion.services import services_of

router = APIRouter(include_in_schema=False)

_STATIC = files(__package__) / "static"

MEDIA_TYPES: Mapping[str, str] = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}


@cache
def security_headers(public_url: str | None) -> Mapping[str, str]:
    """The headers of the console's page and files."""
    return held_page_headers(console_policy(public_socket_origin(public_url)))


def _headers(request: Request) -> dict[str, str]:
    return dict(security_headers(services_of(request.app).settings.public_url))


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            found.update(_walk(entry, f"{prefix}{entry.name}/"))
        else:
            found[prefix + entry.name] = entry
    return found


@cache
def _assets() -> dict[str, Traversable]:
    """The console's files by their path under /console/: only these are ever served."""
    return {
        name: entry
        for name, entry in _walk(_STATIC).items()
        if any(name.endswith(suffix) for suffix in MEDIA_TYPES)
    }


@cache
def _read(name: str) -> bytes:
    if name == "index.html":
        return (_STATIC / name).read_bytes()
    return _assets()[name].read_bytes()


@router.get("/")
async def console_page(request: Request) -> Response:
    """The console."""
    return Response(
        _read("index.html"), media_type="text/html; charset=utf-8", headers=_headers(request)
    )


@router.get("/console/{asset:path}")
async def console_asset(request: Request, asset: str) -> Response:
    """One of the console's scripts, style sheets or images."""
    if asset not in _assets():
        raise HTTPException(404)  # rendered as any unknown route is
    suffix = asset[asset.rfind(".") :]
    return Response(_read(asset), media_type=MEDIA_TYPES[suffix], headers=_headers(request))
