"""OpenAI chat completions, and every server that speaks the same API.

Requests go to ``{base_url}/chat/completions`` with the key as a bearer token; the base URL
includes the API version (``https://api.openai.com/v1``), as the official SDK takes it, so an
OpenAI-compatible server is used by giving its own base URL. A streamed reply arrives as SSE
chunks ending with ``data: [DONE]``; a tool call arrives in pieces keyed by ``index`` (its id
and name first, then its JSON arguments in fragments) and is handed on whole at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from clarion.providers.endpoint import Endpoint, HTTPProvider
from clarion.providers.errors import ProviderError
from clarion.providers.limits import ReplyLimits
from clarion.providers.messages import (
    ChatRequest,
    Completion,
    Message,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    decoded_tool_call,
)
from clarion.providers.provider import STRUCTURED_OUTPUT_NAME

DEFAULT_BASE_URL = "https://api.openai.com/v1"

_SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError)


class OpenAIProvider(HTTPProvider):
    """Chat completions over the caller's session; see the module docstring."""

    name = "openai"
    path = "chat/completions"
    default_base_url = DEFAULT_BASE_URL

    def headers(self, api_key: str) -> dict[str, str]:
        """The headers that carry the API key."""
        return {"Authorization": f"Bearer {api_key}"}

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The reply as it is generated (see :class:`~clarion.providers.provider.Provider`)."""
        limits = self._endpoint.limits()
        reply = _StreamedReply(self._endpoint, limits)
        async with self._endpoint.events(_body(request, stream=True), limits) as events:
            async for event in events:
                if event.data == b"[DONE]":
                    break
                text = reply.take(event.data)
                if text:
                    yield TextDelta(text)
            else:
                if reply.finish_reason is None:
                    raise ProviderError(self.name, "the stream ended early", retryable=True)
        for call in reply.tool_calls():
            yield call
        yield reply.end()

    async def complete(self, request: ChatRequest) -> Completion:
        """The whole reply in one answer."""
        document = await self._endpoint.answer(_body(request, stream=False))
        limits = self._endpoint.limits()
        try:
            choice = document["choices"][0]
            message = choice["message"]
            calls = []
            for call in message.get("tool_calls") or ():
                limits.tool_call()
                arguments = limits.arguments(call["function"]["arguments"])
                calls.append(
                    decoded_tool_call(self.name, call["id"], call["function"]["name"], arguments)
                )
            finish = choice.get("finish_reason") or "stop"
            text = limits.text(message.get("content") or "")
        except _SHAPE_ERRORS:
            raise _unexpected_shape() from None
        if message.get("refusal") and not text:
            finish = "content_filter"
        return Completion(text, tuple(calls), finish)


def _body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(message) for message in request.messages],
    }
    if stream:
        body["stream"] = True
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
    if request.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": STRUCTURED_OUTPUT_NAME, "schema": request.json_schema},
        }
    return body


def _message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if not message.tool_calls:
        return {"role": message.role, "content": message.content}
    return {
        "role": "assistant",
        "content": message.content or None,  # null, not "", beside tool calls
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": orjson.dumps(call.arguments).decode()},
            }
            for call in message.tool_calls
        ],
    }


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    fragments: list[str] = field(default_factory=list)


class _StreamedReply:
    """What the chunks of one streamed reply add up to, beyond its text."""

    def __init__(self, endpoint: Endpoint, limits: ReplyLimits) -> None:
        self._endpoint = endpoint
        self._limits = limits
        self.finish_reason: str | None = None
        self._refused = False
        self._calls: dict[int, _PartialCall] = {}
        self._last_index = -1

    def take(self, data: bytes) -> str | None:
        """Take in one chunk; return the text it adds."""
        chunk = self._endpoint.decode(data)
        if not isinstance(chunk, dict):
            raise _unexpected_shape()
        if chunk.get("error"):
            raise self._endpoint.error_in_stream(chunk)
        try:
            choices = chunk.get("choices")
            if not choices:
                return None  # the usage chunk, or a keep-alive of some compatible server
            choice = choices[0]
            delta = choice.get("delta") or {}
            pieces = delta.get("tool_calls")
            if pieces:
                self._take_tool_call_pieces(pieces)
            if delta.get("refusal"):
                self._refused = True
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            text: str | None = delta.get("content")
            return self._limits.text(text) if text else None
        except _SHAPE_ERRORS:
            raise _unexpected_shape() from None

    def end(self) -> StreamEnd:
        """The end of the reply. ``stop`` is made more telling where it hides something: a
        reply with tool calls (OpenAI says ``stop`` when a tool was forced, some compatible
        servers always do) ends in ``tool_calls``; a refusal (structured output's way to
        decline) in ``content_filter``, as Anthropic's ``refusal`` does."""
        reason = self.finish_reason or "stop"
        if reason == "stop" and self._calls:
            return StreamEnd("tool_calls")
        return StreamEnd("content_filter" if self._refused and reason == "stop" else reason)

    def tool_calls(self) -> list[ToolCall]:
        """The tool calls, whole, in the order the model made them."""
        provider = self._endpoint.provider
        return [
            # A compatible server that sends no id still needs one for the tool's answer.
            decoded_tool_call(
                provider, call.id or f"call_{index}", call.name, "".join(call.fragments)
            )
            for index, call in sorted(self._calls.items())
        ]

    def _take_tool_call_pieces(self, pieces: list[dict[str, Any]]) -> None:
        for piece in pieces:
            index = piece.get("index")
            if index is None:
                # Some compatible servers leave out the index: a piece with an id starts a call.
                index = self._last_index + 1 if piece.get("id") else max(self._last_index, 0)
            self._last_index = index
            call = self._calls.get(index)
            if call is None:
                self._limits.tool_call()
                call = self._calls[index] = _PartialCall()
            function = piece.get("function") or {}
            # Id and name come whole in the first piece; a server repeating them adds nothing.
            call.id = call.id or piece.get("id") or ""
            call.name = call.name or function.get("name") or ""
            if function.get("arguments"):
                call.fragments.append(self._limits.arguments(function["arguments"]))


def _unexpected_shape() -> ProviderError:
    return ProviderError("openai", "sent an answer of an unexpected shape", retryable=False)
