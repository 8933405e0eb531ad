"""The conversation as plain data: what the engine sends a language model and what comes back.

These types know no provider. Each adapter translates a :class:`ChatRequest` into its own
wire shape and its stream back into :data:`StreamEvent` values, so the engine is written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from clarion.providers.errors import ProviderError

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool the model asked to run: the provider's call id, the tool's name and its
    arguments, decoded. Both a stream event and part of the assistant message that made it."""

    id: str
    name: str
    arguments: dict[str, Any]


def decoded_tool_call(provider: str, call_id: str, name: str, arguments: str) -> ToolCall:
    """A tool call from its arguments as the model wrote them: a JSON object, or nothing for
    a tool without parameters. Anything else is a ProviderError, worth asking again."""
    if not arguments.strip():
        return ToolCall(call_id, name, {})
    try:
        decoded = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, dict):
        # Raised outside the except clause, so no decode error (which keeps the arguments,
        # and with them what the patient said) rides along as its context.
        raise ProviderError(
            provider,
            f"tool call {name[:64]!r} came with arguments that are not a JSON object",
            retryable=True,
        )
    return ToolCall(call_id, name, decoded)


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of the conversation.

    An assistant turn carries the tool calls it made; a tool turn answers one of them and
    names it in ``tool_call_id``. The class methods build each kind correctly.
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    def __post_init__(self) -> None:
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only an assistant message carries tool calls")
        if (self.role == "tool") != (self.tool_call_id is not None):
            raise ValueError("a tool message, and only a tool message, names its tool call")

    @classmethod
    def system(cls, content: str) -> Message:
        """Instructions for the model (the assistant's prompt)."""
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        """What the person said or typed."""
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
        """What the assistant said, and the tools it called while saying it."""
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, tool_call_id: str, content: str) -> Message:
        """The result of running the tool call ``tool_call_id``, as text for the model."""
        return cls("tool", content, tool_call_id=tool_call_id)


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the model may call: its name, what it is for, and a JSON Schema of its
    arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One request to a language model.

    ``temperature`` and ``max_tokens`` left as None leave the provider's default (Anthropic
    requires a maximum, so its adapter supplies one). ``json_schema`` asks for an answer that
    is a JSON document matching the schema, returned as the reply's text.
    """

    model: str
    messages: Sequence[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: Sequence[Tool] = ()
    json_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """The next piece of the reply's text."""

    text: str


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"] | str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The reply is complete. ``finish_reason`` uses OpenAI's words for every provider
    (``stop``, ``length``, ``tool_calls``, ``content_filter``); a reason with no such
    equivalent is passed on as the provider said it."""

    finish_reason: FinishReason


StreamEvent = TextDelta | ToolCall | StreamEnd


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole reply, for callers that do not stream (post-call analysis)."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: FinishReason
