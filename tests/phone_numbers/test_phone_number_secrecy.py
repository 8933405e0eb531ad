"""The auth token is write-only: encrypted at rest, and never in a response, an error or a
log."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from phone_number_api import ACCOUNT_SID, OTHER_TOKEN, PHONE_NUMBERS, TOKEN, create_phone_number

from clarion.database import Database
from secret_resources import assert_never_said, assert_sealed_at_rest, assert_write_only_in_openapi
from support import Api, Tenant


def test_the_token_is_encrypted_at_rest(api: Api, database: Database, app: Any) -> None:
    created = create_phone_number(api, name="Front desk")

    row = assert_sealed_at_rest(
        PHONE_NUMBERS, database, app, api.tenant.organization_id, created["id"], TOKEN
    )

    assert row["twilio_auth_token_hint"] == TOKEN[-4:]


def test_a_replaced_token_is_encrypted_too(
    api: Api, database: Database, app: Any, phone_number: dict[str, Any]
) -> None:
    organization_id = api.tenant.organization_id
    before = assert_sealed_at_rest(
        PHONE_NUMBERS, database, app, organization_id, phone_number["id"], TOKEN
    )
    api.patch(f"/v1/phone-number/{phone_number['id']}", json={"twilio_auth_token": OTHER_TOKEN})

    row = assert_sealed_at_rest(
        PHONE_NUMBERS, database, app, organization_id, phone_number["id"], OTHER_TOKEN
    )

    assert bytes(row["twilio_auth_token_encrypted"]) != bytes(before["twilio_auth_token_encrypted"])


def test_the_token_is_in_no_response_error_or_log(
    api: Api,
    other_tenant: Tenant,
    access_stream: io.BytesIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    created = create_phone_number(api, name="Front desk")
    path = f"/v1/phone-number/{created['id']}"
    theirs = Api(api.client, other_tenant)
    valid = {
        "number": "+15555550111",
        "provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": TOKEN,
    }
    mistakes: list[dict[str, Any]] = [
        {**valid, "twilio_auth_token": TOKEN + " "},
        {**valid, "twilio_auth_token": TOKEN * 20},
        {**valid, "twilio_auth_token": [TOKEN]},
        {**valid, "twilio_auth_token": {"token": TOKEN}},
        {**valid, "provider": TOKEN},
        {**valid, "twilio_account_sid": "AC" + TOKEN + "0"},
        {**valid, "twilio_account_sid": TOKEN},
        {**valid, "number": TOKEN},
        {**valid, "name": ""},
        {**valid, "unknown": TOKEN},
        {**valid, "twilio_auth_token_hint": TOKEN},
        {**valid, "assistant_id": 10**15},
        {"number": created["number"], "name": TOKEN[:-1] + "\x00"},
    ]
    responses = [
        api.get(path),
        api.get("/v1/phone-number"),
        api.patch(path, json={"name": "Renamed", "twilio_auth_token": TOKEN}),
        theirs.patch(path, json={"twilio_auth_token": TOKEN}),
        api.post(
            "/v1/phone-number",
            content=b'{"twilio_auth_token": "' + TOKEN.encode() + b'"',
            headers={"Content-Type": "application/json"},
        ),
        api.post(
            "/v1/phone-number",
            content=f"twilio_auth_token={TOKEN}",
            headers={"Content-Type": "text/plain"},
        ),
        # The organization already holds this number: a 409.
        api.post("/v1/phone-number", json={**valid, "number": created["number"]}),
        *(api.post("/v1/phone-number", json=body) for body in mistakes),
        *(api.patch(path, json=body) for body in mistakes),
        api.delete(path),
    ]

    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    assert all(r.status_code >= 400 for r in responses[3:-1])
    assert_never_said(TOKEN, responses, access_stream, caplog)


def test_the_openapi_document_marks_the_token_write_only(api: Api) -> None:
    assert_write_only_in_openapi(api, PHONE_NUMBERS)
