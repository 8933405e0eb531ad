"""A web call end to end: created over REST, joined over a real WebSocket, answered by the
fake OpenAI or Anthropic, recorded, analysed and reported to a real receiver."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fake_providers import Call, Reply


def _assistant(api: Any, provider: str, fake: Any, **fields: Any) -> dict[str, Any]:
    system = {"role": "system", "content": "You remind {{patient}} of appointments."}
    return api.assistant_on(fake, provider, model={"messages": [system]}, **fields)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_web_call_from_first_message_to_report(
    served: Any, tenant: Any, fake: Any, receiver: Any, provider: str
) -> None:
    api = served(tenant)
    url = receiver.on("/report", lambda _n: __import__("webhook_receiver").Answer())
    assistant = _assistant(
        api,
        provider,
        fake,
        first_message="Hello {{patient}}, this is Northside Clinic.",
        webhook_url=url,
        webhook_secret="s3cret-value",
        analysis_plan={"summaryPrompt": "Summarize the call with {{patient}}."},
    )
    created = api.start_call(assistant["id"], task_parameters={"patient": "Ada"})
    assert created["call_status"] == "queued"
    assert created["web_call_url"].startswith("ws://127.0.0.1:")
    fake.reply_in_turn(
        Reply("Your appointment is on Thursday at 9."),
        Reply("Goodbye!", tool_calls=[Call("end_call")]),
        Reply("Ada confirmed Thursday."),
    )
    with api.join(created["web_call_url"]) as call:
        assert call.next() == {"type": "call-started", "call_id": created["id"]}
        assert call.next() == {
            "type": "assistant-message",
            "text": "Hello Ada, this is Northside Clinic.",
        }
        call.say("When is my appointment?")
        frames = call.until("assistant-message")
        assert [f["type"] for f in frames[:-1]] == ["assistant-delta"] * (len(frames) - 1)
        assert "".join(f["text"] for f in frames[:-1]) == frames[-1]["text"]
        assert frames[-1]["text"] == "Your appointment is on Thursday at 9."
        call.say("Thanks, bye.")
        frames = call.until("call-ended")
        assert frames[-2] == {"type": "assistant-message", "text": "Goodbye!"}
        assert frames[-1] == {"type": "call-ended", "ended_reason": "assistant-ended"}

    request = fake.received[0].json
    system = request["messages"][0] if provider == "openai" else {"content": request["system"]}
    assert "You remind Ada of appointments." in str(system["content"])
    assert request["temperature"] == 0.3

    ended = api.wait_for_call(created["id"], "analysis", lambda c: "summary" in c)
    assert ended["call_status"] == "ended"
    assert ended["ended_reason"] == "assistant-ended"
    assert ended["summary"] == "Ada confirmed Thursday."
    assert [m["role"] for m in ended["messages"]] == [
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert ended["transcript"].splitlines()[0] == "AI: Hello Ada, this is Northside Clinic."
    assert ended["duration_ms"] >= 0

    delivered = receiver.wait_for("/report", 1)
    report = orjson.loads(delivered[0].body)
    assert report["id"] == created["id"]
    assert report["ended_reason"] == "assistant-ended"
    assert report["call_type"] == "webCall"
    assert report["summary"] == "Ada confirmed Thursday."
    assert report["transcript"] == ended["transcript"]
    assert delivered[0].headers["X-Clarion-Secret"] == "s3cret-value"
