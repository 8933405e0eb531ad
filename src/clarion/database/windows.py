"""Which rows a list shows: how many, and between which creation times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``limit`` rows, newest first, created within the bounds that are given."""

    limit: int
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None

    @property
    def shape(self) -> tuple[bool, bool]:
        """Which bounds are given: a list statement is compiled once per shape."""
        return self.created_from is not None, self.created_to is not None

    def parameters(self) -> dict[str, Any]:
        """The statement's parameters: the limit and the bounds that are given."""
        values: dict[str, Any] = {"limit": self.limit}
        if self.created_from is not None:
            values["created_from"] = self.created_from
        if self.created_to is not None:
            values["created_to"] = self.created_to
        return values
