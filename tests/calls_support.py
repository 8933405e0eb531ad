"""Serving the real app for call tests, and speaking to it as a user does: REST with httpx,
web calls with a real WebSocket client."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import uvicorn
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from clarion.api.access_log import AccessLog
from clarion.app import create_app
from clarion.config import Settings
from served import free_port
from support import Tenant


@dataclass
class Serving:
    """The app served on a port: its base URL and the app itself."""

    base: str
    app: Any

    @property
    def services(self) -> Any:
        return self.app.state.services


@contextmanager
def served_in_thread(
    settings: Settings, access_log: AccessLog | None = None, port: int | None = None
) -> Iterator[Serving]:
    """uvicorn serving create_app(settings) from a thread (on ``port``, or a free one), until
    the block ends; access lines go to ``access_log`` when one is given, else to stderr as
    when served."""
    app = create_app(settings, access_log=access_log)
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.025)
    else:
        raise AssertionError("the app did not start")
    try:
        yield Serving(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(20)


def model_of(provider: str = "openai", /, **fields: Any) -> dict[str, Any]:
    """A model configuration for ``provider``: temperature 0.3, max_tokens 200, one system
    message; ``fields`` replace those."""
    return {
        "provider": provider,
        "model": "gpt-4o" if provider == "openai" else "claude-sonnet-4-5",
        "temperature": 0.3,
        "max_tokens": 200,
        "messages": [{"role": "system", "content": "You remind patients of appointments."}],
        **fields,
    }


def failed_as(frame: dict[str, Any], reason: str, *mentions: str) -> str:
    """``frame`` is the ``call-ended`` of a call the pipeline failed with ``reason``, its
    ``failure_detail`` naming ``mentions``; the detail."""
    assert frame["type"] == "call-ended" and frame["ended_reason"] == reason, frame
    sent = {key for key in frame if not key.startswith("_")}  # "_at": when the test got it
    assert sent == {"type", "ended_reason", "failure_detail"}, frame
    detail: str = frame["failure_detail"]
    for mention in mentions:
        assert mention in detail, (mention, detail)
    return detail


class WebCall:
    """A joined web call, from the caller's side."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame the server sends."""
        frame: dict[str, Any] = orjson.loads(self.connection.recv(timeout))
        return frame

    def until(self, kind: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Frames up to and including the next one of type ``kind``."""
        frames = []
        while True:
            frame = self.next(timeout)
            frames.append(frame)
            if frame["type"] == kind:
                return frames

    def say(self, text: str) -> None:
        self.send({"type": "user-message", "text": text})

    def send(self, frame: Any) -> None:
        self.connection.send(orjson.dumps(frame).decode())

    def hang_up(self) -> None:
        self.send({"type": "hangup"})

    def close(self) -> None:
        self.connection.close()

    def drop(self) -> None:
        """Drop the connection without a closing handshake, as a lost network does."""
        self.connection.socket.shutdown(socket.SHUT_RDWR)

    def closing(self, timeout: float = 10.0) -> tuple[list[dict[str, Any]], int | None]:
        """The frames still to come, and the code the server closes the socket with."""
        frames = []
        try:
            while True:
                frames.append(self.next(timeout))
        except ConnectionClosed:
            return frames, self.connection.close_code


class CallsApi:
    """One tenant's view of the served API."""

    def __init__(self, serving: Serving, tenant: Tenant) -> None:
        self.serving = serving
        self.tenant = tenant
        self.http = httpx.Client(
            base_url=serving.base, headers={"Authorization": f"Bearer {tenant.api_key}"}
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def assistant(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "Reminders", **fields}
        response = self.http.post("/v1/assistant", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def assistant_on(self, fake: Any, provider: str = "openai", **fields: Any) -> dict[str, Any]:
        """An assistant talking to the fake ``provider`` (a credential for it made first):
        temperature 0.3, max_tokens 200, one system message; ``model`` keys in ``fields``
        replace those."""
        base = fake.openai_url if provider == "openai" else fake.anthropic_url
        self.credential(provider, base)
        return self.assistant(model=model_of(provider, **fields.pop("model", {})), **fields)

    def call_on(self, fake: Any, provider: str = "openai", **fields: Any) -> dict[str, Any]:
        """A call created (not joined) with a new assistant talking to the fake ``provider``;
        ``task_parameters`` in ``fields`` go to the call, the rest to the assistant."""
        call = (
            {"task_parameters": fields.pop("task_parameters")}
            if "task_parameters" in fields
            else {}
        )
        assistant = self.assistant_on(fake, provider, **fields)
        return self.start_call(assistant["id"], **call)

    def credential(self, provider: str, base_url: str, api_key: str = "sk-test") -> int:
        response = self.http.post(
            "/v1/credential", json={"provider": provider, "api_key": api_key, "base_url": base_url}
        )
        assert response.status_code == 201, response.text
        credential_id: int = response.json()["id"]
        return credential_id

    def create_call(self, assistant_id: int, **fields: Any) -> httpx.Response:
        return self.http.post("/v1/call", json={"assistant_id": assistant_id, **fields})

    def start_call(self, assistant_id: int, **fields: Any) -> dict[str, Any]:
        response = self.create_call(assistant_id, **fields)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    @contextmanager
    def join(self, web_call_url: str) -> Iterator[WebCall]:
        """The call joined over a real WebSocket, closed when the block ends."""
        with connect(web_call_url, open_timeout=10) as connection:
            yield WebCall(connection)

    def refusal(self, web_call_url: str) -> tuple[int, dict[str, Any]]:
        """The status and Error body a WebSocket to this URL is refused with; fails the test
        if the server takes it."""
        try:
            connection = connect(web_call_url, open_timeout=10)
        except InvalidStatus as refused:
            body: dict[str, Any] = orjson.loads(refused.response.body or b"null")
            return refused.response.status_code, body
        connection.close()
        raise AssertionError("the server took a WebSocket it should have refused")

    def call(self, call_id: int) -> dict[str, Any]:
        response = self.http.get(f"/v1/call/{call_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def wait_for_call(
        self, call_id: int, what: str, check: Any, seconds: float = 15.0
    ) -> dict[str, Any]:
        """The call once ``check(call)`` holds."""
        deadline = time.monotonic() + seconds
        while True:
            call = self.call(call_id)
            if check(call):
                return call
            if time.monotonic() > deadline:
                raise AssertionError(f"call {call_id}: {what} did not happen; it is {call}")
            time.sleep(0.05)


def schema_checks_running() -> set[int]:
    """The pids of the structured-data schema checks running on this machine."""
    running = set()
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if b"clarion.after_call.schema_check" in cmdline.read():
                    running.add(int(entry))
        except (OSError, ValueError):
            continue
    return running
