"""Checking a value against an organization's structured-data schema, in a process of its own.

The schema is the organization's, and what checking against it costs is not the server's
to predict: even with patterns that run in time linear in the answer, a schema of a few
kilobytes can take seconds of CPU to build and to check, and jsonschema-rs holds the GIL all
along. On the event loop, that would hold every live call of the process. So each check runs
in a child process, bounded in time, memory and number, and killed past its time; the loop
only waits on a pipe.

The child is this module: ``python -m clarion.after_call.schema_check`` reads one JSON request,
``{"schema": …}`` to see that the schema can be used or ``{"schema": …, "value": …}`` to
check a value, and writes one JSON verdict. Its patterns use the regex engine that runs in
linear time and knows no lookaround or backreference; a ``$ref`` outside the schema is
refused, never fetched.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

CHECK_SECONDS = 10.0
"""How long one check may take before its process is killed and the schema given up."""

CONCURRENT_CHECKS = max(1, (os.cpu_count() or 2) // 2)
"""Checks one server process runs at once: half the cores, so the calls keep the rest."""

CHECK_MEMORY_BYTES = 1024 * 1024 * 1024
"""The address space a checking process may take."""

CHECK_NICENESS = 10
"""How much a check defers to the server's own process for the CPU: live calls come first."""

PATTERN_BYTES = 1024 * 1024
"""The compiled size one pattern may have: beyond it, building it costs seconds."""

PATTERN_CACHE_BYTES = 256 * 1024
"""The lazy DFA cache one pattern may fill while it is matched."""

_NOTHING = object()
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


class SchemaUnusable(Exception):
    """The schema cannot be used: it does not build, or checking against it took too long or
    failed. The message names the problem, never a value."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Where a value missed the schema (a schema path, safe to keep), and what the validator
    said (which may quote the value: for the model's eyes only)."""

    where: str
    detail: str


async def check(schema: Mapping[str, Any], value: Any = _NOTHING) -> Mismatch | None:
    """Whether ``value`` matches ``schema`` (None) or where it does not; without a value,
    whether the schema can be used at all. SchemaUnusable when it cannot."""
    request: dict[str, Any] = {"schema": schema}
    if value is not _NOTHING:
        request["value"] = value
    verdict = await _in_child(orjson.dumps(request))
    if "unusable" in verdict:
        raise SchemaUnusable(str(verdict["unusable"]))
    mismatch = verdict.get("mismatch")
    if mismatch is None:
        return None
    return Mismatch(str(mismatch["where"]), str(mismatch["detail"]))


async def _in_child(request: bytes) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(loop, asyncio.Semaphore(CONCURRENT_CHECKS))
    async with slots:
        # Started by the standard library, which uses vfork: starting a child from a large
        # server process by copying its page tables (as the event loop's own spawn does)
        # holds the loop for tens of milliseconds.
        child = subprocess.Popen(  # noqa: S603 - this module, run by this interpreter
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # What a failing child prints may quote the value; it goes nowhere.
            stderr=subprocess.DEVNULL,
        )
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                written, _ = await asyncio.to_thread(child.communicate, request)
        except TimeoutError:
            raise SchemaUnusable(
                f"checking against it took longer than {CHECK_SECONDS:g} s"
            ) from None
        finally:
            if child.poll() is None:
                child.kill()
                await asyncio.to_thread(child.wait)
    try:
        verdict = orjson.loads(written) if child.returncode == 0 else None
    except orjson.JSONDecodeError:
        verdict = None
    if not isinstance(verdict, dict):
        raise SchemaUnusable("checking against it failed (it may need too much memory)")
    return verdict


def _never_fetched(uri: str) -> Any:
    raise LookupError("documents outside the schema are never fetched")


def verdict(request: Mapping[str, Any]) -> dict[str, Any]:
    """The child's answer to one request (see the module docstring)."""
    try:
        validator = jsonschema_rs.validator_for(
            request["schema"],
            retriever=_never_fetched,
            pattern_options=jsonschema_rs.RegexOptions(
                size_limit=PATTERN_BYTES, dfa_size_limit=PATTERN_CACHE_BYTES
            ),
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as error:
        return {"unusable": _first_line(error)}
    if "value" not in request:
        return {"usable": True}
    missed = next(validator.iter_errors(request["value"]), None)
    if missed is None:
        return {"matches": True}
    where = "/".join(str(step) for step in missed.schema_path) or "its root"
    return {"mismatch": {"where": where, "detail": missed.message}}


def _first_line(error: Exception) -> str:
    problem = str(error).splitlines()[0] if str(error) else type(error).__name__
    if 'is not a "regex"' in problem:
        problem += (
            " (patterns run in linear time here: no lookaround, backreferences or huge repetitions)"
        )
    return problem[:300]


def main() -> None:
    """Answer the request on standard input."""
    resource.setrlimit(resource.RLIMIT_AS, (CHECK_MEMORY_BYTES, CHECK_MEMORY_BYTES))
    os.nice(CHECK_NICENESS)
    request = orjson.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(orjson.dumps(verdict(request)))


if __name__ == "__main__":
    main()
