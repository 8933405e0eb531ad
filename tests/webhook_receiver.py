"""A real HTTP receiver on 127.0.0.1 for webhook tests, with scripted answers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # path -> function of the number of earlier requests to that path -> Answer
    script: dict[str, Callable[[int], Answer]] = field(default_factory=dict)
    in_flight: Counter[str] = field(default_factory=Counter)
    overlaps: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str, answer: Callable[[int], Answer]) -> str:
        self.script[path] = answer
        return self.url + path

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, seconds: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got = self.to(path)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.to(path))} of {count} deliveries arrived")


def eventually(condition: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class _ReceiverServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5. Several workers open up to 64 connections each
    # at once; connections beyond the backlog wait for SYN retries (1, 2, 4, 8 s), which can
    # outlast the sender's 15 s timeout, and a timed-out attempt is sent again: one report
    # received twice, which the shared-backlog test would count as a worker's fault.
    request_queue_size = 1024


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            webhook_id = self.headers.get("webhook-id", "")
            with receiver.lock:
                earlier = len([r for r in receiver.received if r.path == self.path])
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                if receiver.in_flight[webhook_id]:
                    receiver.overlaps.append(webhook_id)
                receiver.in_flight[webhook_id] += 1
            script = receiver.script.get(self.path, lambda _n: Answer())
            answer = script(earlier)
            try:
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting
            finally:
                with receiver.lock:
                    receiver.in_flight[webhook_id] -= 1

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _ReceiverServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
