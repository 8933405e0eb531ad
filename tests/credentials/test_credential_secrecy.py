"""The API key is write-only: encrypted at rest, and never in a response, an error or a log."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from credential_api import CREDENTIALS, KEY, OTHER_KEY, create_credential

from clarion.database import Database
from secret_resources import assert_never_said, assert_sealed_at_rest, assert_write_only_in_openapi
from support import Api, Tenant


def test_the_key_is_encrypted_at_rest(api: Api, database: Database, app: Any) -> None:
    created = create_credential(api, name="Production")

    assert_sealed_at_rest(
        CREDENTIALS, database, app, api.tenant.organization_id, created["id"], KEY
    )


def test_a_replaced_key_is_encrypted_too(
    api: Api, database: Database, app: Any, credential: dict[str, Any]
) -> None:
    organization_id = api.tenant.organization_id
    before = assert_sealed_at_rest(
        CREDENTIALS, database, app, organization_id, credential["id"], KEY
    )
    api.patch(f"/v1/credential/{credential['id']}", json={"api_key": OTHER_KEY})

    row = assert_sealed_at_rest(
        CREDENTIALS, database, app, organization_id, credential["id"], OTHER_KEY
    )

    assert bytes(row["api_key_encrypted"]) != bytes(before["api_key_encrypted"])


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
    assert_never_said(KEY, responses, access_stream, caplog)


def test_the_openapi_document_marks_the_key_write_only(api: Api) -> None:
    assert_write_only_in_openapi(api, CREDENTIALS)
