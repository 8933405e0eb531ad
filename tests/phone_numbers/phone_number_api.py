"""What the phone number tests share: a Twilio account's SID and auth tokens that are easy to
look for where they must never be, and a way to create a number through the API."""

from __future__ import annotations

from typing import Any

from support import Api

NUMBER = "+15555550123"
OTHER_NUMBER = "+442071838750"
ACCOUNT_SID = "AC" + "3f2a9c1e7b5d4068" * 2
OTHER_ACCOUNT_SID = "AC" + "0123456789ABCDEF" * 2
# Twilio's auth tokens are 32 hexadecimal digits: long enough to be shown with a hint.
TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
OTHER_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def create_phone_number(api: Api, **fields: Any) -> dict[str, Any]:
    """Create a phone number (NUMBER at Twilio, with ACCOUNT_SID and TOKEN, unless told
    otherwise); its JSON."""
    body = {
        "number": NUMBER,
        "provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": TOKEN,
        **fields,
    }
    response = api.post("/v1/phone-number", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def leaks(text: str, token: str) -> bool:
    """Whether ``text`` holds the token, or any part of it beyond the 4 characters of the
    hint."""
    return any(token[start : start + 5] in text for start in range(len(token) - 4))
