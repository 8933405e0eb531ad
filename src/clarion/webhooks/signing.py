"""The server's webhook signing key pair.

Generated once into the data directory, encrypted at rest with the server secret key (see
clarion.storage.secret_box), or given whole by ``CLARION_WEBHOOK_SIGNING_KEY`` (a PEM private key).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from clarion.config import Settings
from clarion.storage.files import create_file_once, keep_private
from clarion.storage.secret_box import load_server_key

KEY_FILE_NAME = "webhook-signing-key.pem"
_SIGNATURE = ec.ECDSA(hashes.SHA256())


class Signer:
    """Signs delivery bodies the way Clarion receivers verify them."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._key = private_key
        self.public_key_pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, timestamp_ms: int, body: bytes) -> str:
        """Hex of the DER ECDSA P-256/SHA-256 signature over ``{timestamp}.{body}``."""
        return self._key.sign(str(timestamp_ms).encode() + b"." + body, _SIGNATURE).hex()


def load_signer(settings: Settings) -> Signer:
    """The configured signing key, or the one in the data directory, created on first use."""
    if settings.webhook_signing_key is not None:
        pem = settings.webhook_signing_key.get_secret_value().encode()
        return Signer(_as_ec(serialization.load_pem_private_key(pem, password=None)))
    password = load_server_key(settings)
    path = settings.data_dir / KEY_FILE_NAME
    if path.exists():
        keep_private(path)
    else:
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
        create_file_once(path, pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=password)
    return Signer(_as_ec(key))


def _as_ec(key: object) -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the webhook signing key must be an EC P-256 private key")
    return key
