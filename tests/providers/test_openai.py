"""The OpenAI adapter against the fake chat completions API, over real HTTP."""

from __future__ import annotations

import socket

import orjson
import pytest
from provider_client import KEY, Client

from clarion.providers import (
    ChatRequest,
    Message,
    Provider,
    ProviderError,
    StreamEnd,
    Tool,
    ToolCall,
)
from fake_providers import Call, Failure, FakeProviders, Reply

WORDS = "my chest has hurt since Tuesday"
HELLO = ChatRequest("gpt-4o", [Message.system("You are kind."), Message.user(WORDS)])
END_CALL = Tool("end_call", "End the call.", {"type": "object", "properties": {}})
BOOK = Tool(
    "book_appointment",
    "Book a visit.",
    {"type": "object", "properties": {"date": {"type": "string"}, "time": {"type": "string"}}},
)


def test_text_streams_in_the_pieces_it_arrives_in(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply(["Hel", "lo, Ma", "ria."])

    reply = openai.stream(HELLO)

    assert reply.deltas == ["Hel", "lo, Ma", "ria."]
    assert reply.events[-1] == StreamEnd("stop")
    assert fake.last.json["stream"] is True


def test_a_tool_call_split_across_deltas_arrives_whole(fake: FakeProviders, openai: Client) -> None:
    arguments = {"date": "2026-03-02", "time": "09:30", "note": "bring the referral letter"}
    fake.script = lambda _request: Reply(
        tool_calls=[Call("book_appointment", arguments, id="call_1"), Call("end_call", id="call_2")]
    )

    reply = openai.stream(ChatRequest("gpt-4o", [Message.user("Tuesday works")], tools=[BOOK]))

    assert reply.events == [
        ToolCall("call_1", "book_appointment", arguments),
        ToolCall("call_2", "end_call", {}),
        StreamEnd("tool_calls"),
    ]


def test_text_and_a_tool_call_in_one_reply(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply(
        "Goodbye, take care.", tool_calls=[Call("end_call", {"reason": "done"}, id="call_9")]
    )

    reply = openai.stream(ChatRequest("gpt-4o", [Message.user("bye")], tools=[END_CALL]))

    assert reply.text == "Goodbye, take care."
    assert len(reply.deltas) > 1
    assert reply.events[-2:] == [
        ToolCall("call_9", "end_call", {"reason": "done"}),
        StreamEnd("tool_calls"),
    ]


def test_the_request_reaches_the_server_in_openais_shape(
    fake: FakeProviders, openai: Client
) -> None:
    booked = ToolCall("call_1", "book_appointment", {"date": "2026-03-02"})
    request = ChatRequest(
        "gpt-4o-mini",
        [
            Message.system("You remind patients of appointments."),
            Message.assistant("Hello, this is Northside Clinic."),
            Message.user("Book me for Monday."),
            Message.assistant(tool_calls=[booked]),
            Message.tool("call_1", "booked"),
        ],
        temperature=0.3,
        max_tokens=200,
        tools=[BOOK],
    )

    openai.stream(request)

    sent = fake.last.json
    assert sent["model"] == "gpt-4o-mini"
    assert sent["temperature"] == 0.3
    assert sent["max_tokens"] == 200
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "book_appointment",
                "description": "Book a visit.",
                "parameters": BOOK.parameters,
            },
        }
    ]
    assert sent["messages"] == [
        {"role": "system", "content": "You remind patients of appointments."},
        {"role": "assistant", "content": "Hello, this is Northside Clinic."},
        {"role": "user", "content": "Book me for Monday."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "book_appointment", "arguments": '{"date":"2026-03-02"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "booked"},
    ]


def test_options_not_set_are_not_sent(fake: FakeProviders, openai: Client) -> None:
    openai.stream(HELLO)

    assert set(fake.last.json) == {"model", "messages", "stream"}


def test_structured_output_asks_for_a_json_schema(fake: FakeProviders, openai: Client) -> None:
    schema = {"type": "object", "properties": {"booked": {"type": "boolean"}}}
    fake.script = lambda _request: Reply('{"booked": true}')

    completion = openai.complete(ChatRequest("gpt-4o", [Message.user(WORDS)], json_schema=schema))

    assert completion.text == '{"booked": true}'
    assert fake.last.json["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "structured_output", "schema": schema},
    }
    assert "stream" not in fake.last.json


def test_complete_returns_the_whole_reply(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply(
        "One moment.", tool_calls=[Call("end_call", {"reason": "done"}, id="call_3")]
    )

    completion = openai.complete(HELLO)

    assert completion.text == "One moment."
    assert completion.tool_calls == (ToolCall("call_3", "end_call", {"reason": "done"}),)
    assert completion.finish_reason == "tool_calls"


def test_the_key_goes_as_a_bearer_token(fake: FakeProviders, openai: Client) -> None:
    fake.api_key = KEY

    openai.stream(HELLO)

    assert fake.last.headers["Authorization"] == f"Bearer {KEY}"


def test_a_trailing_slash_on_the_base_url_is_fine(fake: FakeProviders, openai: Client) -> None:
    reply = openai.stream(HELLO, base_url=fake.openai_url + "/")

    assert reply.text == "Hello."


def test_turns_reuse_one_connection(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply("Yes.", linger=0.02)

    async def three_turns(provider: Provider) -> None:
        for _ in range(3):
            async for _event in provider.stream(HELLO):
                pass

    openai.run(three_turns)

    assert len({request.client_port for request in fake.received}) == 1


def _failure(openai: Client, request: ChatRequest = HELLO, **options: object) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        openai.stream(request, **options)
    error = caught.value
    assert KEY not in str(error) and KEY not in repr(error)
    assert WORDS not in str(error)
    return error


def test_a_wrong_key_is_not_worth_retrying(fake: FakeProviders, openai: Client) -> None:
    fake.api_key = "sk-the-right-one"

    error = _failure(openai)

    assert (error.status, error.retryable) == (401, False)
    assert "Incorrect API key" in str(error)


def test_a_key_echoed_in_an_error_is_blotted_out(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Failure(401, f"Incorrect API key provided: {KEY}.")

    assert "[api key]" in str(_failure(openai))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_faults_are_worth_retrying(
    fake: FakeProviders, openai: Client, status: int
) -> None:
    fake.script = lambda _request: Failure(status, "Try again.", headers={"retry-after": "2"})

    error = _failure(openai)

    assert (error.status, error.retryable, error.retry_after) == (status, True, 2.0)


def test_the_providers_own_retry_advice_wins(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Failure(500, "Bad model.", headers={"x-should-retry": "false"})

    assert _failure(openai).retryable is False


def test_a_refused_connection_is_worth_retrying(openai: Client) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    error = _failure(openai, base_url=f"http://127.0.0.1:{port}/v1")

    assert error.retryable and error.status is None


def test_a_stream_cut_off_midway_is_worth_retrying(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply("Your appointment is on Monday at nine.", cut_after=3)

    error = _failure(openai)

    assert error.retryable and "cut off" in str(error)


def test_a_stream_that_ends_before_the_reply_is_an_error(
    fake: FakeProviders, openai: Client
) -> None:
    fake.script = lambda _request: Reply("Your appointment is on Monday at nine.", end_after=3)

    error = _failure(openai)

    assert error.retryable and "ended early" in str(error)


def test_an_error_in_the_middle_of_a_stream(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply(
        "Your appoint", fail_with=Failure(500, "The server had an error.")
    )

    error = _failure(openai)

    assert error.retryable and error.error_type == "server_error"


def test_tool_arguments_that_are_not_json_are_an_error(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply(
        tool_calls=[Call("book_appointment", '{"note": "' + WORDS)]
    )

    error = _failure(openai, ChatRequest("gpt-4o", [Message.user("book")], tools=[BOOK]))

    assert "book_appointment" in str(error)


def test_a_silent_provider_times_out(fake: FakeProviders, openai: Client) -> None:
    fake.script = lambda _request: Reply("Late.", delay=2.0)

    error = _failure(openai, timeout=0.2)

    assert error.retryable and "0.2s" in str(error)


def test_tool_calls_without_an_index_as_some_compatible_servers_send_them(
    fake: FakeProviders, openai: Client
) -> None:
    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return b"data: " + orjson.dumps({"choices": [choice]}) + b"\n\n"

    def piece(arguments: str, **start: str) -> dict[str, object]:
        function = (
            {"name": start.pop("name"), "arguments": arguments}
            if start
            else {"arguments": arguments}
        )
        return {"tool_calls": [{**start, "function": function}]}

    fake.script = lambda _request: Reply(
        raw=[
            chunk(piece('{"date": ', id="c1", name="book_appointment")),
            chunk(piece('"2026-03-02"}')),
            chunk(piece("{}", id="c2", name="end_call")),
            chunk({}, "stop"),
            b"data: [DONE]\n\n",
        ]
    )

    reply = openai.stream(HELLO)

    assert reply.events == [
        ToolCall("c1", "book_appointment", {"date": "2026-03-02"}),
        ToolCall("c2", "end_call", {}),
        StreamEnd("tool_calls"),
    ]


def test_a_stream_of_something_other_than_json_is_an_error(
    fake: FakeProviders, openai: Client
) -> None:
    fake.script = lambda _request: Reply(raw=[b"data: <html>Bad gateway</html>\n\n"])

    error = _failure(openai)

    assert not error.retryable and "does not parse" in str(error)
