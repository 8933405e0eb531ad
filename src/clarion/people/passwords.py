"""Passwords: hashed with argon2id, checked off the event loop, and made up when someone else
sets one."""

from __future__ import annotations

import asyncio
import secrets
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clarion.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256


class Passwords:
    """Hashes and checks passwords at the cost the operator set (memory in KiB)."""

    def __init__(self, memory_kib: int, iterations: int) -> None:
        self._hasher = PasswordHasher(time_cost=iterations, memory_cost=memory_kib)

    @cached_property
    def _absent(self) -> str:
        # Checked against when no account has the address, so that an unknown address takes
        # as long to refuse as a wrong password.
        return self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        """The argon2id hash of a password (CPU- and memory-heavy: call from a thread)."""
        return self._hasher.hash(password)

    def matches(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` is the one ``stored_hash`` was made from; with no hash, the same
        work is done and the answer is no."""
        try:
            self._hasher.verify(stored_hash or self._absent, password)
        except (VerificationError, InvalidHashError):
            return False
        return stored_hash is not None

    async def hash_off_loop(self, password: str) -> str:
        """:meth:`hash`, in a worker thread: the event loop serves live calls meanwhile."""
        return await asyncio.to_thread(self.hash, password)

    async def matches_off_loop(self, stored_hash: str | None, password: str) -> bool:
        """:meth:`matches`, in a worker thread."""
        return await asyncio.to_thread(self.matches, stored_hash, password)


def one_time_password() -> str:
    """A password for someone else to use once, then change: 20 URL-safe characters."""
    return secrets.token_urlsafe(15)


def checked_new_password(password: object, field: str = "password") -> str:
    """A password someone chose, if it is one we accept."""
    if not isinstance(password, str):
        raise InvalidInput(f"{field}: must be a string")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"{field}: must be {MIN_LENGTH} to {MAX_LENGTH} characters")
    if "\x00" in password:
        raise InvalidInput(f"{field}: must not contain NUL")
    return password
