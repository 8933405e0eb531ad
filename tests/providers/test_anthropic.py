"""The Anthropic adapter against the fake Messages API, over real HTTP."""

from __future__ import annotations

import socket

import orjson
import pytest
from provider_client import KEY, Client

from clarion.providers import ChatRequest, Message, ProviderError, StreamEnd, Tool, ToolCall
from fake_providers import Call, Failure, FakeProviders, Reply

WORDS = "my chest has hurt since Tuesday"
HELLO = ChatRequest("claude-sonnet-4-5", [Message.system("Be kind."), Message.user(WORDS)])
BOOK = Tool(
    "book_appointment",
    "Book a visit.",
    {"type": "object", "properties": {"date": {"type": "string"}, "time": {"type": "string"}}},
)


def test_text_streams_in_the_pieces_it_arrives_in(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply(["Hel", "lo, Ma", "ria."])

    reply = anthropic.stream(HELLO)

    assert reply.deltas == ["Hel", "lo, Ma", "ria."]
    assert reply.events[-1] == StreamEnd("stop")
    assert fake.last.json["stream"] is True


def test_a_tool_call_from_partial_json_arrives_whole(
    fake: FakeProviders, anthropic: Client
) -> None:
    arguments = {"date": "2026-03-02", "time": "09:30", "note": "bring the referral letter"}
    fake.script = lambda _request: Reply(
        tool_calls=[
            Call("book_appointment", arguments, id="toolu_1"),
            Call("end_call", id="toolu_2"),
        ]
    )

    reply = anthropic.stream(
        ChatRequest("claude-sonnet-4-5", [Message.user("Tuesday")], tools=[BOOK])
    )

    assert reply.events == [
        ToolCall("toolu_1", "book_appointment", arguments),
        ToolCall("toolu_2", "end_call", {}),
        StreamEnd("tool_calls"),
    ]


def test_text_and_a_tool_call_in_one_reply(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply(
        "Goodbye, take care.", tool_calls=[Call("end_call", {"reason": "done"}, id="toolu_9")]
    )

    reply = anthropic.stream(HELLO)

    assert reply.text == "Goodbye, take care."
    assert len(reply.deltas) > 1
    assert reply.events[-2:] == [
        ToolCall("toolu_9", "end_call", {"reason": "done"}),
        StreamEnd("tool_calls"),
    ]


def test_the_request_reaches_the_server_in_anthropics_shape(
    fake: FakeProviders, anthropic: Client
) -> None:
    fake.api_key = KEY
    booked = ToolCall("toolu_1", "book_appointment", {"date": "2026-03-02"})
    request = ChatRequest(
        "claude-sonnet-4-5",
        [
            Message.system("You remind patients of appointments."),
            Message.user("Book me for Monday."),
            Message.assistant("Let me book that.", [booked]),
            Message.tool("toolu_1", "booked"),
            Message.system("Speak briefly."),
        ],
        temperature=0.3,
        max_tokens=200,
        tools=[BOOK],
    )

    anthropic.stream(request)

    assert fake.last.headers["x-api-key"] == KEY
    assert fake.last.headers["anthropic-version"] == "2023-06-01"
    sent = fake.last.json
    assert sent["system"] == "You remind patients of appointments.\n\nSpeak briefly."
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 200)
    assert sent["tools"] == [
        {
            "name": "book_appointment",
            "description": "Book a visit.",
            "input_schema": BOOK.parameters,
        }
    ]
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Book me for Monday."}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me book that."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "book_appointment",
                    "input": {"date": "2026-03-02"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "booked"}],
        },
    ]


def test_max_tokens_is_always_sent(fake: FakeProviders, anthropic: Client) -> None:
    anthropic.stream(HELLO)

    assert fake.last.json["max_tokens"] == 1024
    assert "temperature" not in fake.last.json and "tools" not in fake.last.json


def test_a_conversation_the_assistant_opens_begins_with_a_user_turn(
    fake: FakeProviders, anthropic: Client
) -> None:
    request = ChatRequest(
        "claude-sonnet-4-5",
        [
            Message.system("You call about appointments."),
            Message.assistant("Hello, this is Northside Clinic."),
            Message.user("Hi."),
        ],
    )

    reply = anthropic.stream(request)  # the fake refuses what the real API refuses

    assert reply.text == "Hello."
    assert [turn["role"] for turn in fake.last.json["messages"]] == ["user", "assistant", "user"]
    assert fake.last.json["messages"][0]["content"] == [
        {"type": "text", "text": "[the conversation has started]"}
    ]


def test_turns_of_one_role_in_a_row_are_merged(fake: FakeProviders, anthropic: Client) -> None:
    calls = [ToolCall("toolu_1", "check_calendar", {}), ToolCall("toolu_2", "check_insurance", {})]
    request = ChatRequest(
        "claude-sonnet-4-5",
        [
            Message.user("Hello?"),
            Message.user("Are you there?"),
            Message.assistant("Yes, one moment."),
            Message.assistant(tool_calls=calls),
            Message.tool("toolu_1", "Monday is free"),
            Message.user("Also, is my insurance fine?"),
            Message.tool("toolu_2", "covered"),
        ],
    )

    anthropic.stream(request)

    user, assistant, results = fake.last.json["messages"]
    assert [block["text"] for block in user["content"]] == ["Hello?", "Are you there?"]
    assert [block["type"] for block in assistant["content"]] == ["text", "tool_use", "tool_use"]
    assert [block.get("tool_use_id") for block in results["content"]] == [
        "toolu_1",
        "toolu_2",
        None,
    ]


def test_structured_output_is_a_forced_tool_returned_as_text(
    fake: FakeProviders, anthropic: Client
) -> None:
    schema = {"type": "object", "properties": {"booked": {"type": "boolean"}}}
    fake.script = lambda _request: Reply(tool_calls=[Call("structured_output", {"booked": True})])
    request = ChatRequest("claude-sonnet-4-5", [Message.user(WORDS)], json_schema=schema)

    streamed = anthropic.stream(request)
    completion = anthropic.complete(request)

    assert orjson.loads(streamed.text) == {"booked": True}
    assert streamed.tool_calls == [] and streamed.end == StreamEnd("stop")
    assert orjson.loads(completion.text) == {"booked": True}
    assert completion.tool_calls == () and completion.finish_reason == "stop"
    assert fake.last.json["tools"][-1]["input_schema"] == schema
    assert fake.last.json["tool_choice"] == {"type": "tool", "name": "structured_output"}


def test_complete_returns_the_whole_reply(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply(
        "One moment.", tool_calls=[Call("end_call", {"reason": "done"}, id="toolu_3")]
    )

    completion = anthropic.complete(HELLO)

    assert completion.text == "One moment."
    assert completion.tool_calls == (ToolCall("toolu_3", "end_call", {"reason": "done"}),)
    assert completion.finish_reason == "tool_calls"
    assert "stream" not in fake.last.json


def test_a_reply_cut_short_by_max_tokens_says_so(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply("Your appointment is", finish_reason="max_tokens")

    assert anthropic.stream(HELLO).end == StreamEnd("length")


def _failure(anthropic: Client, request: ChatRequest = HELLO, **options: object) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        anthropic.stream(request, **options)
    error = caught.value
    assert KEY not in str(error) and KEY not in repr(error)
    assert WORDS not in str(error)
    return error


def test_a_wrong_key_is_not_worth_retrying(fake: FakeProviders, anthropic: Client) -> None:
    fake.api_key = "sk-ant-the-right-one"

    error = _failure(anthropic)

    assert (error.status, error.retryable, error.error_type) == (401, False, "authentication_error")


@pytest.mark.parametrize("status", [429, 500, 529])
def test_rate_limits_and_overload_are_worth_retrying(
    fake: FakeProviders, anthropic: Client, status: int
) -> None:
    fake.script = lambda _request: Failure(status, "Overloaded", headers={"retry-after": "7"})

    error = _failure(anthropic)

    assert (error.status, error.retryable, error.retry_after) == (status, True, 7.0)


def test_a_refused_connection_is_worth_retrying(anthropic: Client) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    assert _failure(anthropic, base_url=f"http://127.0.0.1:{port}").retryable


def test_a_stream_cut_off_midway_is_worth_retrying(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply("Your appointment is on Monday at nine.", cut_after=4)

    error = _failure(anthropic)

    assert error.retryable and "cut off" in str(error)


def test_a_stream_without_message_stop_is_an_error(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply("Your appointment is on Monday at nine.", end_after=5)

    error = _failure(anthropic)

    assert error.retryable and "ended early" in str(error)


def test_an_error_event_in_the_middle_of_a_stream(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply("Your appoint", fail_with=Failure(529, "Overloaded"))

    error = _failure(anthropic)

    assert error.retryable and error.error_type == "overloaded_error"


def test_tool_input_that_is_not_json_is_an_error(fake: FakeProviders, anthropic: Client) -> None:
    fake.script = lambda _request: Reply(
        tool_calls=[Call("book_appointment", '{"note": "' + WORDS)]
    )

    error = _failure(
        anthropic, ChatRequest("claude-sonnet-4-5", [Message.user("book")], tools=[BOOK])
    )

    assert "book_appointment" in str(error)
