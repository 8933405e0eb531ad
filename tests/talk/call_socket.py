"""A web call's WebSocket played by the test on 127.0.0.1: it keeps every frame the page
sends, and sends the page whatever the test says, when it says it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class CallSocket:
    """The server side of one joined call."""

    def __init__(self, port: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/v1/call/1/web?token=test-token"
        self.path = ""
        self.audio: list[bytes] = []
        self.texts: list[dict[str, Any]] = []
        self.joined = threading.Event()
        self._connection: ServerConnection | None = None

    def serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.path = connection.request.path
        self._connection = connection
        self.joined.set()
        try:
            for message in connection:
                if isinstance(message, bytes):
                    self.audio.append(message)
                else:
                    self.texts.append(orjson.loads(message))
        except ConnectionClosed:
            pass

    def send(self, frame: dict[str, Any] | bytes) -> None:
        assert self._connection is not None, "the page has not joined"
        self._connection.send(frame if isinstance(frame, bytes) else orjson.dumps(frame).decode())

    def close(self) -> None:
        assert self._connection is not None
        self._connection.close(1000)

    def wait_for_text(self, kind: str, seconds: float = 10.0) -> dict[str, Any]:
        """The first text frame of type ``kind`` the page sent."""
        deadline = time.monotonic() + seconds
        while True:
            found = [frame for frame in self.texts if frame.get("type") == kind]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"the page sent no {kind}: {self.texts}"
            time.sleep(0.05)


@contextmanager
def call_socket() -> Iterator[CallSocket]:
    """A call socket listening on a free port until the block ends."""
    holder: list[CallSocket] = []
    with serve(lambda connection: holder[0].serve(connection), "127.0.0.1", 0) as server:
        holder.append(CallSocket(server.socket.getsockname()[1]))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield holder[0]
        finally:
            server.shutdown()
            thread.join(10)
