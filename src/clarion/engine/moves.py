"""The moves the engine makes on a call's row: joining it with its token, recording what is
said, renewing the leases of the calls a process holds, and ending a held call.

Functions here run inside a unit of work they are given; they never commit.
"""

from __future__ import annotations

import datetime as dt
import hmac

from clarion.calls import repository
from clarion.calls.endings import EndedReason
from clarion.calls.models import CallRecord, SaidMessage
from clarion.calls.service import end_call, token_digest
from clarion.database import Unit
from clarion.database.clock import utcnow


def may_join(unit: Unit, call_id: int, token: str) -> bool:
    """Whether this token opens this call, waiting for its caller: a read, so that a flood
    of wrong tokens never takes the write lock (SQLite) or a row lock."""
    call = repository.get_by_id(unit.statements, call_id)
    return (
        call is not None
        and call.token_digest is not None
        and hmac.compare_digest(call.token_digest, token_digest(token))
    )


def join_call(
    unit: Unit, call_id: int, token: str, owner: str, lease_seconds: float, join_seconds: float
) -> CallRecord | None:
    """Start the queued call this token opens, leased to ``owner``; None when the token is
    wrong or used, or the call is not waiting for its caller (or waited too long)."""
    now = utcnow()
    until = now + dt.timedelta(seconds=lease_seconds)
    cutoff = now - dt.timedelta(seconds=join_seconds)
    digest = token_digest(token)
    if not repository.join(unit.statements, call_id, digest, owner, now, until, cutoff):
        return None
    return repository.get_by_id(unit.statements, call_id)


def end_held_call(
    unit: Unit, call_id: int, ended_reason: EndedReason, owner: str, detail: str | None = None
) -> EndedReason | None:
    """End a call ``owner`` holds, unless it was ended elsewhere first, keeping ``detail``
    (what failed it) with it, and let it go: its analysis and report may follow. Why it
    ended (None: it was deleted)."""
    ended = end_call(unit, call_id, ended_reason)
    repository.release(unit.statements, call_id, owner)
    if ended:
        if detail is not None:
            repository.note_failure(unit.statements, call_id, detail)
        return ended_reason
    return ended_reason_of(unit, call_id)


def record_messages(unit: Unit, messages: list[SaidMessage]) -> None:
    """Store messages as they are said; those of a call deleted since are dropped with it."""
    existing = repository.hold_calls(unit.statements, {m.call_id for m in messages})
    kept = [message for message in messages if message.call_id in existing]
    if kept:
        repository.add_messages(unit.statements, kept)


def ended_reason_of(unit: Unit, call_id: int) -> EndedReason | None:
    """Why the call ended, when it has."""
    call = repository.get_by_id(unit.statements, call_id)
    if call is None or call.ended_reason is None:
        return None
    return EndedReason(call.ended_reason)


def renew_leases(unit: Unit, owner: str, call_ids: set[int], until: dt.datetime) -> set[int]:
    """Extend ``owner``'s leases on the calls it holds; the ids of those still in progress."""
    return repository.renew(unit.statements, owner, call_ids, until)
