"""Every invalid phone number body is a 400 naming the field, and creates or changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from phone_number_api import ACCOUNT_SID, NUMBER, PHONE_NUMBERS, TOKEN, create_phone_number

from secret_resources import assert_refused
from support import Api, assert_error

JSON = {"Content-Type": "application/json"}

RAW_BODIES = [
    (b"", "empty"),
    (b"  \n ", "empty"),
    (b"{not json", "not valid JSON"),
    (b'{"number": "+15555550123", "twilio_auth_token": "9f', "not valid JSON"),
    (b"[]", "JSON object"),
    (b'"+15555550123"', "JSON object"),
    (b"null", "JSON object"),
    (b"7", "JSON object"),
]


@pytest.mark.parametrize(("raw", "named"), RAW_BODIES)
def test_body_must_be_a_json_object(
    api: Api, phone_number: dict[str, Any], raw: bytes, named: str
) -> None:
    assert_refused(
        api, PHONE_NUMBERS, phone_number, 400, named, create=raw, change=raw, headers=JSON
    )


VALID = {
    "number": "+15555550999",
    "provider": "twilio",
    "twilio_account_sid": ACCOUNT_SID,
    "twilio_auth_token": TOKEN,
}


def _without(name: str) -> dict[str, Any]:
    return {key: value for key, value in VALID.items() if key != name}


INVALID_CREATE = [
    (_without("number"), "number is required"),
    (_without("provider"), "provider is required"),
    (_without("twilio_account_sid"), "twilio_account_sid is required"),
    (_without("twilio_auth_token"), "twilio_auth_token is required"),
    ({**VALID, "provider": "vonage"}, "provider"),
    ({**VALID, "provider": "Twilio"}, "provider"),
    ({**VALID, "provider": 1}, "provider"),
]
for _required in ("number", "provider", "twilio_account_sid", "twilio_auth_token"):
    INVALID_CREATE.append(({**VALID, _required: None}, f"{_required}: cannot be null"))

INVALID_ANYWHERE = [
    ({"number": "15555550123"}, "number"),
    ({"number": "+1 555 555 0123"}, "number"),
    ({"number": "+1-555-555-0123"}, "number"),
    ({"number": "+05555550123"}, "number"),
    ({"number": "+123456"}, "number"),
    ({"number": "+1234567890123456"}, "number"),
    ({"number": "+15555550123\n"}, "number"),
    ({"number": "+1555555012٣"}, "number"),
    ({"number": ""}, "number"),
    ({"number": 15555550123}, "number"),
    ({"twilio_account_sid": "AC" + "0" * 31}, "twilio_account_sid"),
    ({"twilio_account_sid": "AC" + "0" * 33}, "twilio_account_sid"),
    ({"twilio_account_sid": "ac" + "0" * 32}, "twilio_account_sid"),
    ({"twilio_account_sid": "PN" + "0" * 32}, "twilio_account_sid"),
    ({"twilio_account_sid": "AC" + "g" * 32}, "twilio_account_sid"),
    ({"twilio_account_sid": " AC" + "0" * 32}, "twilio_account_sid"),
    ({"twilio_account_sid": ""}, "twilio_account_sid"),
    ({"twilio_account_sid": 7}, "twilio_account_sid"),
    ({"twilio_auth_token": ""}, "twilio_auth_token"),
    ({"twilio_auth_token": "t" * 257}, "twilio_auth_token"),
    ({"twilio_auth_token": "with space"}, "twilio_auth_token"),
    ({"twilio_auth_token": "trailing\n"}, "twilio_auth_token"),
    ({"twilio_auth_token": "\ttab"}, "twilio_auth_token"),
    ({"twilio_auth_token": "nul\x00"}, "twilio_auth_token"),
    ({"twilio_auth_token": "ключ"}, "twilio_auth_token"),
    ({"twilio_auth_token": 12345}, "twilio_auth_token"),
    ({"twilio_auth_token": [TOKEN]}, "twilio_auth_token"),
    ({"assistant_id": 0}, "assistant_id"),
    ({"assistant_id": -1}, "assistant_id"),
    ({"assistant_id": 10**18}, "assistant_id"),
    ({"assistant_id": "1"}, "assistant_id"),
    ({"assistant_id": 1.0}, "assistant_id"),
    ({"assistant_id": True}, "assistant_id"),
    ({"assistant_id": 999_999}, "assistant_id: assistant 999999 not found"),
    ({"name": ""}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"name": 5}, "name"),
    ({"name": "with \x00 NUL"}, "name"),
    ({"id": 5}, "'id' is read-only"),
    ({"organization_id": 2}, "'organization_id' is read-only"),
    ({"is_twilio_auth_token_set": False}, "'is_twilio_auth_token_set' is read-only"),
    ({"twilio_auth_token_hint": "…abcd"}, "'twilio_auth_token_hint' is read-only"),
    ({"created_at": "2026-01-01T00:00:00Z"}, "'created_at' is read-only"),
    ({"updated_at": "2026-01-01T00:00:00Z"}, "'updated_at' is read-only"),
    ({"phone_number": NUMBER}, "unknown field 'phone_number'"),
    ({"twilioAuthToken": TOKEN}, "unknown field 'twilioAuthToken'"),
]


@pytest.mark.parametrize(
    ("body", "named"),
    INVALID_CREATE + [({**VALID, **body}, named) for body, named in INVALID_ANYWHERE],
)
def test_invalid_create_is_400_and_creates_nothing(
    api: Api, body: dict[str, Any], named: str
) -> None:
    assert_error(api.post("/v1/phone-number", json=body), 400, named)
    assert api.get("/v1/phone-number").json() == []


@pytest.mark.parametrize(("body", "named"), INVALID_ANYWHERE)
def test_invalid_patch_is_400_and_changes_nothing(
    api: Api, phone_number: dict[str, Any], body: dict[str, Any], named: str
) -> None:
    path = f"/v1/phone-number/{phone_number['id']}"
    # A valid change alongside: it must not be applied either.
    assert_error(api.patch(path, json={"name": "Changed", **body}), 400, named)
    assert api.get(path).json() == phone_number


def test_boundaries_are_accepted(api: Api) -> None:
    visible = "".join(chr(code) for code in range(0x21, 0x7F))
    longest_token = (visible * 3)[:256]
    created = create_phone_number(
        api,
        number="+1234567",
        twilio_account_sid="AC" + "0123456789abcdefABCDEF0123456789",
        twilio_auth_token=longest_token,
        name="N" * 200,
    )
    assert created["number"] == "+1234567"
    assert created["name"] == "N" * 200
    assert created["twilio_auth_token_hint"] == "…" + longest_token[-4:]
    assert create_phone_number(api, number="+123456789012345")["number"] == "+123456789012345"
    for line, name in enumerate(("Ä", "Клиника Север 🏥", "1")):
        assert create_phone_number(api, number=f"+4420718387{line}0", name=name)["name"] == name


def test_non_json_content_type_is_415(api: Api, phone_number: dict[str, Any]) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = f"number=%2B15555550999&twilio_auth_token={TOKEN}"
    assert_refused(
        api,
        PHONE_NUMBERS,
        phone_number,
        415,
        "Content-Type",
        create=body,
        change="name=x",
        headers=form,
    )


def test_oversized_body_is_413(api: Api, phone_number: dict[str, Any]) -> None:
    body = b'{"number": "+15555550999", "name": "' + b"n" * (1024 * 1024) + b'"}'
    assert_refused(
        api, PHONE_NUMBERS, phone_number, 413, "1048576", create=body, change=body, headers=JSON
    )
