"""Passwords: hashed with argon2id, checked off the event loop, and made up when someone else
sets one."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clarion.errors import InvalidInput, Unavailable

T = TypeVar("T")

MIN_LENGTH = 12
MAX_LENGTH = 256
# Hashes worked on at once, and waiting: a flood of sign-ins takes these threads and this much
# memory (each hash holds its memory cost) and no more, leaving the cores to live calls.
HASHING_THREADS = 2
WAITING_MAX = 32
BUSY = "too many sign-ins at once: try again in a moment"


class Passwords:
    """Hashes and checks passwords at the cost the operator set (memory in KiB), a few at a
    time in threads of their own."""

    def __init__(self, memory_kib: int, iterations: int) -> None:
        self._hasher = PasswordHasher(time_cost=iterations, memory_cost=memory_kib)
        self._threads: ThreadPoolExecutor | None = None
        self._queued = 0

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

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether a hash was made at another cost than the one set now."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    async def hash_off_loop(self, password: str) -> str:
        """:meth:`hash`, in a hashing thread: the event loop serves live calls meanwhile."""
        return await self._in_thread(self.hash, password)

    async def matches_off_loop(self, stored_hash: str | None, password: str) -> bool:
        """:meth:`matches`, in a hashing thread."""
        return await self._in_thread(self.matches, stored_hash, password)

    async def _in_thread(self, work: Callable[..., T], *args: object) -> T:
        if self._queued >= WAITING_MAX:
            raise Unavailable(BUSY, retry_after_seconds=1)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="passwords")
        self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, work, *args)
        finally:
            self._queued -= 1


def one_time_password() -> str:
    """A random password for someone else to use once, then change."""
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
