"""Deliveries never reach loopback, private, link-local, multicast or metadata addresses."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import pytest

from clarion.config import Settings
from clarion.outbound.guard import BlockedAddress, GuardedResolver, block_reason
from support import Api
from webhook_receiver import Answer, Receiver, eventually

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("100.64.0.1", "shared"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 around 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo
        ("fec0::1", "site-local"),
    ],
)
def test_internal_addresses_are_blocked(address: str, reason: str) -> None:
    found = block_reason(ipaddress.ip_address(address), [])
    assert found is not None and reason in found


def test_public_and_allowed_addresses_pass() -> None:
    assert block_reason(ipaddress.ip_address("93.184.216.34"), []) is None
    assert block_reason(ipaddress.ip_address("2606:4700::1111"), []) is None
    assert block_reason(ipaddress.ip_address("2002:5db8:d822::1"), []) is None  # 6to4, public
    assert block_reason(ipaddress.ip_address("127.0.0.1"), LOOPBACK) is None
    assert (
        block_reason(ipaddress.ip_address("10.0.0.5"), [ipaddress.ip_network("10.0.0.0/24")])
        is None
    )


def test_the_resolver_keeps_only_permitted_addresses() -> None:
    async def resolve(allowed: list[Any]) -> list[Any]:
        resolver = GuardedResolver(allowed)
        try:
            return await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    with pytest.raises(BlockedAddress, match=r"localhost is blocked: 127\.0\.0\.1 is a loopback"):
        asyncio.run(resolve([]))
    assert [r["host"] for r in asyncio.run(resolve(LOOPBACK))] == ["127.0.0.1"]


def test_a_host_the_operator_named_resolves_unguarded_and_no_other() -> None:
    async def resolve(trusted: set[str]) -> list[Any]:
        resolver = GuardedResolver([], trusted=trusted)
        try:
            return await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    assert "127.0.0.1" in [r["host"] for r in asyncio.run(resolve({"LocalHost"}))]
    with pytest.raises(BlockedAddress):
        asyncio.run(resolve({"ollama.internal"}))


def test_the_operator_hosts_are_those_of_the_providers_addresses_set() -> None:
    settings = Settings(
        openai_base_url="http://ollama.internal:11434/v1",
        deepgram_base_url="ws://[::1]:8081",
        webhook_retry_schedule="0",
    )
    assert settings.operator_hosts == {"ollama.internal", "::1", "api.twilio.com"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"outbound_allowed_networks": ""})  # nothing allowed


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_delivery_to_a_blocked_address_is_recorded_and_never_sent(
    api: Api, receiver: Receiver, host: str
) -> None:
    url = receiver.on("/internal", lambda _n: Answer(200)).replace("127.0.0.1", host)
    assistant = api.create_assistant(webhook_url=url)
    delivery = api.post(f"/v1/assistant/{assistant['id']}/webhook/test").json()

    path = f"/v1/webhook-deliveries/{delivery['id']}"
    eventually(lambda: api.get(path).json()["status"] == "failed", "the delivery to fail")
    final = api.get(path).json()
    assert all("blocked" in a["error"] and "loopback" in a["error"] for a in final["attempts"])
    assert receiver.to("/internal") == []
