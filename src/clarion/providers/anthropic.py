"""Anthropic messages.

Requests go to ``{base_url}/v1/messages`` with the key in ``x-api-key`` and
``anthropic-version: 2023-06-01``. The Messages API is stricter about a conversation's shape
than OpenAI's, so the conversation is sent like this:

- System messages, wherever they stand, are joined (a blank line apart) into the top-level
  ``system`` field: the API has no system turns.
- A tool call is a ``tool_use`` block of the assistant turn that made it; a tool result is a
  ``tool_result`` block of a user turn, placed before any text of that turn, as the API asks.
- Turns must alternate between user and assistant, so consecutive turns of one role (a tool
  result and what the caller then said, say) are merged into one turn, in order.
- The first turn must be the user's. A conversation that opens with the assistant (a phone
  call's greeting) or holds only the prompt gets :data:`OPENING_TURN` as a user turn first.
- Empty text is left out: the API refuses empty text blocks.
- A conversation that ends with an assistant turn asks Anthropic to continue that turn (a
  prefill), not to add a new one as OpenAI would.
- ``max_tokens`` is required: :data:`DEFAULT_MAX_TOKENS` when the request sets none.

Anthropic has no ``response_format``. Structured output is asked for by making the model call
a tool whose ``input_schema`` is the schema (``tool_choice``); that call's input is the
reply's text (streamed as its JSON fragments), never a tool call. The schema must describe an
object, as every tool input does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson

from clarion.providers import messages as chat
from clarion.providers.anthropic_stream import StreamedReply, finish_reason, unexpected_shape
from clarion.providers.endpoint import HTTPProvider
from clarion.providers.messages import (
    ChatRequest,
    Completion,
    Message,
    ToolCall,
)
from clarion.providers.provider import STRUCTURED_OUTPUT_NAME

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS = 1024
OPENING_TURN = "[the conversation has started]"


class AnthropicProvider(HTTPProvider):
    """The Messages API over the caller's session; see the module docstring."""

    name = "anthropic"
    path = "v1/messages"
    default_base_url = DEFAULT_BASE_URL

    def headers(self, api_key: str) -> dict[str, str]:
        """The headers that carry the API key."""
        return {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}

    async def stream(self, request: ChatRequest) -> AsyncIterator[chat.StreamEvent]:
        """The reply as it is generated (see :class:`~clarion.providers.provider.Provider`)."""
        limits = self._endpoint.limits()
        reply = StreamedReply(self._endpoint, limits, structured=request.json_schema is not None)
        async with self._endpoint.events(_body(request, stream=True), limits) as events:
            async for event in events:
                text = reply.take(event.data)
                if text:
                    yield chat.TextDelta(text)
                if reply.stopped:
                    break
        if not reply.stopped:
            raise reply.ended_early()
        for call in reply.tool_calls:
            yield call
        yield chat.StreamEnd(reply.finish_reason)

    async def complete(self, request: ChatRequest) -> Completion:
        """The whole reply in one answer."""
        structured = request.json_schema is not None
        document = await self._endpoint.answer(_body(request, stream=False))
        limits = self._endpoint.limits()
        texts: list[str] = []
        calls: list[ToolCall] = []
        try:
            for block in document["content"]:
                if block["type"] == "text" and not structured:
                    texts.append(limits.text(block["text"]))
                elif block["type"] != "tool_use":
                    continue
                elif structured and block["name"] == STRUCTURED_OUTPUT_NAME:
                    texts.append(limits.text(orjson.dumps(block["input"]).decode()))
                elif isinstance(block["input"], dict):
                    limits.tool_call()
                    limits.arguments(orjson.dumps(block["input"]).decode())
                    calls.append(ToolCall(block["id"], block["name"], block["input"]))
                else:
                    raise unexpected_shape()
            stop_reason = document.get("stop_reason")
        except (AttributeError, KeyError, TypeError):
            raise unexpected_shape() from None
        return Completion("".join(texts), tuple(calls), finish_reason(stop_reason, structured))


def _body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    system, turns = _conversation(request.messages)
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": DEFAULT_MAX_TOKENS if request.max_tokens is None else request.max_tokens,
        "messages": turns,
    }
    if system:
        body["system"] = system
    if stream:
        body["stream"] = True
    if request.temperature is not None:
        body["temperature"] = request.temperature
    tools = [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
        for tool in request.tools
    ]
    if request.json_schema is not None:
        tools.append(
            {
                "name": STRUCTURED_OUTPUT_NAME,
                "description": "Give the answer in this structure.",
                "input_schema": request.json_schema,
            }
        )
        body["tool_choice"] = {"type": "tool", "name": STRUCTURED_OUTPUT_NAME}
    if tools:
        body["tools"] = tools
    return body


def _conversation(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """The ``system`` text and the alternating turns, as the module docstring describes."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            if message.content:
                system.append(message.content)
            continue
        blocks = _blocks(message)
        if not blocks:
            continue
        role = "assistant" if message.role == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=_after_tool_results)  # stable: order kept otherwise
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [{"type": "text", "text": OPENING_TURN}]})
    return "\n\n".join(system), turns


def _blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        if message.content:
            result["content"] = message.content
        return [result]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        )
    return blocks


def _after_tool_results(block: dict[str, Any]) -> bool:
    return bool(block["type"] != "tool_result")
