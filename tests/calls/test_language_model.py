"""Which way a call's key may travel: over https to any address the outbound guard allows,
over plain http only to an address inside the allowed networks (a model server on the
operator's own network)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from clarion.calls.language_model import PlainTextKey, open_provider
from clarion.config import Settings
from clarion.credentials.service import ResolvedCredential
from clarion.outbound.guard import BlockedAddress
from clarion.providers import OpenAIProvider


def _opened(base_url: str, allowed: str) -> object:
    settings = Settings(outbound_allowed_networks=allowed)
    credential = ResolvedCredential(1, "openai", "sk-test", base_url)

    async def open_it() -> object:
        async with aiohttp.ClientSession() as session:
            return await open_provider(session, credential, settings)

    return asyncio.run(open_it())


@pytest.mark.parametrize(
    ("base_url", "allowed"),
    [
        ("https://93.184.216.34/v1", ""),
        ("http://127.0.0.1:8080/v1", "127.0.0.0/8"),
        ("http://[::1]:8080/v1", "::1/128"),
    ],
)
def test_a_key_goes_over_https_or_to_an_allowed_address(base_url: str, allowed: str) -> None:
    assert isinstance(_opened(base_url, allowed), OpenAIProvider)


@pytest.mark.parametrize(
    ("base_url", "allowed"),
    [
        ("http://93.184.216.34/v1", ""),
        ("http://93.184.216.34/v1", "10.0.0.0/8"),
    ],
)
def test_a_key_never_goes_over_plain_http_outside_the_allowed_networks(
    base_url: str, allowed: str
) -> None:
    with pytest.raises(PlainTextKey, match="plain http outside CLARION_ALLOWED_NETWORKS"):
        _opened(base_url, allowed)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://10.0.0.5:8443/v1",
        "https://127.0.0.1/v1",
        "https://[::ffff:169.254.169.254]/v1",
        "http://127.0.0.1:8080/v1",
    ],
)
def test_an_address_in_the_url_is_checked_as_a_resolved_one_would_be(base_url: str) -> None:
    # aiohttp asks no resolver about an address, so the session's guard never sees it.
    with pytest.raises(BlockedAddress, match="is blocked"):
        _opened(base_url, "")
