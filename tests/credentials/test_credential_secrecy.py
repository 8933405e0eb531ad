"""The API key is write-only: encrypted at rest, and never in a response, an error or a log."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from credential_api import KEY, OTHER_KEY, create_credential, leaks
from sqlalchemy import text

from clarion.database import Database
from clarion.storage.secret_box import PROVIDER_API_KEY, SecretBox
from support import Api, Tenant


def _stored_row(database: Database, credential_id: int) -> dict[str, Any]:
    with database.unit() as unit:
        row = unit.session.execute(
            text("SELECT * FROM provider_credentials WHERE id = :id"), {"id": credential_id}
        )
        return dict(row.mappings().one())


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def test_the_key_is_encrypted_at_rest(api: Api, database: Database, app: Any) -> None:
    created = create_credential(api, name="Production")

    row = _stored_row(database, created["id"])

    assert not any(leaks(_as_text(value), KEY) for value in row.values())
    ciphertext = bytes(row["api_key_encrypted"])
    box: SecretBox = app.state.services.secrets
    assert box.decrypt(ciphertext, api.tenant.organization_id, PROVIDER_API_KEY) == KEY
    with pytest.raises(Exception):  # noqa: B017 - bound to its organization: any failure
        box.decrypt(ciphertext, api.tenant.organization_id + 1, PROVIDER_API_KEY)
    with pytest.raises(Exception):  # noqa: B017 - and to its purpose: not a webhook secret
        box.decrypt(ciphertext, api.tenant.organization_id)


def test_a_replaced_key_is_encrypted_too(
    api: Api, database: Database, app: Any, credential: dict[str, Any]
) -> None:
    before = bytes(_stored_row(database, credential["id"])["api_key_encrypted"])
    api.patch(f"/v1/credential/{credential['id']}", json={"api_key": OTHER_KEY})

    row = _stored_row(database, credential["id"])

    assert not any(leaks(_as_text(value), OTHER_KEY) for value in row.values())
    assert bytes(row["api_key_encrypted"]) != before
    box: SecretBox = app.state.services.secrets
    ciphertext = bytes(row["api_key_encrypted"])
    assert box.decrypt(ciphertext, api.tenant.organization_id, PROVIDER_API_KEY) == OTHER_KEY


def _everything_said(response: Any) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return f"{response.status_code}\n{headers}\n{response.text}"


def test_the_key_is_in_no_response_error_or_log(
    api: Api,
    other_tenant: Tenant,
    access_stream: io.BytesIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    created = create_credential(api, name="Production")
    path = f"/v1/credential/{created['id']}"
    theirs = Api(api.client, other_tenant)
    mistakes: list[dict[str, Any]] = [
        {"provider": "openai", "api_key": KEY + " "},
        {"provider": "openai", "api_key": KEY * 20},
        {"provider": "openai", "api_key": [KEY]},
        {"provider": "openai", "api_key": {"key": KEY}},
        {"provider": KEY, "api_key": KEY},
        {"provider": "openai", "api_key": KEY, "name": ""},
        {"provider": "openai", "api_key": KEY, "base_url": f"https://x:{KEY}@example.org/"},
        {"provider": "openai", "api_key": KEY, "unknown": KEY},
        {"provider": "openai", "api_key": KEY, "api_key_hint": KEY},
        {"provider": "openai", "name": KEY[:-1] + "\x00"},
    ]
    responses = [
        api.get(path),
        api.get("/v1/credential"),
        api.patch(path, json={"name": "Renamed", "api_key": KEY}),
        api.patch(path, json={"provider": "anthropic", "api_key": KEY}),
        theirs.patch(path, json={"api_key": KEY}),
        api.post(
            "/v1/credential",
            content=b'{"provider": "openai", "api_key": "' + KEY.encode() + b'"',
            headers={"Content-Type": "application/json"},
        ),
        api.post(
            "/v1/credential",
            content=f"api_key={KEY}",
            headers={"Content-Type": "text/plain"},
        ),
        *(api.post("/v1/credential", json=body) for body in mistakes),
        *(api.patch(path, json=body) for body in mistakes),
        api.delete(path),
    ]

    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    assert all(r.status_code >= 400 for r in responses[3:-1])
    for response in responses:
        assert not leaks(_everything_said(response), KEY), response.text
    logged = access_stream.getvalue().decode() + caplog.text
    assert access_stream.getvalue().count(b"\n") >= len(responses)
    assert not leaks(logged, KEY)


def test_the_openapi_document_marks_the_key_write_only(api: Api) -> None:
    document = api.get("/openapi.json").json()
    operations = (
        document["paths"]["/credential"]["post"],
        document["paths"]["/credential/{credentialId}"]["patch"],
    )
    for operation in operations:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["api_key"]["writeOnly"] is True
    assert "api_key" not in document["components"]["schemas"]["Credential"]["properties"]
