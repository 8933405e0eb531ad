"""Running the adapters from synchronous tests: each call gets a fresh event loop and a fresh
session, as an engine's turn would run on the server's own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from clarion.providers import (
    AnthropicProvider,
    ChatRequest,
    Completion,
    OpenAIProvider,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
)

KEY = "sk-test-7f3a9c0d5e1b"


@dataclass
class Streamed:
    """Every event of one streamed reply, in order."""

    events: list[StreamEvent]

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, TextDelta))

    @property
    def deltas(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, TextDelta)]

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [e for e in self.events if isinstance(e, ToolCall)]

    @property
    def end(self) -> StreamEnd:
        assert isinstance(self.events[-1], StreamEnd), self.events
        return self.events[-1]


@dataclass
class Client:
    """One provider's adapter, used from a synchronous test: each call runs in a fresh loop
    with a fresh session, as an engine's turn would run on the server's."""

    provider: type[OpenAIProvider] | type[AnthropicProvider]
    base_url: str

    def stream(self, request: ChatRequest, **options: Any) -> Streamed:
        async def run(provider: Any) -> Streamed:
            return Streamed([event async for event in provider.stream(request)])

        result: Streamed = self.run(run, **options)
        return result

    def complete(self, request: ChatRequest, **options: Any) -> Completion:
        async def run(provider: Any) -> Completion:
            completion: Completion = await provider.complete(request)
            return completion

        result: Completion = self.run(run, **options)
        return result

    def run(
        self,
        scenario: Any,
        *,
        api_key: str = KEY,
        base_url: str | None = None,
        timeout: float = 5.0,
    ) -> Any:
        """``await scenario(provider)`` with a provider on a fresh session."""

        async def main() -> Any:
            async with aiohttp.ClientSession() as session:
                provider = self.provider(
                    session, api_key, base_url=base_url or self.base_url, timeout=timeout
                )
                return await scenario(provider)

        return asyncio.run(main())
