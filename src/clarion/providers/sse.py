"""Server-Sent Events, read straight from an aiohttp response.

Both providers stream their replies as SSE. Reading it here, on the session the server
already holds, instead of through the providers' SDKs keeps the CPU spent per streamed reply
small. The reader works on the bytes as they arrive, one await per network read rather than
per line, and hands each event's data on as bytes, which orjson decodes without a copy to str.

Lines end in LF or CRLF, as both providers send them; a lone CR as a line end is not read.
``id:`` and ``retry:`` fields and comments (``:`` lines, used as keep-alives) are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import NamedTuple

import aiohttp

from clarion.providers.limits import MAX_EVENT_BYTES


class MalformedStream(Exception):
    """The body is not an event stream a provider would send."""


class ServerSentEvent(NamedTuple):
    """One event: its type (``message`` when the stream names none) and its data lines,
    joined by LF."""

    event: str
    data: bytes


async def read_events(content: aiohttp.StreamReader) -> AsyncGenerator[ServerSentEvent, None]:
    """The events of ``content`` as they complete; an event the stream leaves unfinished at
    its end is dropped, as the SSE standard says."""
    pending = b""
    event = ""
    data: list[bytes] = []
    size = 0  # of the event's data so far
    async for chunk in content.iter_any():
        lines = (pending + chunk if pending else chunk).split(b"\n")
        pending = lines.pop()
        if len(pending) > MAX_EVENT_BYTES:
            raise MalformedStream(f"an event of the stream ran past {MAX_EVENT_BYTES} bytes")
        for line in lines:
            if line[-1:] == b"\r":
                line = line[:-1]
            if line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value[:1] == b" " else value)
                size += len(value)
                if size > MAX_EVENT_BYTES:
                    raise MalformedStream(
                        f"an event of the stream ran past {MAX_EVENT_BYTES} bytes"
                    )
            elif not line:
                if data:
                    joined = data[0] if len(data) == 1 else b"\n".join(data)
                    yield ServerSentEvent(event or "message", joined)
                    data, size = [], 0
                event = ""
            elif line.startswith(b"event:"):
                value = line[6:]
                event = (value[1:] if value[:1] == b" " else value).decode("utf-8", "replace")
            elif line == b"data":
                data.append(b"")  # a field name alone is the field with an empty value
