"""Whether a credential's ``base_url`` is an address its key may be sent to, asked when the
credential is created or changed rather than found out by a call that fails later. The
network is asked here, before the transaction; the service says it after its own checks."""

from __future__ import annotations

from yarl import URL

from clarion.config import Settings
from clarion.outbound.guard import address_inside, guard_refusal

PLAIN_SCHEMES = frozenset({"http", "ws"})


async def unreachable(base_url: str | None, settings: Settings) -> str | None:
    """Why the key may not be sent to ``base_url``: the outbound guard would refuse it (the
    message names the address and CLARION_ALLOWED_NETWORKS), or the key would cross the
    network readable; None when it may."""
    if base_url is None:
        return None
    url = URL(base_url)
    allowed = settings.allowed_networks
    refused = await guard_refusal(url, allowed)
    if refused is not None:
        return (
            f"base_url: {url.host} may not be reached from this server ({refused}); its "
            "operator opens chosen networks with CLARION_ALLOWED_NETWORKS"
        )
    if url.scheme in PLAIN_SCHEMES and await address_inside(url, allowed) is None:
        return (
            f"base_url: plain {url.scheme} would send the key readable across the network; "
            f"use {url.scheme}s, or an address inside CLARION_ALLOWED_NETWORKS"
        )
    return None
