"""The API docs at /docs: Swagger UI over the OpenAPI document, every file from clarion.

The browser test opens the page in Debian's headless Chromium, driven by Playwright (the test
never downloads a browser), and watches every request the page makes. Without
/usr/bin/chromium it skips, unless CLARION_REQUIRE_BROWSER=1 (CI) says the browser must be
there.
"""

from __future__ import annotations

import hashlib
import html
import threading
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from browser_support import CHROMIUM, CHROMIUM_ARGS, require_chromium
from clarion.api.page_headers import DOCS_POLICY, page_headers
from support import Tenant

CLINIC_HOST = "clarion.clinic.test"


class _Links(HTMLParser):
    """Every URL a page names: its src, href and data-*-url attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is not None and (name in ("src", "href") or name.endswith("-url")):
                self.urls.append(value)


def _links(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return parser.urls


def _assert_docs_headers(headers: Any) -> None:
    for name, value in page_headers(DOCS_POLICY).items():
        assert headers[name] == value, name


def test_the_page_loads_only_clarions_own_files_served_with_the_pages_security_headers(
    client: TestClient,
) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    _assert_docs_headers(page.headers)
    assert page.headers["cache-control"] == "no-cache"
    assert "<script>" not in page.text  # Swagger UI is started by a file of ours

    linked = _links(page.text)
    assert len(linked) == 5, linked  # the icon, the style sheet, two scripts, the document
    for url in linked:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url

    media_types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    assets = [url for url in linked if url.startswith("/docs/assets/")]
    assert len(assets) == 4, linked
    for url in assets:
        served = client.get(url)
        assert served.status_code == 200, url
        path = urlsplit(url).path
        assert served.headers["content-type"].startswith(media_types[Path(path).suffix]), url
        _assert_docs_headers(served.headers)
        caching = served.headers["cache-control"]
        assert "max-age=31536000" in caching and "immutable" in caching
        # Kept for a year, so the URL names the content: a new version is a new URL.
        version = parse_qs(urlsplit(url).query)["v"][0]
        assert hashlib.sha256(served.content).hexdigest().startswith(version), url
    bundle = client.get(next(url for url in assets if "swagger-ui-bundle.js" in url))
    assert b"SwaggerUIBundle" in bundle.content

    (document_url,) = (url for url in linked if not url.startswith("/docs/"))
    document = client.get(document_url)
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/redoc.standalone.js",  # in the package, but not the page's
        "/docs/assets/docs.html",
        "/docs/assets/",
        "/docs/oauth2-redirect",  # the framework's own docs are off
        "/docs/assets/swagger-ui.css/more",
    ],
)
def test_any_other_file_is_not_found(client: TestClient, path: str) -> None:
    missing = client.get(path)
    assert missing.status_code == 404
    assert missing.json() == {"error": 404, "message": f"no route for GET {path}"}


def test_a_path_outside_the_assets_is_not_found(client: TestClient) -> None:
    missing = client.get("/docs/assets/..%2Fdocs_static%2Fdocs.js")
    assert missing.status_code == 404
    assert missing.json()["error"] == 404


def test_the_docs_are_not_part_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")]


# Every violation of the page's policy, as the browser reports it to the page.
RECORD_VIOLATIONS = """
window.policyViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.policyViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Page]:
    """A page in headless Chromium with a fresh profile."""
    require_chromium("the docs page's browser tests")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                # As in a clinic's network: clarion under a name of its own, no other host
                # to be reached.
                f"--host-resolver-rules=MAP {CLINIC_HOST} 127.0.0.1, EXCLUDE 127.0.0.1, "
                "MAP * ~NOTFOUND",
            ],
            viewport={"width": 1200, "height": 900},
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()


def test_the_page_shows_the_api_fetching_nothing_from_another_origin(
    served: Callable[[Tenant], Any], tenant: Tenant, browser_page: Page
) -> None:
    served_at = urlsplit(served(tenant).serving.base)
    # Swagger UI treats localhost and 127.0.0.1 apart (its public validator): open the page
    # as a clinic does, by a host name.
    base = f"http://{CLINIC_HOST}:{served_at.port}"
    page = browser_page
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{base}/docs")
    expect(page.get_by_text("List Calls").first).to_be_visible()
    expect(page.locator(".version-stamp").first).to_contain_text("OAS 3.1")
    # Open an operation and every schema, as a reader would, to draw more of Swagger UI.
    page.locator(".opblock-summary-control").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    expand = page.locator("section.models .json-schema-2020-12-expand-deep-button")
    expect(expand.first).to_be_visible()
    for index in range(expand.count()):
        expand.nth(index).click()
    expect(page.locator("section.models .json-schema-2020-12-property").first).to_be_visible()

    assert f"{base}/openapi.json" in requested
    assert any("/docs/assets/swagger-ui-bundle.js" in url for url in requested)
    elsewhere = [url for url in requested if not url.startswith(f"{base}/")]
    assert not elsewhere
    assert page.evaluate("window.policyViolations") == []
    assert not errors


@pytest.fixture
def another_site() -> Iterator[str]:
    """A site on another origin (127.0.0.1, another port) whose page /frame?<url> frames
    <url>."""

    class Framing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            framed = html.escape(unquote(urlsplit(self.path).query))
            body = f'<!doctype html><iframe src="{framed}" width="800" height="600"></iframe>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Framing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", ["/docs", "/talk"])
def test_another_site_cannot_frame_the_pages(
    served: Callable[[Tenant], Any],
    tenant: Tenant,
    browser_page: Page,
    another_site: str,
    path: str,
) -> None:
    base = served(tenant).serving.base
    page = browser_page
    # What is not a page may be framed: the other site and the browser are as the test thinks.
    page.goto(f"{another_site}/frame?{quote(f'{base}/openapi.json')}")
    (document,) = (frame for frame in page.frames if frame != page.main_frame)
    assert document.url == f"{base}/openapi.json"
    assert "Clarion API" in document.content()

    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        page.goto(f"{another_site}/frame?{quote(f'{base}{path}')}")
    (framed,) = (frame for frame in page.frames if frame != page.main_frame)
    assert not framed.url.startswith(base), framed.url
