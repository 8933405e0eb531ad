"""clarion.webhooks.verify: what a receiver runs on every delivery."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from clarion.webhooks import InvalidSignature, StaleTimestamp, WrongSecret, verify
from clarion.webhooks.signing import Signer

BODY = b'{"id": 0, "assistant_id": 7, "call_status": "ended"}'


@pytest.fixture
def signer() -> Signer:
    return Signer(ec.generate_private_key(ec.SECP256R1()))


def _headers(signer: Signer, body: bytes = BODY, at: float | None = None) -> dict[str, str]:
    timestamp = int((time.time() if at is None else at) * 1000)
    return {
        "X-Clarion-Timestamp": str(timestamp),
        "X-Clarion-Signature": signer.sign(timestamp, body),
        "X-Clarion-Secret": "whsec-1",
    }


def test_a_genuine_delivery_verifies(signer: Signer) -> None:
    verify(BODY, _headers(signer), signer.public_key_pem, secret="whsec-1")
    lowered = {k.lower(): v for k, v in _headers(signer).items()}
    verify(BODY, lowered, signer.public_key_pem.decode())


def test_a_changed_body_or_another_key_fails(signer: Signer) -> None:
    headers = _headers(signer)
    with pytest.raises(InvalidSignature):
        verify(BODY.replace(b"7", b"8"), headers, signer.public_key_pem)
    other = Signer(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, other.public_key_pem)
    with pytest.raises(InvalidSignature):
        verify(BODY, {**headers, "X-Clarion-Signature": "zz"}, signer.public_key_pem)


def test_a_stale_or_missing_timestamp_fails(signer: Signer) -> None:
    with pytest.raises(StaleTimestamp):
        verify(BODY, _headers(signer, at=time.time() - 301), signer.public_key_pem)
    verify(BODY, _headers(signer, at=time.time() - 100), signer.public_key_pem)
    with pytest.raises(StaleTimestamp):
        verify(BODY, _headers(signer, at=time.time() - 100), signer.public_key_pem, tolerance=60)
    headers = _headers(signer)
    del headers["X-Clarion-Timestamp"]
    with pytest.raises(StaleTimestamp):
        verify(BODY, headers, signer.public_key_pem)


def test_a_wrong_or_missing_secret_fails(signer: Signer) -> None:
    with pytest.raises(WrongSecret):
        verify(BODY, _headers(signer), signer.public_key_pem, secret="whsec-2")
    headers = _headers(signer)
    del headers["X-Clarion-Secret"]
    with pytest.raises(WrongSecret):
        verify(BODY, headers, signer.public_key_pem, secret="whsec-1")
