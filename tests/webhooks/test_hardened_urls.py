"""Every delivery ends, whatever its URL or its receiver; secrets stay off the open internet."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update

from clarion.assistants.models import AssistantRow
from clarion.config import Settings
from clarion.database import Database
from clarion.outbound.guard import Network
from clarion.storage.secret_box import SecretBox
from clarion.webhooks.receiver import WrongSecret, verify
from clarion.webhooks.sender import Outcome, attempt
from clarion.webhooks.signing import Signer
from support import Api
from webhook_receiver import Answer, Receiver, eventually

SECRET = "whsec-only-where-it-is-safe"


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
    with database.unit(write=True) as unit:
        session = unit.session
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
    encrypted = app.state.services.secrets.encrypt(
        "line\r\nX-Injected: 1", api.tenant.organization_id
    )
    _store(database, assistant["id"], webhook_secret_encrypted=encrypted)

    final = _wait_final(api, _send_test_report(api, assistant["id"]))

    assert final["status"] == "failed"
    assert len(final["attempts"]) == len(settings.retry_delays)
    assert all("ValueError" in recorded["error"] for recorded in final["attempts"])
    assert receiver.to("/hdr") == []


def test_a_stored_secret_the_server_key_cannot_open_fails_every_attempt_on_record(
    api: Api, database: Database, settings: Settings, receiver: Receiver
) -> None:
    assistant = api.create_assistant(webhook_url=receiver.on("/rekeyed", lambda _n: Answer()))
    # Sealed under another server key: what a changed CLARION_SECRET_KEY leaves behind.
    other_box = SecretBox(bytes(32))
    _store(
        database,
        assistant["id"],
        webhook_secret_encrypted=other_box.encrypt("old-secret", api.tenant.organization_id),
    )

    final = _wait_final(api, _send_test_report(api, assistant["id"]))

    assert final["status"] == "failed"
    assert len(final["attempts"]) == len(settings.retry_delays)
    assert all("server key" in recorded["error"] for recorded in final["attempts"])
    assert receiver.to("/rekeyed") == []


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


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_secret_goes_over_http_to_an_allowed_network(
    api: Api, receiver: Receiver, host: str
) -> None:
    url = receiver.on("/onprem", lambda _n: Answer()).replace("127.0.0.1", host)
    assistant = api.create_assistant(webhook_url=url, webhook_secret=SECRET)

    final = _wait_final(api, _send_test_report(api, assistant["id"]))

    (got,) = receiver.to("/onprem")
    assert final["status"] == "succeeded"
    assert got.headers["X-Clarion-Secret"] == SECRET
    assert got.headers["Host"] == url.removeprefix("http://").removesuffix("/onprem")


SIGNER = Signer(ec.generate_private_key(ec.SECP256R1()))


def _attempt(url: str, allowed: Sequence[Network]) -> Outcome:
    """One attempt through a client that reaches the receiver as it would a public host."""

    async def send() -> Outcome:
        async with aiohttp.ClientSession() as session:
            return await attempt(session, SIGNER, url, b"{}", "evt_1", SECRET, 5.0, allowed)

    return asyncio.run(send())


def test_over_http_outside_the_allowed_networks_the_secret_is_left_out(
    receiver: Receiver,
) -> None:
    url = receiver.on("/public", lambda _n: Answer()).replace("127.0.0.1", "localhost")

    outside = _attempt(url, [])
    inside = _attempt(url, [ipaddress.ip_network("127.0.0.0/8")])

    assert outside.succeeded and inside.succeeded
    left_out, sent = receiver.to("/public")
    assert "X-Clarion-Secret" not in left_out.headers
    verify(left_out.body, left_out.headers, SIGNER.public_key_pem)  # the signature still holds
    with pytest.raises(WrongSecret):
        verify(left_out.body, left_out.headers, SIGNER.public_key_pem, secret=SECRET)
    assert sent.headers["X-Clarion-Secret"] == SECRET
    verify(sent.body, sent.headers, SIGNER.public_key_pem, secret=SECRET)
