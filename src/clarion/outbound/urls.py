"""The one check of a URL the server will itself send requests to: an assistant's webhook URL,
a provider credential's base URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from yarl import URL


def check_outbound_url(value: str) -> str:
    """The URL, if the server can send to it: read by yarl, the parser aiohttp sends with, so
    a URL accepted here is never one the sender cannot read; else ValueError says why."""
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        url = URL(value)
    except ValueError as exc:  # a bad port, a backslash in the host, a bad IDNA label, ...
        raise ValueError(f"is not a URL the server can send to: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http or https URL")
    # yarl forgets an empty user part ("https://@host/"); the text still shows one.
    if url.user is not None or url.password is not None or "@" in urlsplit(value).netloc:
        raise ValueError(
            "must not contain a user name or password: it would be shown wherever the URL is"
        )
    return value
