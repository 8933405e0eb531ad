"""The security headers of every page clarion serves to a browser, and of the files it loads.

Each page has a Content-Security-Policy that lets it load and fetch from clarion alone (what
it needs of its own, nothing of another origin), and every page refuses to be framed, to
have its files read as another media type, and to send its URL in a Referer header::

    headers = page_headers(CONSOLE_POLICY)
"""

from __future__ import annotations


def _policy(*directives: str) -> str:
    return "; ".join(directives)


CONSOLE_POLICY = _policy(
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
)
"""The console's pages: scripts, styles, images and requests from clarion only."""

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


def talk_policy(public_socket_origin: str | None = None) -> str:
    """The talk page's (/talk): it joins a web call on this server, or on the server's public
    URL (``wss://host[:port]``) when that is another origin; no other host may hear the
    microphone."""
    connect = "connect-src 'self'" + (f" {public_socket_origin}" if public_socket_origin else "")
    return _policy(
        "default-src 'self'",
        connect,
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
    )


TALK_POLICY = talk_policy()
"""The talk page (/talk) on a server without a public URL of its own."""


def page_headers(policy: str) -> dict[str, str]:
    """The headers of a page, or of a file it loads, under ``policy`` (one of the policies
    above): a new dict, to which a page may add its own."""
    return {
        "Content-Security-Policy": policy,
        # frame-ancestors says it to today's browsers; this, to those that predate it.
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
