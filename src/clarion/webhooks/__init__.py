"""End-of-call report webhooks: signing, the delivery outbox and its workers.

Receivers need only :func:`verify` (and the ``cryptography`` package)::

    from clarion.webhooks import verify, WebhookVerificationError
"""

from clarion.webhooks.receiver import (
    InvalidSignature,
    StaleTimestamp,
    WebhookVerificationError,
    WrongSecret,
    verify,
)

__all__ = [
    "InvalidSignature",
    "StaleTimestamp",
    "WebhookVerificationError",
    "WrongSecret",
    "verify",
]
