"""`clarion serve` as a real subprocess on a free port, for the tests that need the server
as a user runs it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from fake_providers import FakeProviders
from support import Tenant
from webhook_receiver import Answer, Receiver


def free_port() -> int:
    """A port nobody listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    """A running server: its base URL, its process and, once it has stopped, everything it
    printed."""

    base: str
    process: subprocess.Popen[str]
    output: str = ""


STARTUP_SECONDS = 30.0


@contextmanager
def clarion_serving(env: dict[str, str]) -> Iterator[Served]:
    """Start `clarion serve`, wait until its health answers 200, and stop it with SIGINT."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        # Health may answer 503 while the server starts (its loops not yet running): wait
        # for the 200, pausing between asks either way.
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{served.base}/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start")
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        served.output, _ = process.communicate(timeout=60)


def web_call_on(
    base: str, tenant: Tenant, fake: FakeProviders, receiver: Receiver, **assistant: Any
) -> dict[str, Any]:
    """On the server at ``base``: a credential for the fake model, an assistant reporting to
    the receiver (``assistant`` adds to its fields), and a new web call of it."""
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tenant.api_key}"})
    credential = {"provider": "openai", "api_key": "sk-test", "base_url": fake.openai_url}
    assert http.post("/v1/credential", json=credential).status_code == 201
    fields = {
        "name": "Reminders",
        "model": {"provider": "openai", "model": "gpt-4o"},
        "first_message": "Hello, this is Northside Clinic.",
        "webhook_url": receiver.on("/report", lambda _n: Answer()),
        **assistant,
    }
    created_assistant = http.post("/v1/assistant", json=fields)
    assert created_assistant.status_code == 201, created_assistant.text
    created = http.post("/v1/call", json={"assistant_id": created_assistant.json()["id"]})
    assert created.status_code == 201, created.text
    call: dict[str, Any] = created.json()
    return call


def frames_until(connection: Any, kind: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The frames a web call's connection receives, up to and including the first ``kind``."""
    frames: list[dict[str, Any]] = []
    while True:
        frames.append(orjson.loads(connection.recv(timeout)))
        if frames[-1]["type"] == kind:
            return frames
