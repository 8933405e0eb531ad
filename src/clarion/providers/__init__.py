"""Language-model providers: the conversation as plain data, and adapters that send it to
OpenAI's chat completions (and servers compatible with them) or Anthropic's messages over
the caller's shared aiohttp session, streaming the reply back as text deltas, whole tool
calls and an end, with every failure turned into one ProviderError that says whether a retry
may help and never carries the API key or what was said.

    from clarion.providers import ChatRequest, Message, OpenAIProvider, TextDelta
"""

from clarion.providers.anthropic import AnthropicProvider
from clarion.providers.errors import ProviderError
from clarion.providers.messages import (
    ChatRequest,
    Completion,
    FinishReason,
    Message,
    Role,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Tool,
    ToolCall,
)
from clarion.providers.openai import OpenAIProvider
from clarion.providers.provider import Provider

__all__ = [
    "AnthropicProvider",
    "ChatRequest",
    "Completion",
    "FinishReason",
    "Message",
    "OpenAIProvider",
    "Provider",
    "ProviderError",
    "Role",
    "StreamEnd",
    "StreamEvent",
    "TextDelta",
    "Tool",
    "ToolCall",
]
