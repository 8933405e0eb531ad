"""CPU time per request of the assistant API's busiest calls, with no server and no network.

    .venv/bin/python bench/in_process.py                 # SQLite, 1,000 assistants
    .venv/bin/python bench/in_process.py --size 100000

It seeds a database as bench/assistant_api.py does, builds the application as `clarion
serve` would (the access log goes to /dev/null), and calls it directly as an ASGI app: GET
one assistant, PATCH one (a new first_message and model each time), list 100. Between
requests the event loop takes a turn, so the checkpoint hand-over and log flushes run as they
do when served. It prints the process's CPU time per request, the best of three rounds.

Where assistant_api.py measures what a client sees, this isolates clarion's own work from the
ASGI server, wrk and the machine's neighbours: CPU time is not stretched by time the virtual
machine is not running, so figures hold still from run to run, and a change to the code
shows as a change of a few microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvloop
from harness import prepare_database, seed_assistants

from clarion.api.access_log import AccessLog
from clarion.app import create_app
from clarion.config import Settings
from clarion.database.migrate import upgrade

Request = tuple[dict[str, Any], bytes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="number of assistants")
    parser.add_argument("--requests", type=int, default=5000, help="per workload and round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as workdir:
        settings = Settings(
            data_dir=Path(workdir), database_url=prepare_database(Path(workdir), None)
        )
        upgrade(settings.database)
        api_key = seed_assistants(settings, args.size)
        uvloop.run(_measure(settings, api_key, args.size, args.requests))


async def _measure(settings: Settings, api_key: str, size: int, requests: int) -> None:
    with open(os.devnull, "wb") as sink:
        app = create_app(settings, access_log=AccessLog(sink, settings.log_format))
        app.state.services.database.start_checkpoints()  # as the lifespan does when served
        try:
            auth = (b"authorization", b"Bearer " + api_key.encode())
            workloads = {
                "GET one": _get(auth, size),
                "PATCH one": _patch(auth, size),
                "list 100": _list(auth),
            }
            print(f"{size:,} assistants, sqlite, {requests:,} requests per round, best of 3")
            print(f"{'workload':<12}{'CPU us/request':>16}")
            for label, next_request in workloads.items():
                best = min([await _round(app, next_request, requests) for _ in range(3)])
                print(f"{label:<12}{best:>16.1f}")
        finally:
            app.state.services.database.dispose()


async def _round(app: Any, next_request: Callable[[], Request], requests: int) -> float:
    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise SystemExit(f"unexpected status {message['status']}")

    started = time.process_time()
    for _ in range(requests):
        scope, body = next_request()

        async def receive(body: bytes = body) -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, receive, send)
        await asyncio.sleep(0)  # one turn of the loop, as between requests when served
    return (time.process_time() - started) / requests * 1e6


def _scope(
    method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1"), *headers],
    }


def _get(auth: tuple[bytes, bytes], size: int) -> Callable[[], Request]:
    ids = itertools.cycle(range(1, size + 1))
    return lambda: (_scope("GET", f"/v1/assistant/{next(ids)}", b"", [auth]), b"")


def _patch(auth: tuple[bytes, bytes], size: int) -> Callable[[], Request]:
    counter = itertools.count(1)

    def request() -> Request:
        number = next(counter)
        body = (
            b'{"first_message": "Hello, call %d", "model": {"provider": "openai", '
            b'"model": "gpt-4o", "temperature": %d.%d}}' % (number, number % 2, number % 10)
        )
        headers = [
            auth,
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
        ]
        return _scope("PATCH", f"/v1/assistant/{number % size + 1}", b"", headers), body

    return request


def _list(auth: tuple[bytes, bytes]) -> Callable[[], Request]:
    return lambda: (_scope("GET", "/v1/assistant", b"limit=100", [auth]), b"")


if __name__ == "__main__":
    main()
