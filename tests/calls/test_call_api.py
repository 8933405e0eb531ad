"""The calls resource over real HTTP: creating calls (bodies, task parameters, credentials, the
live call limit), reading, listing, ending and deleting them, each organization apart. The
conversations are held over real WebSockets and answered by the fake providers."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from calls_support import CallsApi, model_of
from clarion.calls.models import CALL_MESSAGES
from fake_providers import Reply
from support import assert_error
from webhook_receiver import Answer


def _names(api: CallsApi, **params: Any) -> list[str]:
    response = api.http.get("/v1/call", params=params)
    assert response.status_code == 200, response.text
    return [call["name"] for call in response.json()]


def _stored_messages(api: CallsApi, call_id: int) -> int:
    """How many messages of the call the database holds."""
    with api.serving.services.database.unit() as unit:
        count = select(func.count()).select_from(CALL_MESSAGES)
        return int(unit.session.scalar(count.where(CALL_MESSAGES.c.call_id == call_id)) or 0)


def _converse(
    api: CallsApi, created: dict[str, Any], say: str, *, greeted: bool = True
) -> list[dict[str, Any]]:
    """Join the call, hear its first message (when ``greeted``), say one thing, hear the
    reply, hang up: every frame received."""
    with api.join(created["web_call_url"]) as call:
        frames = call.until("assistant-message") if greeted else [call.next()]
        call.say(say)
        frames += call.until("assistant-message")
        call.hang_up()
        frames += call.until("call-ended")
    return frames


def test_a_new_call_shows_what_it_has_and_leaves_out_the_rest(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake)

    created = api.start_call(
        assistant["id"],
        name="Ada's reminder",
        call_type="webCall",
        destination_phone_number="+15555550123",
    )
    assert set(created) == {
        "id",
        "organization_id",
        "assistant_id",
        "name",
        "call_type",
        "call_status",
        "destination_number",
        "created_at",
        "updated_at",
        "web_call_url",
        "web_call_page_url",
    }
    assert created["organization_id"] == tenant.organization_id
    assert created["assistant_id"] == assistant["id"]
    assert created["call_type"] == "webCall"
    assert created["call_status"] == "queued"
    assert created["destination_number"] == "+15555550123"
    port = api.serving.base.rsplit(":", 1)[1]
    prefix = f"ws://127.0.0.1:{port}/v1/call/{created['id']}/web?token="
    assert created["web_call_url"].startswith(prefix)
    assert len(created["web_call_url"]) > len(prefix) + 20

    # The URLs, with the token, are shown once: never again when the call is read.
    shown = {name: value for name, value in created.items() if not name.startswith("web_call")}
    assert api.call(created["id"]) == shown
    assert api.http.get("/v1/call").json() == [shown]

    for not_an_id in ("abc", "0", "-1", f"{created['id']}.0"):
        assert_error(api.http.get(f"/v1/call/{not_an_id}"), 404)

    # call_type defaults to webCall.
    plain = api.start_call(assistant["id"])
    assert plain["call_type"] == "webCall"
    assert "name" not in plain and "destination_number" not in plain


def test_inbound_calls_are_made_by_patients_and_outbound_ones_need_the_public_url(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)  # no CLARION_PUBLIC_URL: Twilio could not reach the call's stream
    assistant = api.assistant_on(fake)
    inbound = api.create_call(
        assistant["id"], call_type="inboundPhoneCall", destination_phone_number="+15555550123"
    )
    assert_error(inbound, 400, "call_type", "inboundPhoneCall", "phone number")
    outbound = api.create_call(
        assistant["id"],
        call_type="outboundPhoneCall",
        source_phone_number_id=1,
        destination_phone_number="+15555550123",
    )
    assert_error(outbound, 400, "call_type", "outboundPhoneCall", "CLARION_PUBLIC_URL")
    assert api.http.get("/v1/call").json() == []


def test_a_body_that_is_not_a_new_call_is_a_400_naming_what_is_wrong(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello {{patient}}.")
    known = {"assistant_id": assistant["id"], "task_parameters": {"patient": "Ada"}}
    raw_bodies = [(b"", "empty"), (b"{", "JSON"), (b"[1]", "object"), (b'"call"', "object")]
    for raw, mention in raw_bodies:
        response = api.http.post(
            "/v1/call", content=raw, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 400, mention)

    as_text = api.http.post(
        "/v1/call", content=orjson.dumps(known), headers={"Content-Type": "text/plain"}
    )
    assert_error(as_text, 415, "Content-Type")

    bodies: list[tuple[dict[str, Any], str]] = [
        ({}, "assistant_id"),
        ({"assistant_id": str(assistant["id"])}, "assistant_id"),
        ({"assistant_id": True}, "assistant_id"),
        ({"assistant_id": 0}, "assistant_id"),
        ({"assistant_id": 2**63}, "assistant_id"),
        ({"assistant_id": None}, "assistant_id"),
        ({**known, "colour": "red"}, "colour"),
        ({**known, "name": "x" * 51}, "name"),
        ({**known, "name": 7}, "name"),
        ({**known, "name": "Ada\u0000"}, "name"),
        ({**known, "call_status": "ended"}, "call_status"),
        ({**known, "ended_reason": "customer-ended"}, "ended_reason"),
        ({**known, "id": 5}, "id"),
        ({**known, "web_call_url": "ws://elsewhere/"}, "web_call_url"),
        ({**known, "call_type": "fax"}, "call_type"),
        ({**known, "destination_phone_number": "555-0123"}, "destination_phone_number"),
        ({**known, "destination_phone_number": "+0155550123"}, "destination_phone_number"),
        ({**known, "destination_phone_number": 15555550123}, "destination_phone_number"),
        ({**known, "source_phone_number_id": "7"}, "source_phone_number_id"),
        ({**known, "source_phone_number_id": 2**64 - 1}, "source_phone_number_id"),
        ({**known, "task_parameters": ["patient"]}, "task_parameters"),
        (
            {**known, "task_parameters": {"patient": "Ada", "max_duration_seconds": 1}},
            "task_parameters.max_duration_seconds",
        ),
        (
            {**known, "task_parameters": {"patient": "Ada", "silence_timeout_seconds": "30"}},
            "task_parameters.silence_timeout_seconds",
        ),
        (
            {**known, "task_parameters": {"patient": "Ada", "first_message": 5}},
            "task_parameters.first_message",
        ),
        (
            {**known, "task_parameters": {"patient": "Ada", "model": model_of(temperature=3)}},
            "task_parameters.model.temperature",
        ),
        (
            {**known, "task_parameters": {"patient": "Ada", "voice": "alloy"}},
            "task_parameters.voice",
        ),
        ({**known, "task_parameters": {"patient": {"first": "Ada"}}}, "task_parameters.patient"),
        ({**known, "task_parameters": {"patient": ["Ada"]}}, "task_parameters.patient"),
        ({**known, "task_parameters": {"patient": None}}, "task_parameters.patient"),
        ({**known, "task_parameters": {"patient": 2**64}}, "task_parameters.patient"),
        ({"assistant_id": assistant["id"]}, "{{patient}}"),
    ]
    for body, mention in bodies:
        assert_error(api.http.post("/v1/call", json=body), 400, mention)

    # What a patient's details may be in is never quoted back.
    response = api.create_call(
        assistant["id"], task_parameters={"patient": {"name": "Ada Lovelace", "dob": "1815-12-10"}}
    )
    assert_error(response, 400, "task_parameters.patient")
    assert "Lovelace" not in response.text and "1815" not in response.text

    assert api.http.get("/v1/call").json() == []


def test_a_placeholder_without_a_value_is_a_400_naming_it_wherever_it_is(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    model = model_of(messages=[{"role": "system", "content": "Remind {{patient}} of {{day}}."}])
    assistant = api.assistant_on(
        fake,
        first_message="Hello {{ patient }}.",
        model=model,
        voicemail_message="Please call {{clinic}} back.",
        analysis_plan={"summaryPrompt": "Summarize the call about {{topic}}."},
    )
    given = {"patient": "Ada", "day": "Thursday", "clinic": "Northside", "topic": "the visit"}
    for missing, where in [
        ("patient", "first_message"),
        ("day", "model.messages[0].content"),
        ("clinic", "voicemail_message"),
        ("topic", "analysis_plan.summaryPrompt"),
    ]:
        values = {name: value for name, value in given.items() if name != missing}
        response = api.create_call(assistant["id"], task_parameters=values)
        assert_error(response, 400, "{{" + missing + "}}", where)

    # A placeholder that an override brings in needs its value too.
    response = api.create_call(
        assistant["id"], task_parameters={**given, "first_message": "Hi {{nickname}}."}
    )
    assert_error(response, 400, "{{nickname}}", "first_message")

    assert api.start_call(assistant["id"], task_parameters=given)["call_status"] == "queued"


def test_task_parameters_override_the_assistant_and_fill_its_placeholders(
    served: Any, tenant: Any, fake: Any, receiver: Any
) -> None:
    api = served(tenant)
    url = receiver.on("/report", lambda _n: Answer())
    assistant = api.assistant_on(
        fake,
        first_message="Hello {{patient}}.",
        voicemail_message="Please call {{clinic}} back.",
        analysis_plan={"summaryPrompt": "Summarize."},
        webhook_url=url,
    )
    instructions = (
        "Confirm {{patient}}'s visit on {{day}} at {{hour}} ({{weight}} kg, fasting: {{fasting}})."
    )
    model = model_of(
        model="gpt-4o-mini",
        temperature=0.9,
        max_tokens=50,
        messages=[{"role": "system", "content": instructions}],
    )
    created = api.start_call(
        assistant["id"],
        task_parameters={
            "first_message": "Hi {{ patient }}, about {{day}}.",
            "model": model,
            "analysis_plan": {"summaryPrompt": "Summarize the call with {{patient}}."},
            "patient": "Ada",
            "day": "Thursday",
            "hour": 9,
            "weight": 61.5,
            "fasting": True,
            "clinic": "Northside",
            "unused": "fine",
        },
    )
    fake.reply_in_turn(Reply("See you then."), Reply("Ada will come on Thursday."))

    frames = _converse(api, created, "Will do.")

    assert frames[0] == {"type": "call-started", "call_id": created["id"]}
    said = [frame["text"] for frame in frames if frame["type"] == "assistant-message"]
    assert said == ["Hi Ada, about Thursday.", "See you then."]
    assert frames[-1] == {"type": "call-ended", "ended_reason": "customer-ended"}
    request = fake.received[0].json
    assert request["model"] == "gpt-4o-mini"
    assert request["temperature"] == 0.9
    assert request["max_tokens"] == 50
    assert request["messages"][0] == {
        "role": "system",
        "content": "Confirm Ada's visit on Thursday at 9 (61.5 kg, fasting: true).",
    }
    assert [m["content"] for m in request["messages"][1:]] == [
        "Hi Ada, about Thursday.",
        "Will do.",
    ]

    # The analysis and the report follow the same configuration.
    ended = api.wait_for_call(created["id"], "the summary", lambda c: "summary" in c)
    assert ended["summary"] == "Ada will come on Thursday."
    summarizing = fake.received[1].json["messages"][0]
    assert summarizing == {"role": "system", "content": "Summarize the call with Ada."}
    report = orjson.loads(receiver.wait_for("/report", 1)[0].body)
    # The voicemail message is in a report only when a machine was left it.
    assert "voicemail_message" not in report

    # The overrides were this call's: the assistant is as it was.
    kept = api.http.get(f"/v1/assistant/{assistant['id']}").json()
    assert kept["first_message"] == "Hello {{patient}}."
    assert kept["model"] == model_of()
    assert kept["analysis_plan"] == {"summaryPrompt": "Summarize."}


def test_a_call_keeps_the_assistant_version_it_started_from(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello from the first version.")
    path = f"/v1/assistant/{assistant['id']}"
    before_edit = api.start_call(assistant["id"])
    changes = {
        "first_message": "Hello from the second version.",
        "model": model_of(temperature=1.5, messages=[{"role": "system", "content": "Second."}]),
    }
    response = api.http.patch(path, json=changes)
    assert response.status_code == 200, response.text
    after_edit = api.start_call(assistant["id"])
    fake.reply_in_turn(Reply("Noted."), Reply("Noted again."))

    frames = _converse(api, before_edit, "Hi.")
    assert frames[1] == {"type": "assistant-message", "text": "Hello from the first version."}
    first_request = fake.received[0].json
    assert first_request["temperature"] == 0.3
    assert first_request["messages"][0]["content"] == "You remind patients of appointments."

    # A call created after the edit talks with the edited assistant, even once it is deleted.
    assert api.http.delete(path).status_code == 200
    frames = _converse(api, after_edit, "Hi.")
    assert frames[1] == {"type": "assistant-message", "text": "Hello from the second version."}
    assert fake.received[1].json["temperature"] == 1.5
    assert fake.received[1].json["messages"][0]["content"] == "Second."

    # The deleted assistant starts no more calls.
    assert_error(api.create_call(assistant["id"]), 400, "assistant_id")


def test_another_organizations_calls_are_missing_to_it(
    served: Any, tenant: Any, other_tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    other = CallsApi(api.serving, other_tenant)
    assistant = api.assistant_on(fake)
    created = api.start_call(assistant["id"], name="Ada's reminder")
    call_id, missing_id = created["id"], created["id"] + 1000

    for method, suffix in [("GET", ""), ("POST", "/end"), ("DELETE", "")]:
        theirs = other.request(method, f"/v1/call/{call_id}{suffix}")
        missing = other.request(method, f"/v1/call/{missing_id}{suffix}")
        assert_error(theirs, 404, str(call_id))
        assert_error(missing, 404, str(missing_id))
        assert theirs.json()["message"] == missing.json()["message"].replace(
            str(missing_id), str(call_id)
        )
    assert other.http.get("/v1/call").json() == []
    assert other.http.get("/v1/call", params={"assistant_id": assistant["id"]}).json() == []

    # Nothing they tried reached the call: it still waits for its caller.
    assert api.call(call_id)["call_status"] == "queued"
    assert [call["id"] for call in api.http.get("/v1/call").json()] == [call_id]
    with api.join(created["web_call_url"]) as call:
        assert call.next() == {"type": "call-started", "call_id": call_id}
        call.hang_up()
        call.until("call-ended")

    # Nor can they start a call of this organization's assistant...
    other.credential("openai", fake.openai_url)
    theirs = other.create_call(assistant["id"])
    missing = other.create_call(assistant["id"] + 1000)
    assert_error(theirs, 400, "assistant_id")
    assert_error(missing, 400, "assistant_id")
    assert theirs.json()["message"] == missing.json()["message"].replace(
        str(assistant["id"] + 1000), str(assistant["id"])
    )

    # ...or talk with its credential, named in their assistant or in their task parameters.
    credential_id = api.credential("openai", fake.openai_url, api_key="sk-northside")
    borrowing = other.assistant(model=model_of(credential_id=credential_id))
    response = other.create_call(borrowing["id"])
    assert_error(response, 400, "model.credential_id", str(credential_id))
    own = other.assistant(model=model_of())
    response = other.create_call(
        own["id"], task_parameters={"model": model_of(credential_id=credential_id)}
    )
    assert_error(response, 400, "model.credential_id", str(credential_id))
    assert other.http.get("/v1/call").json() == []

    # Their own assistant, with their own credential, is theirs to call.
    theirs_created = other.start_call(own["id"])
    assert theirs_created["organization_id"] == other_tenant.organization_id
    assert_error(api.http.get(f"/v1/call/{theirs_created['id']}"), 404)
    assert [call["id"] for call in api.http.get("/v1/call").json()] == [call_id]


def test_the_list_filters_by_assistant_status_and_creation_time(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    first = api.assistant_on(fake)
    second = api.assistant(model=model_of())
    a = api.start_call(first["id"], name="a")
    b = api.start_call(second["id"], name="b")
    api.start_call(first["id"], name="c")
    assert api.http.post(f"/v1/call/{a['id']}/end").status_code == 200

    assert _names(api) == ["c", "b", "a"]
    assert _names(api, limit=2) == ["c", "b"]
    assert _names(api, limit=1000) == ["c", "b", "a"]
    assert _names(api, assistant_id=first["id"]) == ["c", "a"]
    assert _names(api, assistant_id=second["id"] + 1000) == []
    assert _names(api, call_status="queued") == ["c", "b"]
    assert _names(api, call_status="ended") == ["a"]
    assert _names(api, call_status="in-progress") == []
    assert _names(api, assistant_id=first["id"], call_status="queued") == ["c"]

    moment = dt.datetime.fromisoformat(b["created_at"])
    east = moment.astimezone(dt.timezone(dt.timedelta(hours=14))).isoformat()
    naive = moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    for ge, le in [("createdAtGe", "createdAtLe"), ("created_at_ge", "created_at_le")]:
        for bound in (b["created_at"], east, naive):
            assert _names(api, **{ge: bound}) == ["c", "b"], (ge, bound)
            assert _names(api, **{le: bound}) == ["b", "a"], (le, bound)
            assert _names(api, **{ge: bound, le: bound}) == ["b"], (ge, le, bound)
        assert _names(api, **{ge: b["created_at"], "limit": 1}) == ["c"]
    assert _names(api, createdAtGe=b["created_at"], created_at_le=b["created_at"]) == ["b"]

    for params, mention in [
        ({"createdAtGe": b["created_at"], "created_at_ge": b["created_at"]}, "createdAtGe"),
        ({"createdAtLe": b["created_at"], "created_at_le": b["created_at"]}, "createdAtLe"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"createdAtGe": "last week"}, "createdAtGe"),
        ({"createdAtLe": "1767225600"}, "createdAtLe"),
        ({"created_at_ge": "soon"}, "created_at_ge"),
        ({"assistant_id": 0}, "assistant_id"),
        ({"assistant_id": 2**63}, "assistant_id"),
        ({"assistant_id": "first"}, "assistant_id"),
        ({"call_status": "lost"}, "call_status"),
    ]:
        assert_error(api.http.get("/v1/call", params=params), 400, mention)


def test_an_organization_has_at_most_its_limit_of_live_calls(
    served: Any, tenant: Any, other_tenant: Any, fake: Any
) -> None:
    api = served(tenant, max_live_calls_per_organization=2)
    assistant = api.assistant_on(fake)

    # Created at once, exactly the limit gets through.
    with ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(lambda _n: api.create_call(assistant["id"]), range(5)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 201, 429, 429, 429], [r.text for r in responses]
    for response in responses:
        if response.status_code == 429:
            assert_error(response, 429, "2", "CLARION_MAX_LIVE_CALLS_PER_ORGANIZATION")
    first, second = (r.json() for r in responses if r.status_code == 201)
    assert len(api.http.get("/v1/call").json()) == 2

    # Another organization has a limit of its own.
    other = CallsApi(api.serving, other_tenant)
    other.credential("openai", fake.openai_url)
    other.start_call(other.assistant(model=model_of())["id"])

    # An ended call frees its place, and so does a deleted one.
    assert api.http.post(f"/v1/call/{first['id']}/end").status_code == 200
    third = api.start_call(assistant["id"])
    assert_error(api.create_call(assistant["id"]), 429)
    assert api.http.delete(f"/v1/call/{second['id']}").status_code == 200
    fourth = api.start_call(assistant["id"])

    # A call in progress holds its place until it ends.
    with api.join(third["web_call_url"]) as call:
        call.until("call-started")
        assert_error(api.create_call(assistant["id"]), 429)
        call.hang_up()
        call.until("call-ended")
    api.start_call(assistant["id"])
    assert api.call(fourth["id"])["call_status"] == "queued"


def test_ending_a_queued_call_cancels_it_and_its_web_call_url(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake)
    created = api.start_call(assistant["id"])

    response = api.http.post(f"/v1/call/{created['id']}/end")
    assert response.status_code == 200, response.text
    ended = response.json()
    assert ended["call_status"] == "ended"
    assert ended["ended_reason"] == "manually-canceled"
    assert "ended_at" in ended
    assert not {"started_at", "duration_ms", "messages", "transcript"} & set(ended)
    assert api.call(created["id"])["ended_reason"] == "manually-canceled"

    status, body = api.refusal(created["web_call_url"])
    assert status == 403
    assert body["error"] == 403 and "token" in body["message"]

    # Ending it again leaves it as it ended.
    again = api.http.post(f"/v1/call/{created['id']}/end")
    assert again.status_code == 200, again.text
    for field in ("call_status", "ended_reason", "ended_at"):
        assert again.json()[field] == ended[field]
    assert fake.received == []


def test_ending_a_call_in_progress_hangs_up_on_its_caller(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello, this is Northside Clinic.")
    created = api.start_call(assistant["id"])

    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        response = api.http.post(f"/v1/call/{created['id']}/end")
        assert response.status_code == 200, response.text
        assert call.until("call-ended")[-1] == {
            "type": "call-ended",
            "ended_reason": "manually-canceled",
        }
    ended = response.json()
    assert ended["call_status"] == "ended"
    assert ended["ended_reason"] == "manually-canceled"
    assert ended["duration_ms"] >= 0 and "started_at" in ended
    shown = api.wait_for_call(created["id"], "the first message", lambda c: "messages" in c)
    assert shown["transcript"] == "AI: Hello, this is Northside Clinic."
    assert shown["ended_reason"] == "manually-canceled"


def test_a_used_or_wrong_token_opens_no_call(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake)
    created = api.start_call(assistant["id"])
    url = created["web_call_url"]
    base, token = url.split("?token=")

    for wrong in [f"{base}?token=x{token[1:]}", base, url.replace("/call/", "/call/999")]:
        assert api.refusal(wrong)[0] == 403
    with api.join(url) as call:
        call.until("call-started")
        assert api.refusal(url)[0] == 403
        call.hang_up()
        call.until("call-ended")
    assert api.refusal(url)[0] == 403


def test_deleting_a_call_returns_it_then_forgets_it_and_its_conversation(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello, this is Northside Clinic.")
    created = api.start_call(assistant["id"], name="Ada's reminder")
    fake.reply_in_turn(Reply("Thursday at 9."))
    _converse(api, created, "When is my appointment?")
    before = api.wait_for_call(created["id"], "its end", lambda c: c["call_status"] == "ended")
    assert len(before["messages"]) == 3
    assert _stored_messages(api, created["id"]) == 3

    response = api.http.delete(f"/v1/call/{created['id']}")
    assert response.status_code == 200, response.text
    deleted = response.json()
    for field in ("id", "name", "call_status", "ended_reason", "messages", "transcript"):
        assert deleted[field] == before[field], field

    for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/end")]:
        assert_error(api.request(method, f"/v1/call/{created['id']}{suffix}"), 404)
    assert api.http.get("/v1/call").json() == []
    assert _stored_messages(api, created["id"]) == 0


def test_deleting_a_live_call_ends_it_first(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello, this is Northside Clinic.")
    queued = api.start_call(assistant["id"])
    in_progress = api.start_call(assistant["id"])

    response = api.http.delete(f"/v1/call/{queued['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["call_status"] == "ended"
    assert response.json()["ended_reason"] == "manually-canceled"
    assert api.refusal(queued["web_call_url"])[0] == 403

    # In progress, with what was just said still on its way to the database (tried a few
    # times, the words racing the delete): the caller hears why it ended, and nothing said in
    # the call stays behind.
    for attempt in range(8):
        created = in_progress if attempt == 0 else api.start_call(assistant["id"])
        with api.join(created["web_call_url"]) as call:
            call.until("assistant-message")
            call.say("Is it on Thursday?")
            response = api.http.delete(f"/v1/call/{created['id']}")
            assert response.status_code == 200, response.text
            assert call.until("call-ended")[-1]["ended_reason"] == "manually-canceled"
        assert response.json()["call_status"] == "ended"
        assert "started_at" in response.json()
        assert_error(api.http.get(f"/v1/call/{created['id']}"), 404)
        assert _stored_messages(api, created["id"]) == 0
    assert api.http.get("/v1/call").json() == []


def test_a_call_needs_a_key_for_its_model(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    openai = api.assistant(model=model_of("openai"))
    anthropic = api.assistant(model=model_of("anthropic"))

    assert_error(api.create_call(openai["id"]), 400, "openai", "CLARION_OPENAI_API_KEY")
    response = api.create_call(anthropic["id"])
    assert_error(response, 400, "anthropic", "CLARION_ANTHROPIC_API_KEY")

    # A credential serves its own provider only.
    api.credential("openai", fake.openai_url)
    api.start_call(openai["id"])
    assert_error(api.create_call(anthropic["id"]), 400, "CLARION_ANTHROPIC_API_KEY")
    api.credential("anthropic", fake.anthropic_url)
    api.start_call(anthropic["id"])

    # Anthropic takes temperatures up to 1, from the assistant or from the task parameters.
    hot = api.assistant(model=model_of("anthropic", temperature=1.5))
    assert_error(api.create_call(hot["id"]), 400, "model.temperature")
    hotter = {"model": model_of("anthropic", temperature=1.2)}
    assert_error(api.create_call(anthropic["id"], task_parameters=hotter), 400, "temperature")
    warm = {"model": model_of("anthropic", temperature=1)}
    api.start_call(anthropic["id"], task_parameters=warm)

    # An assistant without a model to talk with, or with one no adapter speaks, starts none.
    assert_error(api.create_call(api.assistant()["id"]), 400, "model")
    mistral = api.assistant(model={"provider": "mistral", "model": "mistral-large"})
    assert_error(api.create_call(mistral["id"]), 400, "model.provider")
    assert len(api.http.get("/v1/call").json()) == 3


def test_the_server_wide_key_serves_organizations_without_a_credential(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant, openai_api_key="sk-server", openai_base_url=fake.openai_url)
    assistant = api.assistant(model=model_of())
    fake.reply_in_turn(Reply("Hello from the server's key."), Reply("Hello from yours."))

    frames = _converse(api, api.start_call(assistant["id"]), "Hi.", greeted=False)
    assert frames[-2] == {"type": "assistant-message", "text": "Hello from the server's key."}
    assert fake.received[0].headers["Authorization"] == "Bearer sk-server"

    # Anthropic has no server-wide key here.
    anthropic = api.assistant(model=model_of("anthropic"))
    assert_error(api.create_call(anthropic["id"]), 400, "CLARION_ANTHROPIC_API_KEY")

    # An organization's own credential comes first.
    api.credential("openai", fake.openai_url, api_key="sk-northside")
    frames = _converse(api, api.start_call(assistant["id"]), "Hi.", greeted=False)
    assert frames[-2] == {"type": "assistant-message", "text": "Hello from yours."}
    assert fake.received[1].headers["Authorization"] == "Bearer sk-northside"
    assert "sk-server" not in api.http.get("/v1/call").text


def test_the_operators_own_model_server_is_trusted_where_an_organizations_is_not(
    served: Any, tenant: Any, fake: Any
) -> None:
    # No allowed networks: loopback is as blocked as any private address, and no key: a
    # local model server (Ollama, llama.cpp) wants none.
    api = served(tenant, outbound_allowed_networks="", openai_base_url=fake.openai_url)
    assistant = api.assistant(model=model_of())
    fake.reply_in_turn(Reply("Hello from the clinic's own model."))

    frames = _converse(api, api.start_call(assistant["id"]), "Hi.", greeted=False)
    assert frames[-2] == {"type": "assistant-message", "text": "Hello from the clinic's own model."}

    # An organization's credential for the same address is what the guard is for: refused
    # when it is made, not found out by a call that fails later.
    body = {"provider": "openai", "api_key": "sk-x", "base_url": fake.openai_url}
    refused = api.http.post("/v1/credential", json=body)
    assert_error(refused, 400, "base_url", "127.0.0.1", "loopback", "CLARION_ALLOWED_NETWORKS")
    assert len(fake.received) == 1


@pytest.mark.parametrize(
    ("public_url", "joined_at"),
    [
        ("https://calls.example.org", "wss://calls.example.org"),
        ("http://10.0.0.5:8080/clarion/", "ws://10.0.0.5:8080/clarion"),
    ],
)
def test_behind_a_proxy_the_web_call_url_is_under_the_public_url(
    served: Any, tenant: Any, fake: Any, public_url: str, joined_at: str
) -> None:
    api = served(tenant, public_url=public_url)
    created = api.start_call(api.assistant_on(fake)["id"])
    prefix = f"{joined_at}/v1/call/{created['id']}/web?token="
    assert created["web_call_url"].startswith(prefix), created["web_call_url"]
    token = created["web_call_url"].removeprefix(prefix)

    # The token it carries opens the call here all the same.
    with api.join(
        f"{api.serving.base.replace('http', 'ws')}/v1/call/{created['id']}/web?token={token}"
    ) as call:
        assert call.next() == {"type": "call-started", "call_id": created["id"]}
        call.hang_up()
        call.until("call-ended")
