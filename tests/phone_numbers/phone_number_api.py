"""What the phone number tests share: a Twilio account's SID and auth tokens that are easy to
look for where they must never be, a way to create a number through the API, and the phone
number as the checks of every resource with a secret see it."""

from __future__ import annotations

from typing import Any

from secret_resources import SecretResource
from support import Api

NUMBER = "+15555550123"
OTHER_NUMBER = "+442071838750"
ACCOUNT_SID = "AC" + "3f2a9c1e7b5d4068" * 2
OTHER_ACCOUNT_SID = "AC" + "0123456789ABCDEF" * 2
# Twilio's auth tokens are 32 hexadecimal digits: long enough to be shown with a hint.
TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
OTHER_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

PHONE_NUMBERS = SecretResource(
    path="/v1/phone-number",
    noun="phone number",
    table="phone_numbers",
    secret="twilio_auth_token",
    schema="PhoneNumber",
    id_parameter="phoneNumberId",
)


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
