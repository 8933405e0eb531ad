"""Fixtures for calls, their engine and what follows them: the real app served by uvicorn on
a free port (calls need real WebSockets), the fake providers, and a webhook receiver, all on
127.0.0.1. Loaded for every test folder by the root conftest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from calls_support import CallsApi, served_in_thread
from clarion.config import Settings
from fake_providers import FakeProviders, running_fake_providers
from support import Tenant
from webhook_receiver import Receiver, running_receiver


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with running_fake_providers() as providers:
        yield providers


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def call_settings(settings: Settings) -> Callable[..., Settings]:
    """Settings for a served app: loopback allowed (the fakes live there), deliveries on."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            **settings.model_dump(),
            "outbound_allowed_networks": "127.0.0.0/8",
            "run_worker": True,
            "webhook_retry_schedule": "0,0.2,0.5",
            **overrides,
        }
        return Settings(**values)

    return make


@pytest.fixture
def served(call_settings: Callable[..., Settings]) -> Iterator[Callable[..., CallsApi]]:
    """Serve the app with these settings (once per test); returns the API of a tenant."""
    stack: list[Any] = []

    def serve(tenant: Tenant, port: int | None = None, **overrides: Any) -> CallsApi:
        if not stack:
            stack.append(served_in_thread(call_settings(**overrides), port=port))
            stack.append(stack[0].__enter__())
        return CallsApi(stack[1], tenant)

    yield serve
    if stack:
        stack[0].__exit__(None, None, None)


@pytest.fixture
def tmp_data(tmp_path: Path) -> Path:
    return tmp_path
