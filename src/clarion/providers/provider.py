"""The interface every language-model adapter satisfies, so the engine does not care which
provider an assistant uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from clarion.providers.messages import ChatRequest, Completion, StreamEvent

DEFAULT_TIMEOUT_SECONDS = 30.0

# The name a structured answer goes by on the wire: OpenAI's json_schema name, and the tool
# Anthropic is made to call. It is never shown to callers.
STRUCTURED_OUTPUT_NAME = "structured_output"


class Provider(Protocol):
    """A language model behind an HTTP API.

    Adapters are built with the caller's ``aiohttp.ClientSession`` (the caller owns it and
    its connector and closes it), the API key, the base URL and a timeout. They do not retry:
    a failure is a :class:`~clarion.providers.errors.ProviderError` whose ``retryable`` lets
    the caller decide, within its own latency budget.
    """

    name: str

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The reply as it is generated: text deltas, then each tool call whole, then one
        StreamEnd. Consume it to the end, or close it (``contextlib.aclosing``) when
        stopping early, so its connection is released at once, not when it is collected."""
        ...

    async def complete(self, request: ChatRequest) -> Completion:
        """The whole reply in one answer, without streaming."""
        ...
