"""The webhook secret is write-only and encrypted at rest."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from clarion.database import Database
from clarion.storage.secret_box import SecretBox
from support import Api

SECRET = "whsec-do-not-leak-4242"


def _stored_ciphertext(database: Database, assistant_id: int) -> bytes:
    with database.unit() as unit:
        session = unit.session
        stored = session.execute(
            text("SELECT webhook_secret_encrypted FROM assistants WHERE id = :id"),
            {"id": assistant_id},
        ).scalar_one()
    return bytes(stored)


def test_secret_is_encrypted_at_rest_and_decrypts_with_the_server_key(
    api: Api, database: Database, app: object
) -> None:
    created = api.create_assistant(webhook_secret=SECRET)

    stored = _stored_ciphertext(database, created["id"])
    assert SECRET.encode() not in stored
    box: SecretBox = app.state.services.secrets  # type: ignore[attr-defined]
    assert box.decrypt(stored, api.tenant.organization_id) == SECRET


def test_ciphertext_is_bound_to_its_organization(api: Api, database: Database, app: object) -> None:
    stored = _stored_ciphertext(database, api.create_assistant(webhook_secret=SECRET)["id"])
    box: SecretBox = app.state.services.secrets  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017 - any failure to decrypt will do
        box.decrypt(stored, api.tenant.organization_id + 1)


def test_secret_is_never_returned_or_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    created = api.create_assistant(webhook_secret=SECRET)
    responses = [
        api.get(f"/v1/assistant/{created['id']}"),
        api.get("/v1/assistant"),
        api.patch(f"/v1/assistant/{created['id']}", json={"webhook_secret": SECRET + "-2"}),
        api.patch(f"/v1/assistant/{created['id']}", json={"webhook_secret": 5}),
        api.delete(f"/v1/assistant/{created['id']}"),
    ]

    for response in responses:
        assert SECRET not in response.text
    assert created["is_webhook_secret_set"] is True
    assert SECRET not in caplog.text


def test_secret_can_be_set_later_and_cleared(api: Api) -> None:
    created = api.create_assistant()
    assert created["is_webhook_secret_set"] is False

    set_ = api.patch(f"/v1/assistant/{created['id']}", json={"webhook_secret": SECRET}).json()
    assert set_["is_webhook_secret_set"] is True
    cleared = api.patch(f"/v1/assistant/{created['id']}", json={"webhook_secret": None}).json()
    assert cleared["is_webhook_secret_set"] is False
