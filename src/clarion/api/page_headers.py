"""The security headers of every page clarion serves to a browser, and of the files it loads.

Each page has a Content-Security-Policy that lets it load and fetch from clarion alone (what
it needs of its own, nothing of another origin), and every page refuses to be framed, to
have its files read as another media type, and to send its URL in a Referer header. A page
that holds a call also says where that call's socket may be (the server's public URL)::

    headers = held_page_headers(console_policy(public_socket_origin(public_url)))
"""

from __future__ import annotations

from urllib.parse import urlsplit

from clarion.urls import socket_url


def _policy(*directives: str) -> str:
    return "; ".join(directives)


def public_socket_origin(public_url: str | None) -> str | None:
    """Where web calls are joined when the server's public URL is set (``wss://host[:port]``):
    the one origin besides its own that a page holding a call may connect to."""
    if not public_url:
        return None
    parts = urlsplit(socket_url(public_url))
    return f"{parts.scheme}://{parts.netloc}"


def _connect(public_socket: str | None) -> str:
    return "connect-src 'self'" + (f" {public_socket}" if public_socket else "")


def console_policy(public_socket: str | None = None) -> str:
    """The console's pages: scripts, styles, images and requests from clarion only (and its
    public URL's web call sockets, for a call tried in the page)."""
    return _policy(
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        _connect(public_socket),
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    )


DOCS_POLICY = _policy(
    "default-src 'self'",
    "script-src 'self'",
    # No 'unsafe-inline': Swagger UI sets its elements' styles as DOM properties, which a
    # policy allows, and loads no style but its style sheet.
    "style-src 'self'",
    # Its style sheet draws its icons as data: SVG images.
    "img-src 'self' data:",
    "font-src 'self'",
    # The OpenAPI document; "Try it out" sends its requests to this server too.
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
)
"""The API docs page (/docs): Swagger UI, served by clarion."""


def talk_policy(public_socket: str | None = None) -> str:
    """The talk page's (/talk): it joins a web call on this server, or on the server's public
    URL when that is another origin; no other host may hear the microphone."""
    return _policy(
        "default-src 'self'",
        _connect(public_socket),
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
    )


def page_headers(policy: str) -> dict[str, str]:
    """The headers of a page, or of a file it loads, under ``policy`` (one of the policies
    here): a new dict, to which a page may add its own."""
    return {
        "Content-Security-Policy": policy,
        # frame-ancestors says it to today's browsers; this, to those that predate it.
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def held_page_headers(policy: str, *, microphone: bool = False) -> dict[str, str]:
    """The headers of a page that holds patient conversations, and of its files: never kept
    by a cache along the way, and no device of the browser's but the microphone it asks for."""
    return {
        **page_headers(policy),
        "Cache-Control": "no-store",
        "Permissions-Policy": f"microphone={'(self)' if microphone else '()'}, camera=(), "
        "geolocation=()",
    }
