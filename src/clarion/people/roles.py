"""What each kind of console user may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role in their organization; each may do what the one before it may, and more.

    ``viewer`` reads assistants, calls with their transcripts, and deliveries; ``editor`` also
    edits assistants, starts test (web) calls, ends live calls and manages provider
    credentials; ``owner`` also places phone calls, deletes calls, manages users, API keys and phone
    numbers, and reads the access log. An API key acts as an owner.
    """

    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"

    def may(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}
