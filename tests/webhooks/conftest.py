"""Webhook tests run the in-process worker against real receivers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clarion.config import Settings
from webhook_receiver import Receiver, running_receiver

FAST_RETRIES = "0,0.05,0.05,0.05,0.05"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "run_worker": True,
            "outbound_allowed_networks": "127.0.0.0/8",
            "webhook_retry_schedule": FAST_RETRIES,
            "webhook_timeout_seconds": 1.0,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running
