"""The auth token is write-only: encrypted at rest, and never in a response, an error or a
log."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from phone_number_api import ACCOUNT_SID, OTHER_TOKEN, TOKEN, create_phone_number, leaks
from sqlalchemy import text

from clarion.database import Database
from clarion.storage.secret_box import PROVIDER_API_KEY, SecretBox
from support import Api, Tenant


def _stored_row(database: Database, phone_number_id: int) -> dict[str, Any]:
    with database.unit() as unit:
        row = unit.session.execute(
            text("SELECT * FROM phone_numbers WHERE id = :id"), {"id": phone_number_id}
        )
        return dict(row.mappings().one())


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def test_the_token_is_encrypted_at_rest(api: Api, database: Database, app: Any) -> None:
    created = create_phone_number(api, name="Front desk")

    row = _stored_row(database, created["id"])

    assert not any(leaks(_as_text(value), TOKEN) for value in row.values())
    assert row["twilio_auth_token_hint"] == TOKEN[-4:]
    ciphertext = bytes(row["twilio_auth_token_encrypted"])
    box: SecretBox = app.state.services.secrets
    assert box.decrypt(ciphertext, api.tenant.organization_id, PROVIDER_API_KEY) == TOKEN
    with pytest.raises(Exception):  # noqa: B017 - bound to its organization: any failure
        box.decrypt(ciphertext, api.tenant.organization_id + 1, PROVIDER_API_KEY)
    with pytest.raises(Exception):  # noqa: B017 - and to its purpose: not a webhook secret
        box.decrypt(ciphertext, api.tenant.organization_id)


def test_a_replaced_token_is_encrypted_too(
    api: Api, database: Database, app: Any, phone_number: dict[str, Any]
) -> None:
    before = bytes(_stored_row(database, phone_number["id"])["twilio_auth_token_encrypted"])
    api.patch(f"/v1/phone-number/{phone_number['id']}", json={"twilio_auth_token": OTHER_TOKEN})

    row = _stored_row(database, phone_number["id"])

    assert not any(leaks(_as_text(value), OTHER_TOKEN) for value in row.values())
    assert bytes(row["twilio_auth_token_encrypted"]) != before
    box: SecretBox = app.state.services.secrets
    ciphertext = bytes(row["twilio_auth_token_encrypted"])
    assert box.decrypt(ciphertext, api.tenant.organization_id, PROVIDER_API_KEY) == OTHER_TOKEN


def _everything_said(response: Any) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return f"{response.status_code}\n{headers}\n{response.text}"


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
    for response in responses:
        assert not leaks(_everything_said(response), TOKEN), response.text
    logged = access_stream.getvalue().decode() + caplog.text
    assert access_stream.getvalue().count(b"\n") >= len(responses)
    assert not leaks(logged, TOKEN)


def test_the_openapi_document_marks_the_token_write_only(api: Api) -> None:
    document = api.get("/openapi.json").json()
    operations = (
        document["paths"]["/phone-number"]["post"],
        document["paths"]["/phone-number/{phoneNumberId}"]["patch"],
    )
    for operation in operations:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["twilio_auth_token"]["writeOnly"] is True
    shown = document["components"]["schemas"]["PhoneNumber"]["properties"]
    assert "twilio_auth_token" not in shown
    assert "is_twilio_auth_token_set" in shown
