"""The SSE reader on streams shaped as the standard allows, split at every possible place."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.base_protocol import BaseProtocol

from clarion.providers.sse import MalformedStream, ServerSentEvent, read_events

STREAM = (
    b": keep-alive comment\n"
    b"event: content_block_delta\r\n"
    b'data: {"text": "Hel"}\r\n'
    b"\r\n"
    b"data:first line\n"
    b"data: second line\n"
    b"data\n"
    b"id: 7\n"
    b"retry: 1000\n"
    b"\n"
    b"\n"
    b"event: ping\n"
    b"\n"
    b"data: [DONE]\n"
    b"\n"
    b"data: an event the stream never finishes"
)
EVENTS = [
    ServerSentEvent("content_block_delta", b'{"text": "Hel"}'),
    ServerSentEvent("message", b"first line\nsecond line\n"),
    ServerSentEvent("message", b"[DONE]"),
]


def _read(chunks: list[bytes]) -> list[ServerSentEvent]:
    async def main() -> list[ServerSentEvent]:
        loop = asyncio.get_running_loop()
        content = aiohttp.StreamReader(BaseProtocol(loop), 2**16, loop=loop)
        for chunk in chunks:
            content.feed_data(chunk)
        content.feed_eof()
        return [event async for event in read_events(content)]

    return asyncio.run(main())


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, len(STREAM)])
def test_events_do_not_depend_on_where_the_network_splits_the_stream(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]

    assert _read(chunks) == EVENTS


def test_a_line_without_end_beyond_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clarion.providers.sse.MAX_EVENT_BYTES", 100)

    with pytest.raises(MalformedStream):
        _read([b"data: " + b"x" * 60, b"x" * 60])
