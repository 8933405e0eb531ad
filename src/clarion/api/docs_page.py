"""GET /docs and its assets: the API's reference, Swagger UI over the OpenAPI document.

Every file comes from clarion itself, so the page works in a network without the internet:
Swagger UI's script, style sheet and icon from the fastapi-offline package (only its static
files), the page and the script that starts Swagger UI from ``docs_static/``. Not part of the
API (left out of the OpenAPI document).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Template

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from clarion.api.page_headers import DOCS_POLICY, page_headers

router = APIRouter(prefix="/docs", include_in_schema=False)

_OURS = files(__package__) / "docs_static"
_SWAGGER_UI = files("fastapi_offline") / "static"

_JAVASCRIPT = "text/javascript; charset=utf-8"


@dataclass(frozen=True)
class _Asset:
    source: Traversable
    media_type: str


ASSETS: Mapping[str, _Asset] = {
    "swagger-ui-bundle.js": _Asset(_SWAGGER_UI / "swagger-ui-bundle.js", _JAVASCRIPT),
    "swagger-ui.css": _Asset(_SWAGGER_UI / "swagger-ui.css", "text/css; charset=utf-8"),
    "favicon.png": _Asset(_SWAGGER_UI / "favicon.png", "image/png"),
    "docs.js": _Asset(_OURS / "docs.js", _JAVASCRIPT),
}

# The page names each asset with a digest of its content, so a browser may keep an asset for
# a year: an upgrade that changes a file changes the URL the page asks for. The page itself
# is asked for again each time.
_ASSET_CACHING = "public, max-age=31536000, immutable"
_PAGE_CACHING = "no-cache"


@cache
def _content(name: str) -> bytes:
    return ASSETS[name].source.read_bytes()


def _url(name: str) -> str:
    digest = hashlib.sha256(_content(name)).hexdigest()[:16]
    return f"{router.prefix}/assets/{name}?v={digest}"


@cache
def _page() -> bytes:
    template = Template((_OURS / "docs.html").read_text(encoding="utf-8"))
    page = template.substitute(
        favicon=_url("favicon.png"),
        swagger_ui_css=_url("swagger-ui.css"),
        swagger_ui_js=_url("swagger-ui-bundle.js"),
        docs_js=_url("docs.js"),
    )
    return page.encode()


@router.get("")
async def docs_page() -> Response:
    """The API docs page."""
    headers = {**page_headers(DOCS_POLICY), "Cache-Control": _PAGE_CACHING}
    return Response(_page(), media_type="text/html; charset=utf-8", headers=headers)


@router.get("/assets/{name}")
async def docs_asset(name: str) -> Response:
    """One of the files the docs page loads."""
    asset = ASSETS.get(name)
    if asset is None:
        raise HTTPException(404)  # rendered as any unknown route is
    headers = {**page_headers(DOCS_POLICY), "Cache-Control": _ASSET_CACHING}
    return Response(_content(name), media_type=asset.media_type, headers=headers)
