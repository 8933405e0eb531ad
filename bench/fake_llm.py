"""A fake OpenAI-compatible model for the call benchmarks: it answers every chat completion
at once (or after a fixed delay), streamed as a short reply in a few SSE chunks (or whole, when
not asked to stream).

    .venv/bin/python bench/fake_llm.py --port 8100    # serves http://127.0.0.1:8100/v1
    .venv/bin/python bench/fake_llm.py --port 8100 --delay-ms 100   # a model that thinks first

It runs in a process of its own, so the CPU it spends is not counted as the server's. It
does not parse requests: it only looks for ``"stream":true`` in the body, as clarion's
compact JSON writes it.
"""

from __future__ import annotations

import argparse
import asyncio

import orjson
import uvloop
from aiohttp import web

REPLY = ("Thursday ", "at nine ", "works.")
STREAM_MARK = b'"stream":true'


def _chunk(delta: dict[str, str], finish_reason: str | None) -> bytes:
    chunk = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


# Written one to a network write, as a model streaming its reply would send them.
CHUNKS = (
    _chunk({"role": "assistant", "content": REPLY[0]}, None),
    *(_chunk({"content": piece}, None) for piece in REPLY[1:]),
    _chunk({}, "stop") + b"data: [DONE]\n\n",
)
COMPLETION = orjson.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(REPLY)},
                "finish_reason": "stop",
            }
        ],
    }
)
STREAM_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
DELAY = web.AppKey("delay", float)
"""Seconds waited before the answer's first byte (``--delay-ms``; none by default)."""


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    delay = request.app[DELAY]
    if delay:
        await asyncio.sleep(delay)
    if STREAM_MARK not in body:
        return web.Response(body=COMPLETION, content_type="application/json")
    response = web.StreamResponse(headers=STREAM_HEADERS)
    await response.prepare(request)
    for chunk in CHUNKS:
        await response.write(chunk)
    await response.write_eof()
    return response


async def ready(_request: web.Request) -> web.Response:
    return web.Response(text="ready")


def app(delay: float = 0.0) -> web.Application:
    application = web.Application()
    application[DELAY] = delay
    application.router.add_post("/v1/chat/completions", chat_completions)
    application.router.add_get("/", ready)
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--delay-ms", type=float, default=0.0, help="wait before the first chunk, as a model does"
    )
    args = parser.parse_args()
    web.run_app(
        app(args.delay_ms / 1000),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
        backlog=4096,  # a thousand calls may open their connections at once
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
