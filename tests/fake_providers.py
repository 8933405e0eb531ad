"""A fake OpenAI and Anthropic on 127.0.0.1: the tests' only stand-in for the paid providers.

It answers at the real paths, streaming (SSE as the real APIs send it, a few words per chunk)
or not, refuses what the real APIs refuse about a conversation's shape, and records every
request. Each test scripts the replies::

    with running_fake_providers() as fake:
        fake.script = lambda request: Reply("Hello, this is Northside Clinic.")
        provider = OpenAIProvider(session, "sk-test", base_url=fake.openai_url)
        ...
        assert fake.last.json["temperature"] == 0.3

A script that raises answers 500 and fails the test when the server stops.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from aiohttp import web
from multidict import CIMultiDict

PIECE_CHARS = 8  # tool-call arguments stream in pieces this long


@dataclass(frozen=True)
class Call:
    """A tool call to script; ``arguments`` as a str is sent as it is (to send broken JSON)."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str = ""

    @property
    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else _dumps(self.arguments)


@dataclass(frozen=True)
class Failure:
    """An error answer: the status, and the provider's error object (type from the status
    when not given)."""

    status: int
    message: str = "The fake provider refused."
    error_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Reply:
    """A model's reply. ``text`` as a str streams a word per chunk; as a sequence, one chunk
    per item. ``cut_after`` drops the connection after that many events; ``end_after`` ends
    the body properly there; ``stall_after`` waits ``stall`` seconds there, as a model that
    thinks mid-reply; ``fail_with`` sends an error event after the content;
    ``linger`` waits between the last event and the end of the body, as a proxy may; ``raw``
    replaces the events with these, sent as given (another server's dialect); ``pace`` waits
    that long before each event, and ``drip`` sends the events a byte at a time, that long
    apart (a stream kept open without content)."""

    text: str | Sequence[str] = ""
    tool_calls: Sequence[Call] = ()
    finish_reason: str | None = None
    delay: float = 0.0
    cut_after: int | None = None
    end_after: int | None = None
    stall_after: int | None = None
    stall: float = 0.0
    fail_with: Failure | None = None
    linger: float = 0.0
    raw: Sequence[bytes] | None = None
    pace: float = 0.0
    drip: float = 0.0

    @property
    def pieces(self) -> list[str]:
        return re.findall(r"\s*\S+\s*", self.text) if isinstance(self.text, str) else [*self.text]


Script = Callable[[dict[str, Any]], Reply | Failure]


@dataclass(frozen=True)
class Received:
    """A request the fake received: which API, its headers, its JSON body, and the client's
    port (one port for many requests: one kept-alive connection)."""

    provider: str
    headers: CIMultiDict[str]
    json: dict[str, Any]
    client_port: int


@dataclass
class FakeProviders:
    """The running fake: base URLs for each adapter, the script, what it received."""

    url: str = ""
    script: Script = lambda _request: Reply("Hello.")
    api_key: str | None = None  # when set, a request with another key is answered 401
    received: list[Received] = field(default_factory=list)
    script_errors: list[BaseException] = field(default_factory=list)

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_url(self) -> str:
        return self.url

    @property
    def last(self) -> Received:
        return self.received[-1]

    def reply_in_turn(self, *replies: Reply | Failure) -> None:
        """Answer the next requests with ``replies``, one each, in order."""
        queue = iter(replies)
        self.script = lambda _request: next(queue)


@contextmanager
def running_fake_providers() -> Iterator[FakeProviders]:
    """A fake on a free port, served from a thread of its own until the block ends."""
    fake = FakeProviders()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = asyncio.run_coroutine_threadsafe(_start(fake), loop).result(5)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    if fake.script_errors:
        raise AssertionError(f"the fake's script failed: {fake.script_errors[0]!r}")


async def _start(fake: FakeProviders) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", partial(_answer, fake, "openai"))
    app.router.add_post("/v1/messages", partial(_answer, fake, "anthropic"))
    # Cancelled when the client hangs up, so a delayed answer does not hold up the shutdown.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    return runner


async def _answer(fake: FakeProviders, provider: str, request: web.Request) -> web.StreamResponse:
    body = orjson.loads(await request.read())
    peer = request.transport.get_extra_info("peername") if request.transport else None
    headers = CIMultiDict(request.headers)
    fake.received.append(Received(provider, headers, body, peer[1] if peer else 0))
    answer = _refusal(fake, provider, headers, body) or _scripted(fake, body)
    await asyncio.sleep(answer.delay)
    if isinstance(answer, Failure):
        document = _error_object(provider, answer)
        extra = dict(answer.headers)
        return web.json_response(document, status=answer.status, headers=extra, dumps=_dumps)
    render = _openai if provider == "openai" else _anthropic
    if not body.get("stream"):
        return web.json_response(render(answer, body, stream=False), dumps=_dumps)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
    await response.prepare(request)
    events = render(answer, body, stream=True) if answer.raw is None else answer.raw
    for number, event in enumerate(events):
        if number == answer.cut_after and request.transport is not None:
            request.transport.abort()
            return response
        if number == answer.end_after:
            break
        if number == answer.stall_after:
            await asyncio.sleep(answer.stall)
        await asyncio.sleep(answer.pace)
        if answer.drip:
            for byte in event:
                await response.write(bytes((byte,)))
                await asyncio.sleep(answer.drip)
        else:
            await response.write(event)
    await asyncio.sleep(answer.linger)
    await response.write_eof()
    return response


def _scripted(fake: FakeProviders, body: dict[str, Any]) -> Reply | Failure:
    try:
        return fake.script(body)
    except Exception as exc:  # surfaced to the test when the fake stops
        fake.script_errors.append(exc)
        return Failure(500, "the test's script failed")


def _refusal(
    fake: FakeProviders, provider: str, headers: CIMultiDict[str], body: dict[str, Any]
) -> Failure | None:
    """What the real API would refuse: a wrong key, and for Anthropic a badly shaped request."""
    if provider == "openai":
        key = headers.get("Authorization", "").removeprefix("Bearer ")
        wrong_key = fake.api_key is not None and key != fake.api_key
        return Failure(401, "Incorrect API key provided.") if wrong_key else None
    if fake.api_key is not None and headers.get("x-api-key") != fake.api_key:
        return Failure(401, "invalid x-api-key")
    if "anthropic-version" not in headers:
        return Failure(400, "anthropic-version: header is required")
    problem = _anthropic_shape_problem(body)
    return None if problem is None else Failure(400, problem)


def _anthropic_shape_problem(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    turns = body.get("messages") or []
    if not turns or turns[0]["role"] != "user":
        return "messages: the first message must use the user role"
    for number, turn in enumerate(turns):
        if turn["role"] not in ("user", "assistant"):
            return f"messages.{number}.role: Input should be 'user' or 'assistant'"
        if number and turn["role"] == turns[number - 1]["role"]:
            return "messages: roles must alternate between user and assistant"
        blocks = turn["content"]
        blocks = [{"type": "text", "text": blocks}] if isinstance(blocks, str) else blocks
        if any(b["type"] == "text" and not b["text"] for b in blocks):
            return f"messages.{number}: text content blocks must be non-empty"
        kinds = [b["type"] == "tool_result" for b in blocks]
        if kinds != sorted(kinds, reverse=True):
            return f"messages.{number}: tool_result blocks must come first"
    return None


# The error types the real APIs give these statuses; others fall back by class of status.
_ERROR_TYPES = {
    ("openai", 429): "requests",
    ("anthropic", 401): "authentication_error",
    ("anthropic", 429): "rate_limit_error",
    ("anthropic", 529): "overloaded_error",
}


def _error_object(provider: str, failure: Failure) -> dict[str, Any]:
    server_fault = "server_error" if provider == "openai" else "api_error"
    fallback = "invalid_request_error" if failure.status < 500 else server_fault
    kind = failure.error_type or _ERROR_TYPES.get((provider, failure.status), fallback)
    if provider == "openai":
        return {"error": {"message": failure.message, "type": kind, "param": None, "code": None}}
    return {"type": "error", "error": {"type": kind, "message": failure.message}}


def _ids(reply: Reply, prefix: str) -> list[str]:
    return [call.id or f"{prefix}{number:04d}" for number, call in enumerate(reply.tool_calls)]


def _in_pieces(text: str) -> list[str]:
    return [text[i : i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)]


def _openai(reply: Reply, body: dict[str, Any], *, stream: bool) -> Any:
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    calls = [
        (id_, call.name, call.arguments_json)
        for id_, call in zip(_ids(reply, "call_fake"), reply.tool_calls, strict=True)
    ]
    head = {"id": "chatcmpl-fake", "created": 1_700_000_000, "model": body.get("model")}
    if not stream:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.pieces) or None}
        if calls:
            message["tool_calls"] = [
                {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}
                for id_, name, arguments in calls
            ]
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return {**head, "object": "chat.completion", "choices": [choice]}

    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": piece} for piece in reply.pieces]
    for index, (id_, name, arguments) in enumerate(calls):
        function = {"name": name, "arguments": ""}
        deltas.append(
            {"tool_calls": [{"index": index, "id": id_, "type": "function", "function": function}]}
        )
        deltas += [
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            for piece in _in_pieces(arguments)
        ]
    endings: list[dict[str, Any]] = [{}] if reply.fail_with is None else []
    chunks = [
        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None if delta else finish}
        for delta in [*deltas, *endings]
    ]
    events = [_data({**head, "object": "chat.completion.chunk", "choices": [c]}) for c in chunks]
    if reply.fail_with is not None:
        return [*events, _data(_error_object("openai", reply.fail_with))]
    return [*events, b"data: [DONE]\n\n"]


def _anthropic(reply: Reply, body: dict[str, Any], *, stream: bool) -> Any:
    text = "".join(reply.pieces)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": id_, "name": call.name, "input": call.arguments}
        for id_, call in zip(_ids(reply, "toolu_fake"), reply.tool_calls, strict=True)
    ]
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model")}
    finish = reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")
    usage = {"input_tokens": 25, "output_tokens": 9}
    if not stream:
        return {**message, "content": content, "stop_reason": finish, "usage": usage}

    events = [_event("message_start", message={**message, "content": [], "usage": usage})]
    for index, block in enumerate(content):
        if block["type"] == "text":
            opening = {**block, "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in reply.pieces]
        else:
            opening = {**block, "input": {}}
            pieces = ["", *_in_pieces(reply.tool_calls[index - bool(text)].arguments_json)]
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        events.append(_event("content_block_start", index=index, content_block=opening))
        events += [_event("ping")] if index == 0 else []
        events += [_event("content_block_delta", index=index, delta=delta) for delta in deltas]
        events.append(_event("content_block_stop", index=index))
    if reply.fail_with is not None:
        return [*events, _event("error", **_error_object("anthropic", reply.fail_with))]
    ending = {"stop_reason": finish, "stop_sequence": None}
    return [*events, _event("message_delta", delta=ending), _event("message_stop")]


def _data(document: Any) -> bytes:
    return b"data: " + orjson.dumps(document) + b"\n\n"


def _event(kind: str, **fields: Any) -> bytes:
    return b"event: " + kind.encode() + b"\n" + _data({"type": kind, **fields})


def _dumps(document: Any) -> str:
    return orjson.dumps(document).decode()
