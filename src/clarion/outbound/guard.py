"""Server-side request forgery guard: outbound connections never reach internal addresses.

The host is resolved when the delivery is sent, every address is checked, and aiohttp
connects only to the addresses that passed (the resolver hands it nothing else), so a DNS
answer that changes between check and connect cannot slip past. IP literals in the URL are
checked before the request. ``CLARION_ALLOWED_NETWORKS`` opens chosen ranges (an
on-premises receiver, the tests' loopback receivers).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection, Sequence
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance-metadata endpoints of the big clouds: credentials live behind them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


class BlockedAddress(OSError):
    """The delivery's host is, or resolves only to, an address deliveries may not reach."""


def within(address: Address, allowed: Sequence[Network]) -> bool:
    """Whether ``address`` lies in one of the ``allowed`` networks (an IPv4-mapped IPv6
    address as the IPv4 address it stands for)."""
    if any(address in network for network in allowed):
        return True
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped is not None and within(mapped, allowed)


def block_reason(address: Address, allowed: Sequence[Network]) -> str | None:
    """Why deliveries may not go to ``address``, or None when they may."""
    if within(address, allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return block_reason(address.ipv4_mapped, allowed)
        # A 6to4 address carries an IPv4 one and may reach it through a relay or the host's
        # own tunnel: blocked when that address is. (Teredo's range counts as private.)
        carried = address.sixtofour
        reason = None if carried is None else block_reason(carried, allowed)
        if reason is not None:
            return reason
        if address.is_site_local:
            return "a site-local address"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for reason, blocked in (
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("an unspecified address", address.is_unspecified),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("a shared (carrier-grade NAT) address", address in _SHARED),
    ):
        if blocked:
            return reason
    return None


_SHARED = ipaddress.ip_network("100.64.0.0/10")


def check_literal(host: str, allowed: Sequence[Network]) -> None:
    """Raise BlockedAddress when ``host`` is an IP literal deliveries may not reach."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: the resolver checks it
    reason = block_reason(address, allowed)
    if reason is not None:
        raise BlockedAddress(f"address {address} is blocked: it is {reason}")


async def addresses_of(host: str, port: int) -> list[Address]:
    """Every address ``host`` stands for: itself when it is an IP literal, else what the
    system resolver answers (as aiohttp's threaded resolver asks it). Raises OSError."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(answer[4][0])) for answer in answers]


async def address_inside(url: URL, allowed: Sequence[Network]) -> str | None:
    """An address of the URL's host when every one lies in ``allowed``, else None."""
    if not allowed or url.host is None:
        return None
    try:
        addresses = await addresses_of(url.host, url.port or 80)
    except (OSError, ValueError):
        return None  # the send resolves it again, and records why it cannot
    if not addresses or not all(within(address, allowed) for address in addresses):
        return None
    return str(addresses[0])


async def guard_refusal(url: URL, allowed: Sequence[Network]) -> str | None:
    """Why the guard would refuse to send to ``url``: its host is, or resolves only to,
    addresses it may not reach. None when it may, or when the name does not resolve now (it
    is resolved again at every request)."""
    if url.host is None:
        return None
    try:
        addresses = await addresses_of(url.host, url.port or 443)
    except (OSError, ValueError):
        return None
    reasons = [f"{a} is {r}" for a in addresses if (r := block_reason(a, allowed)) is not None]
    return "; ".join(reasons) if addresses and len(reasons) == len(addresses) else None


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's threaded resolver, then keeps only permitted addresses (any
    address of a ``trusted`` host: one the operator named)."""

    def __init__(self, allowed: Sequence[Network], trusted: Collection[str] = ()) -> None:
        self._allowed = tuple(allowed)
        self._trusted = frozenset(host.lower() for host in trusted)
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The host's permitted addresses; raises BlockedAddress when none is permitted."""
        results = await self._inner.resolve(host, port, family)
        if host.lower() in self._trusted:
            return results
        permitted = []
        reasons = []
        for result in results:
            address = ipaddress.ip_address(result["host"])
            reason = block_reason(address, self._allowed)
            if reason is None:
                permitted.append(result)
            else:
                reasons.append(f"{address} is {reason}")
        if not permitted:
            raise BlockedAddress(f"{host} is blocked: {'; '.join(reasons)}")
        return permitted

    async def close(self) -> None:
        """Close the threaded resolver underneath."""
        await self._inner.close()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"GuardedResolver(allowed={self._allowed!r})"


def resolver_kwargs(allowed: Sequence[Network], trusted: Collection[str] = ()) -> dict[str, Any]:
    """TCPConnector arguments: the guard (letting ``trusted`` hosts through), and no DNS
    cache (resolve at every connect)."""
    return {"resolver": GuardedResolver(allowed, trusted), "use_dns_cache": False}
