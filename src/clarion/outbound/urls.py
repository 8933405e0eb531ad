"""The one check of a URL the server will itself send requests to: an assistant's webhook URL,
a provider credential's base URL (a streaming transcriber's is a WebSocket's)."""

from __future__ import annotations

from urllib.parse import urlsplit

from yarl import URL

HTTP_SCHEMES = ("http", "https")
SOCKET_SCHEMES = ("ws", "wss")
"""A WebSocket's schemes: the same connection as http and https, upgraded."""


def check_outbound_url(value: str, schemes: tuple[str, ...] = HTTP_SCHEMES) -> str:
    """The URL, if the server can send to it: read by yarl, the parser aiohttp sends with, so
    a URL accepted here is never one the sender cannot read; else ValueError says why.
    ``schemes`` are those it may have (http and https unless told)."""
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        url = URL(value)
    except ValueError as exc:  # a bad port, a backslash in the host, a bad IDNA label, ...
        raise ValueError(f"is not a URL the server can send to: {exc}") from None
    if url.scheme not in schemes or not url.host:
        raise ValueError(f"must be an absolute {_either(schemes)} URL")
    # yarl forgets an empty user part ("https://@host/"); the text still shows one.
    if url.user is not None or url.password is not None or "@" in urlsplit(value).netloc:
        raise ValueError(
            "must not contain a user name or password: it would be shown wherever the URL is"
        )
    return value


def check_http_or_socket_url(value: str) -> str:
    """:func:`check_outbound_url` for a URL that may also be a WebSocket's (ws, wss)."""
    return check_outbound_url(value, HTTP_SCHEMES + SOCKET_SCHEMES)


def _either(schemes: tuple[str, ...]) -> str:
    return ", ".join(schemes[:-1]) + " or " + schemes[-1]
