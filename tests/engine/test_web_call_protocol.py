"""The web call protocol over real sockets: who may join a call, what a frame the server
cannot take is answered with, how the caller leaves, and what never reaches a log."""

from __future__ import annotations

import io
import logging
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from calls_support import CallsApi, Serving, served_in_thread
from clarion.api.access_log import AccessLog
from clarion.config import Settings
from fake_providers import Failure, Reply
from support import Tenant
from webhook_receiver import Answer, eventually

FIRST = "Hello, this is Northside Clinic."
ENDED_BY_CALLER = {"type": "call-ended", "ended_reason": "customer-ended"}


def _started(api: CallsApi, fake: Any, **fields: Any) -> dict[str, Any]:
    return api.call_on(fake, first_message=FIRST, **fields)


def _user_texts(call: dict[str, Any]) -> list[str]:
    return [m["message"] for m in call.get("messages", []) if m["role"] == "user"]


def test_each_frame_the_server_cannot_take_is_answered_with_an_error_and_the_call_goes_on(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    created = _started(api, fake)
    fake.script = lambda _request: Reply("Thursday at 9.")
    said = "Maria Okafor, chest pain since Tuesday"
    bad_frames: dict[str, str | bytes] = {
        "binary": orjson.dumps({"type": "user-message", "text": said}),
        "not JSON": '{"type": "user-message", "text": "' + said,
        "a JSON array": orjson.dumps([{"type": "user-message", "text": said}]).decode(),
        "a JSON string": orjson.dumps(said).decode(),
        "an unknown type": '{"type": "typing"}',
        "no type": orjson.dumps({"text": said}).decode(),
        "no text": '{"type": "user-message"}',
        "empty text": '{"type": "user-message", "text": "  "}',
        "text not a string": '{"type": "user-message", "text": 42}',
        "overly long text": orjson.dumps({"type": "user-message", "text": "a" * 10_001}).decode(),
        "a NUL character": orjson.dumps({"type": "user-message", "text": said + "\x00"}).decode(),
    }
    with api.join(created["web_call_url"]) as call:
        assert call.next() == {"type": "call-started", "call_id": created["id"]}
        assert call.next() == {"type": "assistant-message", "text": FIRST}
        for what, frame in bad_frames.items():
            call.connection.send(frame)
            answer = call.next()
            assert answer["type"] == "error", what
            assert isinstance(answer["message"], str) and answer["message"], what
            assert said not in answer["message"], f"{what}: the error quotes the frame"
            assert api.call(created["id"])["call_status"] == "in-progress", what
        call.say("When is my appointment?")
        frames = call.until("assistant-message")
        assert frames[-1] == {"type": "assistant-message", "text": "Thursday at 9."}
        call.hang_up()
        assert call.closing() == ([ENDED_BY_CALLER], 1000)

    assert len(fake.received) == 1  # no bad frame reached the model
    ended = api.wait_for_call(created["id"], "the end", lambda c: c["call_status"] == "ended")
    assert ended["ended_reason"] == "customer-ended"
    assert _user_texts(ended) == ["When is my appointment?"]


def test_a_join_its_token_does_not_open_is_refused_and_the_call_stays_queued(
    served: Any, tenant: Tenant, other_tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    other = CallsApi(api.serving, other_tenant)
    mine = _started(api, fake)
    second = _started(api, fake)
    theirs = _started(other, fake)
    base, token = mine["web_call_url"].split("?token=")
    second_token = second["web_call_url"].split("?token=")[1]
    their_base = theirs["web_call_url"].split("?")[0]
    root = base.removesuffix(f"/{mine['id']}/web")
    attempts = {
        "a wrong token": f"{base}?token={token[::-1]}",
        "no token": base,
        "an empty token": f"{base}?token=",
        "the token of another call": f"{base}?token={second_token}",
        "another organization's call": f"{their_base}?token={token}",
        "a call that does not exist": f"{root}/999999/web?token={token}",
        "not a call id": f"{root}/first/web?token={token}",
    }
    for what, url in attempts.items():
        status, body = api.refusal(url)
        assert status == 403, what
        assert body["error"] == 403 and "token" in body["message"], what
        assert token not in body["message"] and second_token not in body["message"], what

    for api_of, call in ((api, mine), (api, second), (other, theirs)):
        untouched = api_of.call(call["id"])
        assert untouched["call_status"] == "queued"
        assert "started_at" not in untouched and "messages" not in untouched
    with api.join(mine["web_call_url"]) as call:  # the refusals did not use the token up
        assert call.next() == {"type": "call-started", "call_id": mine["id"]}


def test_a_live_call_takes_no_second_connection_and_its_token_opens_it_once(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    created = _started(api, fake)
    url = created["web_call_url"]
    fake.script = lambda _request: Reply("Still here.")
    with api.join(url) as call:
        call.until("assistant-message")
        status, body = api.refusal(url)
        assert (status, body["error"]) == (403, 403)
        call.say("Are you still there?")  # the first connection holds the call still
        assert call.until("assistant-message")[-1]["text"] == "Still here."
        call.hang_up()
        assert call.closing() == ([ENDED_BY_CALLER], 1000)

    ended = api.wait_for_call(created["id"], "the end", lambda c: c["call_status"] == "ended")
    assert api.refusal(url)[0] == 403
    after = api.call(created["id"])
    assert (after["ended_reason"], after["started_at"]) == ("customer-ended", ended["started_at"])
    assert after["messages"] == ended["messages"]


@pytest.mark.parametrize("leaving", ["hangup frame", "socket closed", "connection dropped"])
def test_the_caller_leaving_ends_the_call_as_customer_ended(
    served: Any, tenant: Tenant, fake: Any, leaving: str
) -> None:
    api = served(tenant)
    created = _started(api, fake)
    fake.script = lambda _request: Reply("Thursday at 9.")
    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        call.say("When is my appointment?")
        call.until("assistant-message")
        if leaving == "hangup frame":
            call.hang_up()
            assert call.closing() == ([ENDED_BY_CALLER], 1000)
        elif leaving == "socket closed":
            call.close()
        else:
            call.drop()
        ended = api.wait_for_call(created["id"], "the end", lambda c: c["call_status"] == "ended")
    assert ended["ended_reason"] == "customer-ended"
    assert [m["message"] for m in ended["messages"]] == [
        FIRST,
        "When is my appointment?",
        "Thursday at 9.",
    ]


@pytest.mark.parametrize("leaving", ["hangup frame", "connection dropped"])
def test_the_caller_leaving_while_the_model_answers_ends_the_call_then(
    served: Any, tenant: Tenant, fake: Any, leaving: str
) -> None:
    api = served(tenant)
    created = _started(api, fake)
    fake.script = lambda _request: Reply("Thursday at 9.", delay=30)
    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        call.say("When is my appointment?")
        call.say("And can I bring my daughter?")
        eventually(lambda: bool(fake.received), "the model being asked", 10)
        if leaving == "hangup frame":
            call.hang_up()
            assert call.closing(timeout=5) == ([ENDED_BY_CALLER], 1000)
        else:
            call.drop()
        ended = api.wait_for_call(
            created["id"], "the end", lambda c: c["call_status"] == "ended", seconds=5
        )
    assert ended["ended_reason"] == "customer-ended"
    assert ended["duration_ms"] < 10_000  # not held until the model's answer came
    assert len(fake.received) == 1
    # What the caller said is kept, what the model had not finished is not.
    assert _user_texts(ended) == ["When is my appointment?", "And can I bring my daughter?"]
    assert [m["role"] for m in ended["messages"]] == ["assistant", "user", "user"]


def test_a_call_nobody_joins_in_time_ends_as_customer_did_not_answer(
    served: Any, tenant: Tenant, fake: Any, receiver: Any
) -> None:
    api = served(tenant, call_join_seconds=3.0)
    url = receiver.on("/report", lambda _n: Answer())
    unanswered = _started(api, fake, webhook_url=url)
    answered = _started(api, fake, webhook_url=url)
    fake.script = lambda _request: Reply("Thursday at 9.")
    with api.join(answered["web_call_url"]) as call:
        call.until("assistant-message")
        ended = api.wait_for_call(
            unanswered["id"], "the reaper", lambda c: c["call_status"] == "ended"
        )
        assert ended["ended_reason"] == "customer-did-not-answer"
        assert "started_at" not in ended and "messages" not in ended
        # The call joined in time is held on, past the time to join.
        assert api.call(answered["id"])["call_status"] == "in-progress"
        call.say("When is my appointment?")
        assert call.until("assistant-message")[-1]["text"] == "Thursday at 9."

    assert api.refusal(unanswered["web_call_url"])[0] == 403
    reports = [orjson.loads(r.body) for r in receiver.wait_for("/report", 2)]
    report = next(r for r in reports if r["id"] == unanswered["id"])
    assert report["ended_reason"] == "customer-did-not-answer"
    assert "transcript" not in report


@pytest.fixture
def access_stream_served(
    call_settings: Callable[..., Settings], access_stream: io.BytesIO
) -> Iterator[Serving]:
    """The app served with its access lines written to ``access_stream``."""
    with served_in_thread(call_settings(), AccessLog(access_stream, "json")) as serving:
        yield serving


def test_neither_the_token_nor_what_the_patient_says_reaches_a_log(
    access_stream_served: Serving,
    access_stream: io.BytesIO,
    tenant: Tenant,
    fake: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="clarion")
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    api = CallsApi(access_stream_served, tenant)
    created = _started(api, fake, analysis_plan={"summaryPrompt": "Summarise the call."})
    url = created["web_call_url"]
    token = url.split("?token=")[1]
    said = "Maria Okafor, my chest has hurt since Tuesday"
    fake.reply_in_turn(Failure(500), Reply("I am sorry to hear that."), Reply("A patient called."))

    assert api.refusal(f"{url.split('?')[0]}?token={token[::-1]}")[0] == 403
    with api.join(url) as call:
        call.until("assistant-message")
        call.connection.send(f"not JSON: {said}")
        assert call.next()["type"] == "error"
        call.say(said)
        call.until("assistant-message")
        call.hang_up()
        call.closing()
    assert api.refusal(url)[0] == 403
    api.wait_for_call(created["id"], "the analysis", lambda c: "analysis" in c or "summary" in c)

    access = access_stream.getvalue().decode()
    lines = [orjson.loads(line) for line in access.splitlines()]
    web = [line["status"] for line in lines if line["route"] == "/v1/call/{callId}/web"]
    assert sorted(web) == [101, 403, 403]
    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert logged.strip(), "nothing was logged: the check below would prove nothing"
    for where, text in (("the access log", access), ("the log", logged)):
        assert token not in text, f"the call's token is in {where}"
        assert said not in text and "chest" not in text, f"what the patient said is in {where}"


def test_a_caller_gone_before_the_socket_is_accepted_ends_the_call_as_customer_ended(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    created = _started(api, fake)
    url = urlsplit(created["web_call_url"])
    # The upgrade request, then the connection reset before the server's answer is read.
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80)) as raw:
        upgrade = (
            f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        raw.sendall(upgrade.encode())
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ended = api.wait_for_call(created["id"], "the end", lambda c: c["call_status"] == "ended")
    assert ended["ended_reason"] == "customer-ended"
