"""Encryption at rest for secrets the server must be able to read back (webhook secrets).

AES-256-GCM with a random nonce per value. The associated data binds a ciphertext to its
organization, so a value copied into another organization's row does not decrypt.
The server key comes from ``CLARION_SECRET_KEY`` or is generated once into the data directory.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Literal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clarion.config import Settings
from clarion.storage.files import create_file_once, keep_private

_FORMAT_V1 = b"\x01"
_NONCE_BYTES = 12
KEY_FILE_NAME = "secret.key"

Purpose = Literal["webhook-secret", "provider-api-key"]
"""What a sealed secret is for: part of what it is sealed to."""
WEBHOOK_SECRET: Purpose = "webhook-secret"  # noqa: S105 - a name, not a secret
PROVIDER_API_KEY: Purpose = "provider-api-key"


class SecretBox:
    """Encrypts and decrypts short secrets with the server key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the server secret key must be 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(
        self, plaintext: str, organization_id: int, purpose: Purpose = WEBHOOK_SECRET
    ) -> bytes:
        """Seal a secret for one organization and one purpose: format byte, nonce, then
        ciphertext and tag."""
        nonce = os.urandom(_NONCE_BYTES)
        context = _context(organization_id, purpose)
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext.encode(), context)

    def decrypt(
        self, ciphertext: bytes, organization_id: int, purpose: Purpose = WEBHOOK_SECRET
    ) -> str:
        """Open a secret sealed for this organization and purpose; fails for any other."""
        if ciphertext[:1] != _FORMAT_V1:
            raise ValueError("unknown secret format")
        nonce, sealed = ciphertext[1 : 1 + _NONCE_BYTES], ciphertext[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, sealed, _context(organization_id, purpose)).decode()


def _context(organization_id: int, purpose: Purpose) -> bytes:
    # A ciphertext copied into a column of another purpose, or another organization's row,
    # does not open there.
    return b"clarion/%s/organization/%d" % (purpose.encode(), organization_id)


def load_server_key(settings: Settings) -> bytes:
    """The configured key, or the one in the data directory, created on first use.

    The command line and the app both read the key as they start, so this is also where an
    existing data directory loses group and others' access (older versions created it open
    to them; see clarion.storage.files). Anyone who can read both the key file and the database can
    decrypt the webhook secrets.
    """
    keep_private(settings.data_dir)
    if settings.secret_key is not None:
        return decode_key(settings.secret_key.get_secret_value())
    path = settings.data_dir / KEY_FILE_NAME
    if path.exists():
        keep_private(path)
    else:
        create_file_once(path, base64.urlsafe_b64encode(os.urandom(32)))
    return decode_key(path.read_text())


def decode_key(text: str) -> bytes:
    """The 32-byte key from its URL-safe base64 text; ValueError if it is not one."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("CLARION_SECRET_KEY must be URL-safe base64 of 32 bytes") from exc
    if len(key) != 32:
        raise ValueError("CLARION_SECRET_KEY must be URL-safe base64 of 32 bytes")
    return key
