"""A short-lived in-process cache of authenticated keys.

Checking a key costs a hash and a query; on every request that is a large share of a fast
request's time. Entries live one second, so a revoked key stops working within a second on
every server process, and the cache holds key digests only, never keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable

TTL_SECONDS = 1.0
MAX_ENTRIES = 10_000


class KeyCache:
    """digest -> (api key id, organization id), for keys found valid in the last second."""

    def __init__(
        self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, int, int]] = {}

    def get(self, digest: str) -> tuple[int, int] | None:
        """(key id, organization id) for a digest found valid within the last second, else None."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires, key_id, organization_id = entry
        if expires < self._clock():
            del self._entries[digest]
            return None
        return key_id, organization_id

    def put(self, digest: str, key_id: int, organization_id: int) -> None:
        """Remember a digest the database just found valid, for one TTL."""
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # rare: a burst of distinct keys; start over
        self._entries[digest] = (self._clock() + self._ttl, key_id, organization_id)
