"""Reading Anthropic's streamed events into a reply.

A reply streams as content blocks: ``content_block_start`` opens a text or ``tool_use``
block (the latter with the call's id and name), ``content_block_delta`` adds ``text_delta``
text or ``input_json_delta`` fragments of the call's JSON input, ``content_block_stop`` closes
it; ``message_delta`` brings the stop reason and ``message_stop`` ends the reply. ``ping``
keeps the connection alive and ``error`` reports a failure mid-stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from clarion.providers.endpoint import Endpoint
from clarion.providers.errors import ProviderError
from clarion.providers.limits import ReplyLimits
from clarion.providers.messages import ToolCall, decoded_tool_call
from clarion.providers.provider import STRUCTURED_OUTPUT_NAME

# Anthropic's stop reasons in OpenAI's words, which StreamEnd uses for every provider.
_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: Any, structured: bool) -> str:
    """Anthropic's stop reason as a finish reason; the forced structured-output call is the
    reply itself, so for it ``tool_use`` is a plain stop."""
    if not isinstance(stop_reason, str):
        return "stop"
    if structured and stop_reason == "tool_use":
        return "stop"
    return _FINISH_REASONS.get(stop_reason, stop_reason)


def unexpected_shape() -> ProviderError:
    """The error for an answer or event that is JSON but not of Anthropic's shape."""
    return ProviderError("anthropic", "sent an answer of an unexpected shape", retryable=False)


@dataclass(slots=True)
class _ToolUse:
    id: str
    name: str
    structured: bool
    fragments: list[str] = field(default_factory=list)


class StreamedReply:
    """What the events of one streamed reply add up to, beyond its text."""

    def __init__(self, endpoint: Endpoint, limits: ReplyLimits, *, structured: bool) -> None:
        self._endpoint = endpoint
        self._limits = limits
        self._structured = structured
        self._open: dict[int, _ToolUse] = {}
        self._stop_reason: str | None = None
        self.tool_calls: list[ToolCall] = []
        self.stopped = False

    @property
    def finish_reason(self) -> str:
        """How the reply ended, in OpenAI's words."""
        return finish_reason(self._stop_reason, self._structured)

    def take(self, data: bytes) -> str | None:
        """Take in one event; return the text it adds to the reply."""
        event = self._endpoint.decode(data)
        if not isinstance(event, dict):
            raise unexpected_shape()
        try:
            return self._take(event)
        except (AttributeError, KeyError, TypeError):
            raise unexpected_shape() from None

    def ended_early(self) -> ProviderError:
        """The error for a stream that ended before ``message_stop``."""
        return ProviderError(self._endpoint.provider, "the stream ended early", retryable=True)

    def _take(self, event: dict[str, Any]) -> str | None:
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                text: str = self._limits.text(delta["text"])
                return text
            if delta["type"] == "input_json_delta":
                tool_use = self._open.get(event["index"])
                if tool_use is not None and tool_use.structured:
                    structured_text: str = self._limits.text(delta["partial_json"])
                    return structured_text
                if tool_use is not None:
                    tool_use.fragments.append(self._limits.arguments(delta["partial_json"]))
        elif kind == "content_block_start":
            return self._start(event["index"], event["content_block"])
        elif kind == "content_block_stop":
            tool_use = self._open.pop(event["index"], None)
            if tool_use is not None and not tool_use.structured:
                arguments = "".join(tool_use.fragments)
                provider = self._endpoint.provider
                self.tool_calls.append(
                    decoded_tool_call(provider, tool_use.id, tool_use.name, arguments)
                )
        elif kind == "message_delta":
            self._stop_reason = event["delta"].get("stop_reason") or self._stop_reason
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            raise self._endpoint.error_in_stream(event)
        # message_start, ping, and deltas of blocks the engine does not use (thinking) add nothing
        return None

    def _start(self, index: int, block: dict[str, Any]) -> str | None:
        if block["type"] != "tool_use":
            return None
        structured = self._structured and block["name"] == STRUCTURED_OUTPUT_NAME
        if not structured:
            self._limits.tool_call()
        tool_use = _ToolUse(block["id"], block["name"], structured)
        self._open[index] = tool_use
        given = block.get("input")
        if not given:
            return None  # the input follows as fragments
        # A proxy may send the whole input at the start; it is the first and only fragment.
        whole = orjson.dumps(given).decode()
        if structured:
            return self._limits.text(whole)
        tool_use.fragments.append(self._limits.arguments(whole))
        return None
