"""A URL's WebSocket form and back: the same address, with the connection upgraded or not."""

from __future__ import annotations

_TO_SOCKET = {"https": "wss", "http": "ws"}
_TO_PAGE = {scheme: page for page, scheme in _TO_SOCKET.items()}


def socket_url(url: str) -> str:
    """``url`` as a WebSocket's: https becomes wss, http ws (ws and wss stay)."""
    return _with_scheme(url, _TO_SOCKET)


def page_url(url: str) -> str:
    """``url`` as a page's: wss becomes https, ws http (http and https stay)."""
    return _with_scheme(url, _TO_PAGE)


def _with_scheme(url: str, schemes: dict[str, str]) -> str:
    scheme, sep, rest = url.partition("://")
    return schemes.get(scheme.lower(), scheme) + sep + rest
