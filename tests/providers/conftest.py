"""Provider tests: each runs the real adapter over real HTTP against the fake providers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from provider_client import Client

from clarion.providers import AnthropicProvider, OpenAIProvider
from fake_providers import FakeProviders, running_fake_providers


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with running_fake_providers() as running:
        yield running


@pytest.fixture
def openai(fake: FakeProviders) -> Client:
    return Client(OpenAIProvider, fake.openai_url)


@pytest.fixture
def anthropic(fake: FakeProviders) -> Client:
    return Client(AnthropicProvider, fake.anthropic_url)
