"""Verifying a delivery, for receivers. Depends on nothing but ``cryptography``.

A delivery is a JSON POST with three headers: ``X-Clarion-Timestamp`` (Unix milliseconds),
``X-Clarion-Signature`` (hex of the DER-encoded ECDSA P-256/SHA-256 signature over
``{timestamp}.{raw body}``) and, when the assistant has one, ``X-Clarion-Secret`` (over https,
or over plain http inside the server's allowed networks). The public key is served as PEM at
``GET /v1/webhook-signing-key``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEFAULT_TOLERANCE_SECONDS = 300.0


class WebhookVerificationError(Exception):
    """The delivery must not be trusted."""


class InvalidSignature(WebhookVerificationError):
    """The signature is missing, malformed, or not made by the server's key over this body."""


class StaleTimestamp(WebhookVerificationError):
    """The timestamp is missing, malformed, or further from now than the tolerance."""


class WrongSecret(WebhookVerificationError):
    """The X-Clarion-Secret header does not carry the expected secret."""


def verify(
    body: bytes,
    headers: Mapping[str, str],
    public_key: str | bytes | ec.EllipticCurvePublicKey,
    secret: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> None:
    """Raise a WebhookVerificationError unless ``body`` and ``headers`` are a genuine, fresh
    delivery (and carry ``secret``, when one is given). ``tolerance`` is in seconds."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get("x-clarion-timestamp", "")
    if not timestamp.isdigit():
        raise StaleTimestamp("X-Clarion-Timestamp is missing or not Unix milliseconds")
    age = (time.time() if now is None else now) - int(timestamp) / 1000
    if abs(age) > tolerance:
        raise StaleTimestamp(f"X-Clarion-Timestamp is {age:.0f}s from now (tolerance {tolerance}s)")
    try:
        signature = bytes.fromhex(lowered.get("x-clarion-signature", ""))
    except ValueError:
        raise InvalidSignature("X-Clarion-Signature is not hex") from None
    key = _public_key(public_key)
    try:
        key.verify(signature, timestamp.encode() + b"." + body, ec.ECDSA(hashes.SHA256()))
    except _BadSignature:
        raise InvalidSignature("X-Clarion-Signature does not match the body") from None
    if secret is not None:
        presented = lowered.get("x-clarion-secret", "")
        if not hmac.compare_digest(presented.encode(), secret.encode()):
            raise WrongSecret("X-Clarion-Secret does not match")


def _public_key(key: str | bytes | ec.EllipticCurvePublicKey) -> ec.EllipticCurvePublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key
    loaded = serialization.load_pem_public_key(key.encode() if isinstance(key, str) else key)
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise TypeError("the webhook signing key is an EC public key")
    return loaded
