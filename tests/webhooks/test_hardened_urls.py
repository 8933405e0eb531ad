"""Every delivery ends, whatever its URL or its receiver."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from clarion.assistants.models import Assistant as AssistantRow
from clarion.config import Settings
from clarion.db import Database
from support import Api
from webhook_receiver import Answer, Receiver, eventually


def _wait_final(api: Api, delivery_id: int) -> dict[str, Any]:
    path = f"/v1/webhook-deliveries/{delivery_id}"
    eventually(
        lambda: api.get(path).json()["status"] in ("succeeded", "failed"),
        f"delivery {delivery_id} to succeed or fail",
    )
    delivery: dict[str, Any] = api.get(path).json()
    return delivery


def _send_test_report(api: Api, assistant_id: int) -> int:
    response = api.post(f"/v1/assistant/{assistant_id}/webhook/test")
    assert response.status_code == 202, response.text
    delivery_id: int = response.json()["id"]
    return delivery_id


def _store(database: Database, assistant_id: int, **columns: Any) -> None:
    """Write columns straight to the table, as data from before a rule existed would be."""
    with database.writing() as session:
        session.execute(
            update(AssistantRow).where(AssistantRow.id == assistant_id).values(**columns)
        )


def test_a_stored_url_the_client_cannot_parse_fails_every_attempt_on_record(
    api: Api, database: Database, settings: Settings, receiver: Receiver
) -> None:
    assistant = api.create_assistant(webhook_url=receiver.on("/fine", lambda _n: Answer()))
    unparsable = "http://127.0.0.1:8080\\@example.invalid/p"
    _store(database, assistant["id"], webhook_url=unparsable)

    final = _wait_final(api, _send_test_report(api, assistant["id"]))

    assert final["status"] == "failed"
    assert len(final["attempts"]) == len(settings.retry_delays)
    for recorded in final["attempts"]:
        assert recorded["status_code"] is None
        assert "Invalid URL" in recorded["error"], recorded["error"]


def test_a_stored_secret_that_cannot_be_a_header_fails_every_attempt_on_record(
    api: Api, app: Any, database: Database, settings: Settings, receiver: Receiver
) -> None:
    assistant = api.create_assistant(webhook_url=receiver.on("/hdr", lambda _n: Answer()))
    encrypted = app.state.secret_box.encrypt("line\r\nX-Injected: 1", api.tenant.organization_id)
    _store(database, assistant["id"], webhook_secret_encrypted=encrypted)

    final = _wait_final(api, _send_test_report(api, assistant["id"]))

    assert final["status"] == "failed"
    assert len(final["attempts"]) == len(settings.retry_delays)
    assert all("ValueError" in recorded["error"] for recorded in final["attempts"])
    assert receiver.to("/hdr") == []


@pytest.mark.parametrize("retry_after", ["soon", "\u00b2", "Thu, 99 Foo 2026 25:61:61 GMT"])
def test_an_unreadable_retry_after_is_ignored(
    api: Api, receiver: Receiver, retry_after: str
) -> None:
    url = receiver.on(
        "/busy",
        lambda n: Answer(503, headers={"Retry-After": retry_after}) if n == 0 else Answer(200),
    )
    assistant = api.create_assistant(webhook_url=url)

    final = _wait_final(api, _send_test_report(api, assistant["id"]))

    assert final["status"] == "succeeded"
    assert [a["status_code"] for a in final["attempts"]] == [503, 200]
