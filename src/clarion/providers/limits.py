"""How much one answer of a language model may hold, and how long it may go quiet.

A model, or a server posing as one, is outside the server's control: it may stream without
end, send arguments of any size, or keep its stream open while saying nothing. Each of those
would hold a call (and the patient on it) or swell the server's memory, so every part of an
answer has a bound, and passing one is a failed request like any other: retryable, since the
next attempt may well behave.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from clarion.providers.errors import ProviderError

T = TypeVar("T")

MAX_REPLY_CHARS = 100_000
"""A reply's text: far more than anyone listens to or reads in one turn."""

MAX_TOOL_CALLS = 16
"""Tool calls in one reply: the engine offers one tool."""

MAX_TOOL_ARGUMENT_CHARS = 100_000
"""The arguments of a reply's tool calls, all together, as the model wrote them."""

MAX_EVENT_BYTES = 1024 * 1024
"""One event of a streamed answer, all its data lines together."""

MAX_ANSWER_BYTES = 2 * 1024 * 1024
"""A whole answer that is not streamed: the reply and its tool calls, JSON-escaped."""

DEFAULT_IDLE_SECONDS = 20.0
"""How long a streamed reply may go without a piece of text or of a tool call."""


class ReplyLimits:
    """The bounds of one reply, counted as its pieces arrive.

    Each piece of text or of a tool call also counts as progress: a request whose answer does
    not begin, or a stream that sends only keep-alives, empty chunks or a byte at a time, is
    failed once it has gone ``idle_seconds`` without one (:meth:`awaiting`, :meth:`watch`),
    counted from when the limits are made, just before the request.
    """

    def __init__(self, provider: str, idle_seconds: float = DEFAULT_IDLE_SECONDS) -> None:
        self.provider = provider
        self.idle_seconds = idle_seconds
        self._text = 0
        self._calls = 0
        self._arguments = 0
        self._progress_at = asyncio.get_running_loop().time()

    def text(self, piece: str) -> str:
        """Count a piece of the reply's text; the piece."""
        self._text += len(piece)
        if self._text > MAX_REPLY_CHARS:
            raise self._past(f"the reply ran past {MAX_REPLY_CHARS} characters")
        self._progressed()
        return piece

    def tool_call(self) -> None:
        """Count a tool call begun."""
        self._calls += 1
        if self._calls > MAX_TOOL_CALLS:
            raise self._past(f"the reply made more than {MAX_TOOL_CALLS} tool calls")
        self._progressed()

    def arguments(self, piece: str) -> str:
        """Count a piece of a tool call's arguments; the piece."""
        self._arguments += len(piece)
        if self._arguments > MAX_TOOL_ARGUMENT_CHARS:
            raise self._past(
                f"the reply's tool-call arguments ran past {MAX_TOOL_ARGUMENT_CHARS} characters"
            )
        self._progressed()
        return piece

    @asynccontextmanager
    async def awaiting(self) -> AsyncIterator[None]:
        """Bound a wait within the reply's idle time (the wait for the answer to begin,
        counted from when these limits were made)."""
        deadline = asyncio.timeout_at(self._progress_at + self.idle_seconds)
        try:
            async with deadline:
                yield
        except TimeoutError:
            if not deadline.expired():
                raise  # the transport's own timeout, not this one
            raise self._idle() from None

    async def watch(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        """``events`` as they come, failed once the reply has gone ``idle_seconds`` without
        a piece of text or of a tool call (however many events or bytes come meanwhile)."""
        while True:
            deadline = asyncio.timeout_at(self._progress_at + self.idle_seconds)
            try:
                async with deadline:
                    event = await anext(events)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if not deadline.expired():
                    raise  # the transport's own timeout, not this one
                raise self._idle() from None
            yield event

    def _progressed(self) -> None:
        self._progress_at = asyncio.get_running_loop().time()

    def _idle(self) -> ProviderError:
        return self._past(f"sent nothing of its reply for {self.idle_seconds:g} s")

    def _past(self, description: str) -> ProviderError:
        return ProviderError(self.provider, description, retryable=True)
