"""Assistants already rendered as JSON, kept by id and version.

Every change to anything an assistant shows raises its version in the same transaction
(clarion.assistants.service), and ids are never reused, so an (id, version) pair names one
representation for good. The list asks the database only which assistants and versions it
shows, then writes out their kept JSON: reading, converting and encoding a hundred whole rows
made a list request several times as costly (the README's performance section has the
figures). A list that needs any pair not kept here is read whole, and its assistants kept for
the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clarion.api.responses import encode_json

CAPACITY = 10_000
"""Representations kept per server process: about 8 MB at the size of a typical assistant."""

Key = tuple[int, int]
"""An assistant's id and version."""


class RenderedAssistants:
    """(id, version) -> the assistant's JSON representation, for the newest pairs rendered."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._bodies: dict[Key, bytes] = {}

    def all_of(self, keys: Sequence[Key]) -> list[bytes] | None:
        """The kept JSON of every pair, in order; None as soon as one is not kept."""
        bodies = []
        kept = self._bodies
        for key in keys:
            body = kept.get(key)
            if body is None:
                return None
            bodies.append(body)
        return bodies

    def render(self, key: Key, representation: dict[str, Any]) -> bytes:
        """Encode a representation and keep it; the oldest kept one makes room when full."""
        body = encode_json(representation)
        if len(self._bodies) >= self._capacity:
            del self._bodies[next(iter(self._bodies))]
        self._bodies[key] = body
        return body
