"""Every part of a provider's answer has a bound, streamed or not, for both adapters: a reply
without end, tool-call arguments without end, too many tool calls, an answer too large to read
whole. Each is a failed request worth one more try, never read into memory past its bound."""

from __future__ import annotations

import pytest
from provider_client import Client

from clarion.providers import ChatRequest, Message, ProviderError
from clarion.providers.limits import (
    MAX_ANSWER_BYTES,
    MAX_REPLY_CHARS,
    MAX_TOOL_ARGUMENT_CHARS,
    MAX_TOOL_CALLS,
)
from fake_providers import Call, FakeProviders, Reply

REQUEST = ChatRequest("gpt-4o", [Message.user("When is my appointment?")])


@pytest.fixture(params=["openai", "anthropic"])
def adapter(request: pytest.FixtureRequest, openai: Client, anthropic: Client) -> Client:
    chosen: Client = openai if request.param == "openai" else anthropic
    return chosen


def _refused(run: object) -> ProviderError:
    assert callable(run)
    with pytest.raises(ProviderError) as caught:
        run()
    assert caught.value.retryable
    return caught.value


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
def test_a_reply_past_its_length_is_a_failed_request(
    fake: FakeProviders, adapter: Client, streamed: bool
) -> None:
    fake.script = lambda _request: Reply(["Thursday " * 1_000] * (MAX_REPLY_CHARS // 9_000 + 1))
    call = adapter.stream if streamed else adapter.complete
    error = _refused(lambda: call(REQUEST))
    assert f"ran past {MAX_REPLY_CHARS} characters" in str(error)


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
def test_tool_call_arguments_past_their_length_are_a_failed_request(
    fake: FakeProviders, adapter: Client, streamed: bool
) -> None:
    huge = {"note": "x" * MAX_TOOL_ARGUMENT_CHARS}
    fake.script = lambda _request: Reply(tool_calls=[Call("end_call", huge)])
    call = adapter.stream if streamed else adapter.complete
    error = _refused(lambda: call(REQUEST))
    assert "tool-call arguments ran past" in str(error)


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
def test_more_tool_calls_than_a_reply_may_make_are_a_failed_request(
    fake: FakeProviders, adapter: Client, streamed: bool
) -> None:
    calls = [Call("end_call", id=f"call_{n}") for n in range(MAX_TOOL_CALLS + 1)]
    fake.script = lambda _request: Reply(tool_calls=calls)
    call = adapter.stream if streamed else adapter.complete
    error = _refused(lambda: call(REQUEST))
    assert f"more than {MAX_TOOL_CALLS} tool calls" in str(error)


def test_a_whole_answer_past_its_size_is_not_read(fake: FakeProviders, openai: Client) -> None:
    # Escaped characters: few characters of text, but more bytes than an answer may have.
    fake.script = lambda _request: Reply("\u0001" * (MAX_ANSWER_BYTES // 6 + 1))
    error = _refused(lambda: openai.complete(REQUEST))
    assert f"the answer ran past {MAX_ANSWER_BYTES} bytes" in str(error)


def test_replies_within_every_bound_are_whole(fake: FakeProviders, adapter: Client) -> None:
    text = "Thursday " * 1_000
    fake.script = lambda _request: Reply(text, tool_calls=[Call("end_call", {"n": "x" * 90_000})])
    streamed = adapter.stream(REQUEST)
    assert streamed.text == text
    assert streamed.tool_calls[0].arguments == {"n": "x" * 90_000}
    completed = adapter.complete(REQUEST)
    assert completed.text == text
