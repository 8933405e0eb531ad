"""The delivery log API: filters, detail, and organization scoping."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.webhooks import outbox
from support import Api, Tenant, assert_error
from webhook_receiver import Answer, Receiver, eventually


def test_list_filters_and_detail(api: Api, receiver: Receiver) -> None:
    ok = receiver.on("/ok", lambda _n: Answer(200))
    one = api.create_assistant(webhook_url=ok)
    two = api.create_assistant(webhook_url=ok)
    first = api.post(f"/v1/assistant/{one['id']}/webhook/test").json()
    second = api.post(f"/v1/assistant/{two['id']}/webhook/test").json()
    receiver.wait_for("/ok", 2)
    # The worker records attempts in batches, a moment after the receiver answers.
    eventually(
        lambda: len(api.get("/v1/webhook-deliveries", params={"status": "succeeded"}).json()) == 2,
        "both deliveries to be recorded",
    )

    everything = api.get("/v1/webhook-deliveries").json()
    assert [d["id"] for d in everything] == [second["id"], first["id"]]
    only_one = api.get("/v1/webhook-deliveries", params={"assistant_id": one["id"]}).json()
    assert [d["id"] for d in only_one] == [first["id"]]
    assert api.get("/v1/webhook-deliveries", params={"status": "pending"}).json() == []
    assert len(api.get("/v1/webhook-deliveries", params={"limit": 1}).json()) == 1
    assert_error(api.get("/v1/webhook-deliveries", params={"status": "lost"}), 400, "status")

    detail = api.get(f"/v1/webhook-deliveries/{first['id']}").json()
    assert detail["payload"]["assistant_id"] == one["id"]
    assert detail["event_type"] == "end-of-call-report"
    assert detail["attempts"][0]["latency_ms"] >= 0
    assert detail["call_id"] is None  # a test report's sample call is no call


def test_deliveries_are_scoped_to_the_organization(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    other_tenant: Tenant,
    receiver: Receiver,
) -> None:
    theirs = Api(client, other_tenant)
    mine = Api(client, tenant)
    assistant = theirs.create_assistant(webhook_url=receiver.on("/x", lambda _n: Answer(200)))
    delivery = theirs.post(f"/v1/assistant/{assistant['id']}/webhook/test").json()

    assert_error(mine.post(f"/v1/assistant/{assistant['id']}/webhook/test"), 404)
    assert_error(mine.get(f"/v1/webhook-deliveries/{delivery['id']}"), 404)
    assert_error(mine.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver"), 404)
    assert mine.get("/v1/webhook-deliveries").json() == []
    assert mine.get("/v1/webhook-deliveries", params={"assistant_id": assistant["id"]}).json() == []
    assert_error(mine.get("/v1/webhook-deliveries/abc"), 404)

    with database.unit(write=True) as unit:
        outbox.enqueue(
            unit,
            organization_id=other_tenant.organization_id,
            assistant_id=assistant["id"],
            url=receiver.on("/y", lambda _n: Answer(200)),
            secret_encrypted=None,
            event_type="end-of-call-report",
            body=b'{"id": 7}',
            now=utcnow(),
            call_id=7,
        )
    assert len(theirs.get("/v1/webhook-deliveries", params={"call_id": 7}).json()) == 1
    assert mine.get("/v1/webhook-deliveries", params={"call_id": 7}).json() == []


def test_the_signing_key_needs_no_authentication(client: TestClient) -> None:
    response = client.get("/v1/webhook-signing-key")
    assert response.status_code == 200
    assert response.text.startswith("-----BEGIN PUBLIC KEY-----")
    assert response.headers["content-type"].startswith("application/x-pem-file")
