"""The conversation's rules, over real sockets against the fake providers: what the model is
asked, how the model, the caller's silence, the call's length, a request or the provider's
failures end a call, what is stored as it is said, and what follows the call."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import pytest

from calls_support import CallsApi, WebCall, failed_as
from clarion.engine.conversation import CUT_OFF
from clarion.providers.anthropic import OPENING_TURN
from clarion.webhooks import verify
from fake_providers import Call, Failure, Reply
from support import Tenant
from webhook_receiver import Answer, eventually

FIRST = "Hello, this is Northside Clinic."
END_CALL = Call("end_call")
PROVIDERS = pytest.mark.parametrize("provider", ["openai", "anthropic"])


def _join(
    api: CallsApi,
    fake: Any,
    provider: str = "openai",
    task_parameters: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A new call of an assistant that opens with FIRST."""
    return api.call_on(
        fake, provider, first_message=FIRST, task_parameters=task_parameters or {}, **fields
    )


def _opened(call: WebCall, call_id: int) -> None:
    assert call.next() == {"type": "call-started", "call_id": call_id}
    assert call.next() == {"type": "assistant-message", "text": FIRST}


def _turn(call: WebCall, said: str) -> list[dict[str, Any]]:
    """Say ``said``; the frames up to and including the reply's assistant-message."""
    call.say(said)
    return call.until("assistant-message")


def _ended(api: CallsApi, call_id: int) -> dict[str, Any]:
    return api.wait_for_call(call_id, "the end", lambda c: c["call_status"] == "ended")


def _texts(call: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["message"]) for m in call.get("messages", [])]


def _turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The conversation a request carries, in either provider's shape, as (role, text)."""
    turns = []
    for message in body["messages"]:
        content = message["content"]
        if not isinstance(content, str):
            content = "".join(b["text"] for b in content if b["type"] == "text")
        turns.append((message["role"], content))
    return turns


def _tool_names(body: dict[str, Any]) -> list[str]:
    tools = body.get("tools", [])
    return [t["function"]["name"] if "function" in t else t["name"] for t in tools]


@PROVIDERS
def test_the_model_sees_the_instructions_then_the_conversation(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant)
    instructions = [
        {"role": "system", "content": "You remind {{patient}} of appointments."},
        {"role": "system", "content": "Speak briefly; the clinic is {{clinic}}."},
    ]
    assistant = api.assistant_on(
        fake, provider, first_message="Hello {{patient}}.", model={"messages": instructions}
    )
    created = api.start_call(
        assistant["id"], task_parameters={"patient": "Ada", "clinic": "Northside"}
    )
    fake.reply_in_turn(Reply("Thursday at 9."), Reply("Goodbye!", tool_calls=[END_CALL]))
    with api.join(created["web_call_url"]) as call:
        assert call.next() == {"type": "call-started", "call_id": created["id"]}
        assert call.next() == {"type": "assistant-message", "text": "Hello Ada."}
        assert not fake.received  # the first message is said before the model is asked
        _turn(call, "When is my appointment?")
        call.say("Thanks.")
        call.until("call-ended")

    first, second = (received.json for received in fake.received)
    filled = ["You remind Ada of appointments.", "Speak briefly; the clinic is Northside."]
    conversation = [("assistant", "Hello Ada."), ("user", "When is my appointment?")]
    if provider == "openai":
        assert _turns(first) == [("system", text) for text in filled] + conversation
        assert _turns(second)[:2] == [("system", text) for text in filled]
    else:
        assert first["system"] == "\n\n".join(filled)
        conversation.insert(0, ("user", OPENING_TURN))
        assert _turns(first) == conversation
    said_later = [("assistant", "Thursday at 9."), ("user", "Thanks.")]
    assert _turns(second) == _turns(first) + said_later
    for body in (first, second):
        assert body["stream"] is True
        assert (body["temperature"], body["max_tokens"]) == (0.3, 200)
        assert _tool_names(body) == ["end_call"]
    stored = api.call(created["id"])["messages"][0]
    assert (stored["role"], stored["message"]) == ("assistant", "Hello Ada.")
    assert 0 <= stored["secondsFromStart"] < 5


def test_the_prompts_user_and_assistant_messages_follow_its_system_messages(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    prompt = [
        {"role": "system", "content": "You remind patients of appointments."},
        {"role": "user", "content": "Can I bring my dog?"},
        {"role": "assistant", "content": "Only guide dogs, I'm afraid."},
        {"role": "system", "content": "Speak briefly."},
    ]
    created = _join(api, fake, model={"messages": prompt})
    fake.reply_in_turn(Reply("Thursday at 9."))
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        _turn(call, "When is my appointment?")
        call.hang_up()
    assert _turns(fake.last.json) == [
        ("system", "You remind patients of appointments."),
        ("system", "Speak briefly."),
        ("user", "Can I bring my dog?"),
        ("assistant", "Only guide dogs, I'm afraid."),
        ("assistant", FIRST),
        ("user", "When is my appointment?"),
    ]


@pytest.mark.parametrize(
    ("provider", "goodbye"),
    [("openai", "Goodbye, see you Thursday!"), ("anthropic", "Goodbye!"), ("openai", "")],
    ids=["openai-with-text", "anthropic-with-text", "openai-without-text"],
)
def test_the_model_ends_the_call_with_end_call_saying_its_text_first(
    served: Any, tenant: Tenant, fake: Any, provider: str, goodbye: str
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, provider)  # no first message: the caller speaks first
    created = api.start_call(assistant["id"])
    fake.reply_in_turn(Reply(goodbye, tool_calls=[END_CALL]))
    with api.join(created["web_call_url"]) as call:
        assert call.next() == {"type": "call-started", "call_id": created["id"]}
        call.say("That's all, thanks.")
        frames, code = call.closing()
    assert frames[-1] == {"type": "call-ended", "ended_reason": "assistant-ended"}
    assert code == 1000
    if goodbye:
        assert frames[-2] == {"type": "assistant-message", "text": goodbye}
        deltas = frames[:-2]
        assert {f["type"] for f in deltas} == {"assistant-delta"}
        assert "".join(f["text"] for f in deltas) == goodbye
    else:
        assert frames == [{"type": "call-ended", "ended_reason": "assistant-ended"}]
    ended = _ended(api, created["id"])
    assert ended["ended_reason"] == "assistant-ended"
    expected = [("user", "That's all, thanks.")] + ([("assistant", goodbye)] if goodbye else [])
    assert _texts(ended) == expected


@PROVIDERS
def test_a_failed_request_is_tried_once_more_at_once(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant)
    created = _join(api, fake, provider)
    fake.reply_in_turn(
        Failure(500), Reply("Thursday at 9."), Reply("Goodbye!", tool_calls=[END_CALL])
    )
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        frames = _turn(call, "When is my appointment?")
        assert frames[-1] == {"type": "assistant-message", "text": "Thursday at 9."}
        assert "".join(f["text"] for f in frames[:-1]) == "Thursday at 9."
        assert len(fake.received) == 2
        assert fake.received[0].json == fake.received[1].json
        call.say("Thanks.")
        assert call.until("call-ended")[-1]["ended_reason"] == "assistant-ended"
    assert _texts(_ended(api, created["id"]))[1:3] == [
        ("user", "When is my appointment?"),
        ("assistant", "Thursday at 9."),
    ]


@PROVIDERS
@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_request_refused_outright_is_not_tried_again(
    served: Any,
    tenant: Tenant,
    fake: Any,
    provider: str,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="clarion")
    api = served(tenant)
    created = _join(api, fake, provider)
    refusal = Failure(status, message="Your message 'When is my appointment?' was refused.")
    fake.reply_in_turn(refusal, Reply("Thursday at 9."))
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        call.say("When is my appointment?")
        frames, _code = call.closing()
    [ended] = frames
    # What failed, for the operator: the provider, its answer and where it was asked.
    detail = failed_as(ended, "pipeline-error-llm", provider, f"answered {status}", "127.0.0.1")
    assert _ended(api, created["id"])["failure_detail"] == detail
    assert "refused" not in detail and "appointment" not in detail  # not the provider's words
    # One line in the log for the failed request: the call, the provider, its status.
    [logged] = [r.getMessage() for r in caplog.records if "request failed" in r.getMessage()]
    assert f"call {created['id']}" in logged and provider in logged and str(status) in logged
    assert "appointment" not in logged
    assert len(fake.received) == 1  # the same request would be refused the same way


@PROVIDERS
def test_a_reply_with_nothing_to_say_is_asked_for_again_and_never_sent_empty(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant)
    created = _join(api, fake, provider)
    unknown_tool = Reply(tool_calls=[Call("look_up_patient", {"name": "Ada"})])
    fake.reply_in_turn(unknown_tool, Reply("Thursday at 9."), Reply(""), unknown_tool)
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        frames = _turn(call, "When is my appointment?")
        assert frames[-1] == {"type": "assistant-message", "text": "Thursday at 9."}
        call.say("Which Thursday?")
        frames, _code = call.closing()
    [ended] = frames
    failed_as(ended, "pipeline-error-llm", provider, "nothing to say")
    assert len(fake.received) == 4
    assert _texts(_ended(api, created["id"]))[1:] == [
        ("user", "When is my appointment?"),
        ("assistant", "Thursday at 9."),
        ("user", "Which Thursday?"),
    ]


@pytest.mark.parametrize(
    ("retried", "pieces"),
    [
        ("Your appointment is on Thursday at 9.", "Your appointment is on Thursday at 9."),
        ("Your appointment is on Friday.", "Your appointment is "),
        ("You are booked for Thursday.", "Your appointment is "),
    ],
    ids=["same words", "same start", "other words"],
)
def test_a_retry_after_a_reply_cut_off_midway_never_repeats_what_was_shown(
    served: Any, tenant: Tenant, fake: Any, retried: str, pieces: str
) -> None:
    api = served(tenant)
    created = _join(api, fake)
    cut = Reply(["Your ", "appointment ", "is ", "on ", "Thursday ", "at ", "9."], cut_after=4)
    fake.reply_in_turn(cut, Reply(retried))
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        frames = _turn(call, "When is my appointment?")
    assert frames[-1] == {"type": "assistant-message", "text": retried}
    shown = "".join(frame["text"] for frame in frames[:-1])
    assert shown == (retried if retried.startswith(pieces) else pieces)
    assert len(fake.received) == 2


def test_a_reply_that_does_not_stop_is_a_failed_request(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    created = _join(api, fake)
    endless = Reply(["Thursday " * 1_000] * 12)  # 108,000 characters in 12 pieces
    fake.reply_in_turn(Reply("Thursday at 9."), endless, endless)
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        _turn(call, "When is my appointment?")
        call.say("Which Thursday?")
        frames, code = call.closing()
    failed_as(frames[-1], "pipeline-error-llm", "openai")
    assert code == 1000
    assert len(fake.received) == 3
    # What the person was shown before the limit (11 pieces) is kept, marked as cut off.
    said = _texts(_ended(api, created["id"]))
    assert said[-2] == ("user", "Which Thursday?")
    assert said[-1] == ("assistant", ("Thursday " * 1_000 * 11).rstrip() + CUT_OFF)


@PROVIDERS
def test_a_second_failure_ends_the_call_as_pipeline_error_llm_keeping_what_was_said(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant)
    created = _join(api, fake, provider)
    fake.reply_in_turn(Reply("Thursday at 9."), Failure(500), Failure(503))
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        _turn(call, "When is my appointment?")
        call.say("Can I move it?")
        frames, code = call.closing()
    [ended_frame] = frames
    failed_as(ended_frame, "pipeline-error-llm", provider, "answered 503", "127.0.0.1")
    assert code == 1000
    assert len(fake.received) == 3
    ended = _ended(api, created["id"])
    assert ended["ended_reason"] == "pipeline-error-llm"
    assert _texts(ended) == [
        ("assistant", FIRST),
        ("user", "When is my appointment?"),
        ("assistant", "Thursday at 9."),
        ("user", "Can I move it?"),
    ]


@pytest.mark.parametrize("moment", ["waiting for the caller", "while the model answers"])
def test_ending_a_live_call_by_request_tells_the_caller_manually_canceled(
    served: Any, tenant: Tenant, fake: Any, moment: str
) -> None:
    api = served(tenant)
    created = _join(api, fake)
    fake.script = lambda _request: Reply("Thursday at 9.", delay=30)
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        if moment == "while the model answers":
            call.say("When is my appointment?")
            eventually(lambda: bool(fake.received), "the model being asked", 10)
        answer = api.request("POST", f"/v1/call/{created['id']}/end")
        assert answer.status_code == 200, answer.text
        assert answer.json()["ended_reason"] == "manually-canceled"
        frames, code = call.closing(timeout=5)
    assert frames == [{"type": "call-ended", "ended_reason": "manually-canceled"}]
    assert code == 1000
    ended = _ended(api, created["id"])
    assert ended["ended_reason"] == "manually-canceled"
    assert _texts(ended)[0] == ("assistant", FIRST)
    again = api.request("POST", f"/v1/call/{created['id']}/end").json()
    assert (again["ended_reason"], again["ended_at"]) == ("manually-canceled", ended["ended_at"])


def test_silence_after_the_assistants_turn_ends_the_call(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message=FIRST)
    too_short = api.create_call(assistant["id"], task_parameters={"silence_timeout_seconds": 4})
    assert too_short.status_code == 400
    assert "silence_timeout_seconds" in too_short.json()["message"]
    created = api.start_call(assistant["id"], task_parameters={"silence_timeout_seconds": 5})
    # The model takes a while: silence is counted from the end of its turn, not before.
    fake.script = lambda _request: Reply("Thursday at 9.", delay=1.5)
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        _turn(call, "When is my appointment?")
        replied = time.monotonic()
        frames, code = call.closing(timeout=15)
        silent_for = time.monotonic() - replied
    assert frames == [{"type": "call-ended", "ended_reason": "silence-timed-out"}]
    assert code == 1000
    assert 4.8 <= silent_for < 12
    assert _ended(api, created["id"])["ended_reason"] == "silence-timed-out"


def test_a_call_ends_at_its_maximum_duration_even_while_the_model_answers(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    created = _join(api, fake, max_duration_seconds=10)
    too_short = api.create_call(
        created["assistant_id"], task_parameters={"max_duration_seconds": 9}
    )
    assert too_short.status_code == 400
    assert "max_duration_seconds" in too_short.json()["message"]
    fake.script = lambda _request: Reply("Thursday at 9.", delay=60)
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        call.say("When is my appointment?")
        frames, code = call.closing(timeout=20)
    assert frames == [{"type": "call-ended", "ended_reason": "exceeded-max-duration"}]
    assert code == 1000
    ended = _ended(api, created["id"])
    assert ended["ended_reason"] == "exceeded-max-duration"
    assert 10_000 <= ended["duration_ms"] < 20_000
    assert _texts(ended) == [("assistant", FIRST), ("user", "When is my appointment?")]


PLAN = {
    "summaryPrompt": "Summarise the call with {{patient}}.",
    "structuredDataPrompt": "Extract the appointment details.",
    "structuredDataSchema": {
        "type": "object",
        "properties": {"confirmed": {"type": "boolean"}, "day": {"type": "string"}},
        "required": ["confirmed", "day"],
    },
    "successEvaluationPrompt": "Judge whether {{patient}} confirmed the appointment.",
    "successEvaluationRubric": "PassFail",
}
DATA = {"confirmed": True, "day": "Thursday"}


def _structured(provider: str, value: dict[str, Any]) -> Reply:
    """A structured answer as each provider gives it: OpenAI's text, Anthropic's forced tool."""
    if provider == "openai":
        return Reply(orjson.dumps(value).decode())
    return Reply(tool_calls=[Call("structured_output", value)])


def _system(body: dict[str, Any]) -> str:
    if "system" in body:
        return str(body["system"])
    return "".join(m["content"] for m in body["messages"] if m["role"] == "system")


@PROVIDERS
def test_messages_are_stored_as_said_then_analysed_and_reported_once(
    served: Any, tenant: Tenant, fake: Any, receiver: Any, provider: str
) -> None:
    api = served(tenant)
    url = receiver.on("/report", lambda _n: Answer())
    created = _join(
        api,
        fake,
        provider,
        {"patient": "Ada"},
        analysis_plan=PLAN,
        webhook_url=url,
        webhook_secret="s3cret-value",
    )
    conversation = [Reply("Thursday at 9."), Reply("Goodbye!", tool_calls=[END_CALL])]
    analysis = {
        "Summarise": Reply("Ada confirmed Thursday."),
        "Extract": _structured(provider, DATA),
        "Judge": _structured(provider, {"result": True}),
    }

    def script(body: dict[str, Any]) -> Reply | Failure:
        if "end_call" in _tool_names(body):
            return conversation.pop(0)
        return next(reply for word, reply in analysis.items() if word in _system(body))

    fake.script = script
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        _turn(call, "When is my appointment?")
        live = api.wait_for_call(
            created["id"], "messages stored as said", lambda c: len(c.get("messages", [])) == 3
        )
        assert live["call_status"] == "in-progress"
        assert live["transcript"].splitlines() == [
            f"AI: {FIRST}",
            "User: When is my appointment?",
            "AI: Thursday at 9.",
        ]
        call.say("Yes, I'll be there.")
        assert call.until("call-ended")[-1]["ended_reason"] == "assistant-ended"

    ended = api.wait_for_call(created["id"], "the analysis", lambda c: "analysis" in c)
    messages = ended["messages"]
    assert [m["role"] for m in messages] == ["assistant", "user", "assistant", "user", "assistant"]
    assert messages[:3] == live["messages"]
    for earlier, message in zip([None, *messages], messages, strict=False):
        assert message["duration"] == message["endTime"] - message["time"] >= 0
        if earlier is not None:
            assert message["time"] >= earlier["time"]
            assert message["secondsFromStart"] >= earlier["secondsFromStart"]
    assert ended["summary"] == "Ada confirmed Thursday."
    assert ended["analysis"] == {"structuredData": DATA, "successEvaluation": True}
    analysed = [r.json for r in fake.received if "end_call" not in _tool_names(r.json)]
    assert len(analysed) == 3
    assert all(("user", ended["transcript"]) in _turns(body) for body in analysed)
    systems = " ".join(_system(body) for body in analysed)
    assert "Summarise the call with Ada." in systems and "Judge whether Ada" in systems

    (delivered,) = receiver.wait_for("/report", 1)
    report = orjson.loads(delivered.body)
    assert (report["id"], report["ended_reason"]) == (created["id"], "assistant-ended")
    assert report["summary"] == "Ada confirmed Thursday."
    assert report["analysis"] == ended["analysis"]
    assert report["transcript"] == ended["transcript"]
    public_key = api.request("GET", "/v1/webhook-signing-key").content
    verify(delivered.body, delivered.headers, public_key, secret="s3cret-value")

    def delivered_once() -> bool:
        deliveries = api.request("GET", "/v1/webhook-deliveries").json()
        return [d["status"] for d in deliveries] == ["succeeded"]

    eventually(delivered_once, "the report's delivery settling", 10)
    assert len(receiver.to("/report")) == 1
