"""The API key format.

A key is ``clarion_sk_`` followed by 43 URL-safe characters (256 random bits). The fixed prefix
lets secret scanners and people find a leaked key in logs and code. Because a key carries that
much entropy, a single SHA-256 is the right way to store it: a slow password hash would add
nothing against guessing and would cost every request.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "clarion_sk_"
_KEY_LENGTH = len(KEY_PREFIX) + 43


def generate_key() -> str:
    """A new API key: the fixed prefix and 256 random bits."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """The start of a key, kept so people can tell their keys apart without the secret."""
    return key[: len(KEY_PREFIX) + 6]


def looks_like_key(candidate: str) -> bool:
    """Cheap shape check, so that garbage never reaches the database."""
    return len(candidate) == _KEY_LENGTH and candidate.startswith(KEY_PREFIX)
