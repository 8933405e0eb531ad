"""A provider that misbehaves on purpose cannot hold a call or swell the server: a stream kept
open without content, a byte at a time, arguments or text without end. Each is a failed
request, tried once more, then the call ends as pipeline-error-llm with what was said kept;
and a turn the person saw part of before the model failed is kept as they saw it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from calls_support import CallsApi, WebCall, failed_as
from clarion.engine.conversation import CUT_OFF
from fake_providers import Call, Failure, Reply
from support import Tenant

FIRST = "Hello, this is Northside Clinic."
IDLE = 2.0  # CLARION_MODEL_IDLE_SECONDS for these tests
PROVIDERS = pytest.mark.parametrize("provider", ["openai", "anthropic"])


def _openai_chunk(delta: dict[str, Any]) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": None}
    return b"data: " + orjson.dumps({"object": "chat.completion.chunk", "choices": [choice]})


def _anthropic_event(kind: str, **fields: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **fields})


# Streams that stay open and busy without ever adding to the reply, in each dialect.
EMPTY_CHUNKS = {
    "openai": [_openai_chunk({"role": "assistant", "content": ""}) + b"\n\n"]
    + [b'data: {"object":"chat.completion.chunk","choices":[]}\n\n', b": keep-alive\n\n"] * 40,
    "anthropic": [_anthropic_event("message_start", message={"id": "m", "content": []}) + b"\n\n"]
    + [_anthropic_event("ping") + b"\n\n"] * 80,
}


def _call(api: CallsApi, fake: Any, provider: str) -> dict[str, Any]:
    return api.call_on(fake, provider, first_message=FIRST)


def _opened(call: WebCall, call_id: int) -> None:
    assert call.next() == {"type": "call-started", "call_id": call_id}
    assert call.next() == {"type": "assistant-message", "text": FIRST}


def _ended(api: CallsApi, call_id: int) -> dict[str, Any]:
    return api.wait_for_call(call_id, "the end", lambda c: c["call_status"] == "ended")


def _texts(call: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["message"]) for m in call.get("messages", [])]


def _fails_twice(api: CallsApi, fake: Any, provider: str, bad: Reply) -> list[dict[str, Any]]:
    """Hold a call whose model answers ``bad`` to both attempts at a turn; its frames from the
    user's message to the end."""
    created = _call(api, fake, provider)
    fake.reply_in_turn(bad, bad)
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        call.say("When is my appointment?")
        frames, code = call.closing(timeout=20)
    failed_as(frames[-1], "pipeline-error-llm", provider, "127.0.0.1")
    assert code == 1000
    assert len(fake.received) == 2  # tried once more, then given up
    ended = _ended(api, created["id"])
    assert ended["ended_reason"] == "pipeline-error-llm"
    assert _texts(ended) == [("assistant", FIRST), ("user", "When is my appointment?")]
    return frames


@PROVIDERS
def test_a_stream_of_empty_chunks_and_keep_alives_is_a_failed_request(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant, model_idle_seconds=IDLE)
    busy = Reply(raw=EMPTY_CHUNKS[provider], pace=0.1)  # 8 s of events, no content
    frames = _fails_twice(api, fake, provider, busy)
    assert len(frames) == 1


@PROVIDERS
def test_a_reply_dripped_a_byte_at_a_time_is_a_failed_request(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant, model_idle_seconds=IDLE)
    # Bytes keep coming (one every 50 ms), but no piece of the reply is ever whole in time.
    dripped = Reply("Your appointment is on Thursday at 9.", drip=0.05)
    _fails_twice(api, fake, provider, dripped)


@PROVIDERS
def test_an_answer_that_does_not_begin_within_the_idle_limit_is_a_failed_request(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant, model_idle_seconds=IDLE)
    # Connected, but no answer for longer than the idle limit (shorter than the 30 s timeout).
    _fails_twice(api, fake, provider, Reply("Thursday at 9.", delay=3 * IDLE))


@PROVIDERS
def test_a_model_pausing_less_than_the_idle_limit_between_pieces_is_not_cut_off(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant, model_idle_seconds=IDLE)
    created = _call(api, fake, provider)
    # Longer than the limit in all, but never that long without a word.
    fake.reply_in_turn(Reply("Your appointment is on Thursday at 9.", pace=0.3))
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        call.say("When is my appointment?")
        assert call.until("assistant-message")[-1] == {
            "type": "assistant-message",
            "text": "Your appointment is on Thursday at 9.",
        }
        call.hang_up()
    assert len(fake.received) == 1


@PROVIDERS
def test_tool_call_arguments_without_end_are_a_failed_request(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant)
    huge = Reply(tool_calls=[Call("end_call", {"reason": "x" * 200_000})])
    _fails_twice(api, fake, provider, huge)


def test_more_tool_calls_than_a_reply_may_make_are_a_failed_request(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    many = Reply(tool_calls=[Call("end_call", id=f"call_{n}") for n in range(100)])
    _fails_twice(api, fake, "openai", many)


@PROVIDERS
def test_a_turn_the_model_failed_in_midway_is_kept_as_the_person_saw_it(
    served: Any, tenant: Tenant, fake: Any, provider: str
) -> None:
    api = served(tenant)
    created = _call(api, fake, provider)
    pieces = ["Your ", "appointment ", "is ", "on ", "Thursday ", "at ", "9."]
    # Two pieces shown, then the connection drops; the retry is refused outright.
    fake.reply_in_turn(Reply(pieces, cut_after=3 if provider == "openai" else 5), Failure(500))
    with api.join(created["web_call_url"]) as call:
        _opened(call, created["id"])
        call.say("When is my appointment?")
        frames, _code = call.closing(timeout=20)
    shown = "".join(frame["text"] for frame in frames if frame["type"] == "assistant-delta")
    assert shown == "Your appointment "
    assert frames[-2:] == [
        {"type": "assistant-message", "text": "Your appointment" + CUT_OFF},
        {
            "type": "call-ended",
            "ended_reason": "pipeline-error-llm",
            "failure_detail": frames[-1]["failure_detail"],
        },
    ]
    failed_as(frames[-1], "pipeline-error-llm", provider, "answered 500", "127.0.0.1")
    ended = _ended(api, created["id"])
    assert _texts(ended)[-1] == ("assistant", "Your appointment" + CUT_OFF)
    assert ended["transcript"].endswith("AI: Your appointment" + CUT_OFF)


def test_a_failure_before_anything_was_shown_adds_no_message(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    _fails_twice(api, fake, "openai", Reply(["Your ", "appointment"], cut_after=1))
