"""Twilio's request signature: how a callback or a media stream proves it comes from Twilio.

Twilio signs each request it makes with the account's auth token, in the ``X-Twilio-Signature``
header: the base64 HMAC-SHA1 of the full URL it requested (query string included), followed by
each POST parameter, sorted by name, as its name and value run together. A WebSocket upgrade,
having no parameters, is signed over its URL alone.

The URL is the one Twilio was given, not the one the server sees: behind a proxy that ends TLS
or rewrites the host, the request must be checked against the server's public form of it
(``CLARION_PUBLIC_URL`` and the path), or no signature will ever match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

SIGNATURE_HEADER = "X-Twilio-Signature"

Params = Mapping[str, str] | Iterable[tuple[str, str]]
"""POST parameters: a mapping, or name and value pairs where a name may repeat."""


def expected_signature(auth_token: str, url: str, params: Params = ()) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a request to ``url`` carrying ``params``."""
    signed = url + "".join(name + value for name, value in _sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_valid(auth_token: str, url: str, params: Params, header: str | None) -> bool:
    """Whether ``header`` is Twilio's signature of this request; a missing one is not."""
    if not header or not auth_token:
        return False
    expected = expected_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))


def _sorted(params: Params) -> list[tuple[str, str]]:
    """The parameters by name; a repeated name's values sorted too, as Twilio's own helper
    libraries order them, each distinct value once."""
    pairs = params.items() if isinstance(params, Mapping) else params
    return sorted(set(pairs))
