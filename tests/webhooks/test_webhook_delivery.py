"""Deliveries to real receivers: signed, retried, logged, and never to internal addresses."""

from __future__ import annotations

import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from support import Api, assert_error
from webhook_receiver import Answer, Receiver, eventually


def _wait_final(api: Api, delivery_id: int) -> dict[str, Any]:
    def final() -> bool:
        status = api.get(f"/v1/webhook-deliveries/{delivery_id}").json()["status"]
        return status in ("succeeded", "failed")

    eventually(final, f"delivery {delivery_id} to succeed or fail")
    delivery: dict[str, Any] = api.get(f"/v1/webhook-deliveries/{delivery_id}").json()
    return delivery


def _test_report(api: Api, assistant_id: int) -> dict[str, Any]:
    response = api.post(f"/v1/assistant/{assistant_id}/webhook/test")
    assert response.status_code == 202, response.text
    delivery: dict[str, Any] = response.json()
    return delivery


def test_delivery_is_signed_verifiably_with_the_published_key(api: Api, receiver: Receiver) -> None:
    url = receiver.on("/hook", lambda _n: Answer(200))
    assistant = api.create_assistant(webhook_url=url, first_message="Hello from Northside")
    delivery = _test_report(api, assistant["id"])
    (got,) = receiver.wait_for("/hook", 1)

    published = api.client.get("/v1/webhook-signing-key")  # no key needed: it is public
    assert published.status_code == 200
    public_key = serialization.load_pem_public_key(published.content)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    timestamp = got.headers["X-Clarion-Timestamp"]
    # An independent check, straight with the cryptography library.
    public_key.verify(
        bytes.fromhex(got.headers["X-Clarion-Signature"]),
        timestamp.encode() + b"." + got.body,
        ec.ECDSA(hashes.SHA256()),
    )
    assert abs(int(timestamp) / 1000 - time.time()) < 60
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["webhook-id"] == delivery["webhook_id"]
    assert "X-Clarion-Secret" not in got.headers  # the assistant has no secret
    final = _wait_final(api, delivery["id"])
    assert final["status"] == "succeeded"
    assert final["attempts"][0]["status_code"] == 200
    assert final["attempts"][0]["response_excerpt"] == "ok"


def test_the_report_has_clarions_fields(api: Api, receiver: Receiver) -> None:
    import orjson

    url = receiver.on("/hook", lambda _n: Answer(200))
    assistant = api.create_assistant(
        webhook_url=url, first_message="Hello from Northside", voicemail_message="Please call back"
    )
    _test_report(api, assistant["id"])
    (got,) = receiver.wait_for("/hook", 1)
    report = orjson.loads(got.body)

    assert report["assistant_id"] == assistant["id"]
    assert report["id"] == 0 and report["call_status"] == "ended"
    assert report["transcript"].startswith("AI: Hello from Northside\nUser: ")
    # The sample is a web call: no machine answers one, so no voicemail message is left.
    assert "voicemail_message" not in report
    assert set(report) <= {
        "id",
        "assistant_id",
        "started_at",
        "ended_at",
        "call_status",
        "duration_ms",
        "ended_reason",
        "transcript",
        "source_number",
        "destination_number",
        "call_type",
        "analysis",
        "summary",
        "outcome",
        "failure_reason",
        "voicemail_message",
    }


def test_secret_header_only_when_a_secret_is_set(api: Api, receiver: Receiver) -> None:
    url = receiver.on("/secret", lambda _n: Answer(200))
    assistant = api.create_assistant(webhook_url=url, webhook_secret="whsec-receiver-checks")
    _test_report(api, assistant["id"])
    (got,) = receiver.wait_for("/secret", 1)
    assert got.headers["X-Clarion-Secret"] == "whsec-receiver-checks"


def test_failing_receiver_gets_each_retry_with_the_same_webhook_id(
    api: Api, receiver: Receiver
) -> None:
    url = receiver.on("/flaky", lambda n: Answer(500 if n < 3 else 200))
    assistant = api.create_assistant(webhook_url=url)
    delivery = _test_report(api, assistant["id"])

    got = receiver.wait_for("/flaky", 4)
    final = _wait_final(api, delivery["id"])

    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    assert final["status"] == "succeeded"
    assert [a["status_code"] for a in final["attempts"]] == [500, 500, 500, 200]
    assert [a["number"] for a in final["attempts"]] == [1, 2, 3, 4]
    assert final["attempts"][0]["error"] == "receiver answered 500"
    time.sleep(0.3)
    assert len(receiver.to("/flaky")) == 4  # nothing after the success


def test_slow_receiver_times_out_and_is_retried(api: Api, receiver: Receiver) -> None:
    url = receiver.on("/slow", lambda n: Answer(200, delay=2.0 if n == 0 else 0))
    assistant = api.create_assistant(webhook_url=url)
    delivery = _test_report(api, assistant["id"])

    final = _wait_final(api, delivery["id"])

    assert final["status"] == "succeeded"
    first, second = final["attempts"]
    assert first["status_code"] is None and "no answer within 1s" in first["error"]
    assert second["status_code"] == 200


def test_410_stops_at_once(api: Api, receiver: Receiver) -> None:
    url = receiver.on("/gone", lambda _n: Answer(410))
    assistant = api.create_assistant(webhook_url=url)
    final = _wait_final(api, _test_report(api, assistant["id"])["id"])

    assert final["status"] == "failed"
    assert len(final["attempts"]) == 1
    time.sleep(0.3)
    assert len(receiver.to("/gone")) == 1


def test_redirects_are_not_followed(api: Api, receiver: Receiver) -> None:
    elsewhere = receiver.on("/elsewhere", lambda _n: Answer(200))
    url = receiver.on("/moved", lambda _n: Answer(302, headers={"Location": elsewhere}))
    assistant = api.create_assistant(webhook_url=url)
    final = _wait_final(api, _test_report(api, assistant["id"])["id"])

    assert final["status"] == "failed"  # every attempt got the redirect
    assert len(final["attempts"]) == 5
    assert "redirect" in final["attempts"][0]["error"]
    assert receiver.to("/elsewhere") == []


def test_after_the_last_attempt_it_fails_and_can_be_redelivered(
    api: Api, receiver: Receiver
) -> None:
    healthy = False
    url = receiver.on("/down", lambda _n: Answer(200 if healthy else 503))
    assistant = api.create_assistant(webhook_url=url)
    delivery = _test_report(api, assistant["id"])
    failed = _wait_final(api, delivery["id"])
    assert failed["status"] == "failed" and len(failed["attempts"]) == 5
    listed = api.get("/v1/webhook-deliveries", params={"status": "failed"}).json()
    assert [d["id"] for d in listed] == [delivery["id"]]

    healthy = True
    response = api.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver")
    assert response.status_code == 202
    final = _wait_final(api, delivery["id"])

    assert final["status"] == "succeeded"
    assert len(final["attempts"]) == 6
    ids = {r.headers["webhook-id"] for r in receiver.to("/down")}
    assert ids == {delivery["webhook_id"]}


def test_test_report_needs_a_webhook_url(api: Api) -> None:
    assistant = api.create_assistant()
    assert_error(api.post(f"/v1/assistant/{assistant['id']}/webhook/test"), 400, "webhook_url")
    assert_error(api.post("/v1/assistant/999/webhook/test"), 404)
