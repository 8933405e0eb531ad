"""SQL for calls and their messages. Every query a client's request makes is scoped to its
organization; the engine's own (joining with a token, leases, the reaper) name calls by id.

Statements are written with SQLAlchemy Core and compiled once (clarion.database.statements).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, insert, or_, select, update

from clarion.auth.models import OrganizationRow
from clarion.calls.models import (
    AFTER_CALL_DONE,
    AFTER_CALL_PENDING,
    CALL_MESSAGES,
    CALLS,
    ENDED,
    IN_PROGRESS,
    OUTBOUND,
    QUEUED,
    RINGING,
    WEB_CALL,
    CallRecord,
    SaidMessage,
)
from clarion.database.schema import among_ids, of_organization, one_of_organization
from clarion.database.statements import Prepared, Row, Statements

_COLUMNS = [column.name for column in CALLS.columns]
_MESSAGE_COLUMNS = [column.name for column in CALL_MESSAGES.columns]
_NEWEST_FIRST = (CALLS.c.created_at.desc(), CALLS.c.id.desc())
ORGANIZATIONS = OrganizationRow.__table__

_INSERT = Prepared(
    lambda: (
        insert(CALLS).values({name: bindparam(name) for name in _COLUMNS[1:]}).returning(CALLS.c.id)
    )
)
_GET = Prepared(lambda: select(CALLS).where(*one_of_organization(CALLS)))
_GET_BY_ID = Prepared(lambda: select(CALLS).where(CALLS.c.id == bindparam("id")))
# FOR NO KEY UPDATE: it orders the calls' enders among themselves, and waits neither for the
# recorder's FOR KEY SHARE nor for a foreign key check.
_GET_BY_ID_FOR_UPDATE = Prepared(
    lambda: select(CALLS).where(CALLS.c.id == bindparam("id")).with_for_update(key_share=True)
)
# Creating calls one organization at a time is what keeps the live call limit exact on
# PostgreSQL; SQLite's write transaction admits one writer anyway.
_LOCK_ORGANIZATION = Prepared(
    lambda: (
        select(ORGANIZATIONS.c.id)
        .where(ORGANIZATIONS.c.id == bindparam("organization_id"))
        .with_for_update(key_share=True)  # other rows of the organization may still be added
    )
)


def _waiting() -> ColumnElement[bool]:
    """Waiting for its caller to join: a web call not yet joined, a phone call ringing (an
    outbound call still queued has not been placed: nobody can join it yet)."""
    return or_(
        CALLS.c.call_status == RINGING,
        and_(CALLS.c.call_status == QUEUED, CALLS.c.call_type != OUTBOUND),
    )


def _counted() -> ColumnElement[bool]:
    """Counted against the organization's limit: from its creation (a web call) or its
    placing (a phone call) until it ends."""
    return and_(
        CALLS.c.call_status != ENDED,
        or_(CALLS.c.call_status != QUEUED, CALLS.c.call_type != OUTBOUND),
    )


_LIVE_COUNT = Prepared(
    lambda: select(func.count()).select_from(CALLS).where(of_organization(CALLS), _counted())
)
_QUEUED_OUTBOUND = Prepared(
    lambda: (
        select(CALLS.c.id, CALLS.c.organization_id)
        .where(CALLS.c.call_status == QUEUED, CALLS.c.call_type == OUTBOUND)
        .order_by(CALLS.c.id)
        .limit(bindparam("limit"))
        .with_for_update(key_share=True, skip_locked=True)
    )
)
_PLACE = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"), CALLS.c.call_status == QUEUED)
        .values(call_status=RINGING, token_digest=bindparam("token"), updated_at=bindparam("now"))
    )
)
_NEW_TOKEN = Prepared(
    lambda: (
        update(CALLS)
        .where(
            CALLS.c.id == bindparam("id"),
            CALLS.c.call_status == QUEUED,
            CALLS.c.call_type == WEB_CALL,
        )
        .values(token_digest=bindparam("token"), updated_at=bindparam("now"))
    )
)
_NOTE_TWILIO_CALL = Prepared(
    lambda: (
        update(CALLS).where(CALLS.c.id == bindparam("id")).values(twilio_call_sid=bindparam("sid"))
    )
)
_NOTE_ANSWERED = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"), CALLS.c.answered_at.is_(None))
        .values(answered_at=bindparam("now"), updated_at=bindparam("now"))
    )
)
_NOTE_ANSWERED_BY = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"))
        .values(answered_by=bindparam("answered_by"))
    )
)
_ANSWERED_BY = Prepared(lambda: select(CALLS.c.answered_by).where(CALLS.c.id == bindparam("id")))
_NOTE_OUTCOME = Prepared(
    lambda: update(CALLS).where(CALLS.c.id == bindparam("id")).values(outcome=bindparam("outcome"))
)
_NOTE_FAILURE = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"))
        .values(failure_detail=bindparam("detail"))
    )
)
_JOIN = Prepared(
    lambda: (
        update(CALLS)
        .where(
            CALLS.c.id == bindparam("id"),
            _waiting(),
            CALLS.c.token_digest == bindparam("token"),
            # Not after its time to be joined, from its creation or (a phone call) its placing.
            CALLS.c.updated_at >= bindparam("cutoff"),
        )
        .values(
            call_status=IN_PROGRESS,
            token_digest=None,
            started_at=bindparam("now"),
            updated_at=bindparam("now"),
            lease_owner=bindparam("owner"),
            lease_expires_at=bindparam("until"),
        )
    )
)
_END = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"), CALLS.c.call_status != ENDED)
        .values(
            call_status=ENDED,
            token_digest=None,
            ended_at=bindparam("now"),
            updated_at=bindparam("now"),
            ended_reason=bindparam("ended_reason"),
            duration_ms=bindparam("duration_ms"),
            after_call=AFTER_CALL_PENDING,
        )
    )
)
_RENEW = Prepared(
    lambda: (
        update(CALLS)
        .where(
            CALLS.c.id == bindparam("id"),
            CALLS.c.lease_owner == bindparam("owner"),
            CALLS.c.call_status == IN_PROGRESS,
        )
        .values(lease_expires_at=bindparam("until"))
    )
)
_RELEASE = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"), CALLS.c.lease_owner == bindparam("owner"))
        .values(lease_owner=None, lease_expires_at=None)
    )
)
_EXPIRED = Prepared(
    lambda: (
        select(CALLS.c.id)
        .where(CALLS.c.call_status == IN_PROGRESS, CALLS.c.lease_expires_at < bindparam("now"))
        .order_by(CALLS.c.id)
        .limit(bindparam("limit"))
        .with_for_update(key_share=True, skip_locked=True)
    )
)
_UNOPENED = Prepared(
    lambda: (
        select(CALLS.c.id)
        .where(CALLS.c.call_status == RINGING, CALLS.c.answered_at < bindparam("cutoff"))
        .order_by(CALLS.c.id)
        .limit(bindparam("limit"))
        .with_for_update(key_share=True, skip_locked=True)
    )
)
_UNJOINED = Prepared(
    lambda: (
        select(CALLS.c.id)
        .where(_waiting(), CALLS.c.updated_at < bindparam("cutoff"))
        .order_by(CALLS.c.id)
        .limit(bindparam("limit"))
        .with_for_update(key_share=True, skip_locked=True)
    )
)


def _after_call_due() -> tuple[ColumnElement[bool], ...]:
    """An ended call whose analysis and report are due now (the ``now`` parameter): pending,
    not claimed by a process that is still at it, and held by no process any more (the holder
    may have a message or two to write yet)."""
    return (
        CALLS.c.after_call == AFTER_CALL_PENDING,
        CALLS.c.after_call_claimed_until.is_(None)
        | (CALLS.c.after_call_claimed_until < bindparam("now")),
        CALLS.c.lease_owner.is_(None) | (CALLS.c.lease_expires_at < bindparam("now")),
    )


_AFTER_CALL_DUE = Prepared(
    lambda: (
        select(CALLS.c.id)
        .where(
            *_after_call_due(),
        )
        .order_by(CALLS.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
)
_CLAIM_ONE_AFTER_CALL = Prepared(
    lambda: (
        update(CALLS)
        .where(
            CALLS.c.id == bindparam("id"),
            *_after_call_due(),
        )
        .values(after_call_claimed_until=bindparam("until"))
    )
)
_CLAIM_AFTER_CALL = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"))
        .values(after_call_claimed_until=bindparam("until"))
    )
)
# A claim given back: the call is due at once, for any process to claim (one that stops
# hands its unfinished analyses over rather than waiting for them).
_RELEASE_AFTER_CALL = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"), CALLS.c.after_call == AFTER_CALL_PENDING)
        .values(after_call_claimed_until=None)
    )
)
_FINISH_AFTER_CALL = Prepared(
    lambda: (
        update(CALLS)
        .where(CALLS.c.id == bindparam("id"), CALLS.c.after_call == AFTER_CALL_PENDING)
        .values(
            after_call=AFTER_CALL_DONE,
            after_call_claimed_until=None,
            analysis=bindparam("analysis"),
            summary=bindparam("summary"),
            updated_at=bindparam("now"),
        )
    )
)
_DELETE = Prepared(lambda: delete(CALLS).where(*one_of_organization(CALLS)))
# Messages are written after they are said, so their call may have been deleted meanwhile;
# holding the call's row (against a delete, not against updates) until the messages are in
# keeps them from landing after it.
_HOLD_CALLS = Prepared(
    lambda: (
        select(CALLS.c.id)
        .where(among_ids(CALLS.c.id, "ids"))
        .order_by(CALLS.c.id)  # one order for every writer of these rows: no deadlock
        .with_for_update(read=True, key_share=True)
    )
)
_INSERT_MESSAGE = Prepared(
    lambda: insert(CALL_MESSAGES).values({name: bindparam(name) for name in _MESSAGE_COLUMNS})
)
_MESSAGES = Prepared(
    lambda: (
        select(CALL_MESSAGES)
        .where(CALL_MESSAGES.c.call_id == bindparam("call_id"))
        .order_by(CALL_MESSAGES.c.position)
    )
)
_DELETE_MESSAGES = Prepared(
    lambda: delete(CALL_MESSAGES).where(CALL_MESSAGES.c.call_id == bindparam("call_id"))
)


ListShape = tuple[bool, bool, bool, bool, bool]
"""Which of the list's filters are given: created_from, created_to, assistant_id, call_status,
ended_reason."""


def _listed(shape: ListShape) -> Any:
    # Each filter, alone or with assistant_id and call_status together, has an index that
    # ends in the list's order (models.py), so a page is read newest first off the index.
    created_from, created_to, assistant, status, ended_reason = shape
    query = select(CALLS).where(of_organization(CALLS))
    if created_from:
        query = query.where(CALLS.c.created_at >= bindparam("created_from"))
    if created_to:
        query = query.where(CALLS.c.created_at <= bindparam("created_to"))
    if assistant:
        query = query.where(CALLS.c.assistant_id == bindparam("assistant_id"))
    if status:
        query = query.where(CALLS.c.call_status == bindparam("call_status"))
    if ended_reason:
        query = query.where(CALLS.c.ended_reason == bindparam("ended_reason"))
    return query.order_by(*_NEWEST_FIRST).limit(bindparam("limit"))


@cache
def _list(shape: ListShape) -> Prepared:
    return Prepared(lambda: _listed(shape))


@cache
def _messages_of_list(shape: ListShape) -> Prepared:
    """Everything said in the calls the list of this shape shows, in one query: the list
    itself is its subquery, run in the same snapshot with the same parameters."""
    page = _listed(shape).with_only_columns(CALLS.c.id).subquery()
    return Prepared(
        lambda: (
            select(CALL_MESSAGES)
            .where(CALL_MESSAGES.c.call_id.in_(select(page.c.id)))
            .order_by(CALL_MESSAGES.c.call_id, CALL_MESSAGES.c.position)
        )
    )


def _narrowed(filters: dict[str, Any]) -> dict[str, Any] | None:
    """The list's filters without call_status when an ended_reason is given, or None when
    they rule out every call. Only an ended call has an ended reason (``end`` sets both), so
    the status says nothing more; left in, it may lead SQLite, which keeps no statistics, to
    read the status's index, where a rare reason is sought among every ended call."""
    if "ended_reason" not in filters or "call_status" not in filters:
        return filters
    if filters["call_status"] != ENDED:
        return None
    return {name: value for name, value in filters.items() if name != "call_status"}


def _shape(filters: dict[str, Any]) -> ListShape:
    return (
        "created_from" in filters,
        "created_to" in filters,
        "assistant_id" in filters,
        "call_status" in filters,
        "ended_reason" in filters,
    )


def add(statements: Statements, call: CallRecord) -> None:
    """Insert the call; it gets its id here."""
    row = statements.fetch_one(_INSERT, **{name: getattr(call, name) for name in _COLUMNS[1:]})
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    call.id = row[0]


def get(statements: Statements, organization_id: int, call_id: int) -> CallRecord | None:
    """The organization's call, or None: another organization's is as good as missing."""
    return _record(statements.fetch_one(_GET, id=call_id, organization_id=organization_id))


def get_by_id(
    statements: Statements, call_id: int, *, for_update: bool = False
) -> CallRecord | None:
    """A call by id alone, for the engine (which holds it by its token or its lease)."""
    query = _GET_BY_ID_FOR_UPDATE if for_update else _GET_BY_ID
    return _record(statements.fetch_one(query, id=call_id))


def list_newest_first(
    statements: Statements,
    organization_id: int,
    limit: int,
    filters: dict[str, Any],
) -> list[CallRecord]:
    """The organization's calls, newest first, with the filters given (created_from,
    created_to, assistant_id, call_status, ended_reason)."""
    narrowed = _narrowed(filters)
    if narrowed is None:
        return []
    query = _list(_shape(narrowed))
    rows = statements.fetch_all(query, organization_id=organization_id, limit=limit, **narrowed)
    return [CallRecord(*row) for row in rows]


def lock_organization(statements: Statements, organization_id: int) -> None:
    """Hold the organization's row until the transaction ends (PostgreSQL)."""
    statements.fetch_one(_LOCK_ORGANIZATION, organization_id=organization_id)


def live_count(statements: Statements, organization_id: int) -> int:
    """How many of the organization's calls are queued or in progress."""
    row = statements.fetch_one(_LIVE_COUNT, organization_id=organization_id)
    return int(row[0]) if row else 0


def join(
    statements: Statements,
    call_id: int,
    token_digest: bytes,
    owner: str,
    now: dt.datetime,
    until: dt.datetime,
    cutoff: dt.datetime,
) -> bool:
    """Start the queued call whose token this is, leased to ``owner``; False when the
    token is wrong or used, or the call is not waiting (or was created before ``cutoff``)."""
    changed = statements.execute(
        _JOIN, id=call_id, token=token_digest, owner=owner, now=now, until=until, cutoff=cutoff
    )
    return changed == 1


def end(statements: Statements, call: CallRecord, ended_reason: str, now: dt.datetime) -> bool:
    """End a live call; False when it had ended already (whoever ends it first wins)."""
    started = call.started_at
    duration_ms = None if started is None else max(0, round((now - started).total_seconds() * 1000))
    changed = statements.execute(
        _END, id=call.id, ended_reason=ended_reason, duration_ms=duration_ms, now=now
    )
    return changed == 1


def renew(statements: Statements, owner: str, call_ids: set[int], until: dt.datetime) -> set[int]:
    """Extend ``owner``'s leases on these calls; the ids of those still in progress. A call
    ``owner`` no longer holds (its end failed to be recorded) is not renewed: its lease runs
    out and the reaper ends it."""
    renewed = set()
    for call_id in sorted(call_ids):  # one order for every writer of these rows
        if statements.execute(_RENEW, id=call_id, owner=owner, until=until) == 1:
            renewed.add(call_id)
    return renewed


def release(statements: Statements, call_id: int, owner: str) -> None:
    """``owner`` holds the call no more: its analysis and report may follow."""
    statements.execute(_RELEASE, id=call_id, owner=owner)


def expired(statements: Statements, now: dt.datetime, limit: int) -> list[int]:
    """Calls in progress whose lease has run out: their process is gone."""
    return [row[0] for row in statements.fetch_all(_EXPIRED, now=now, limit=limit)]


def unjoined(statements: Statements, cutoff: dt.datetime, limit: int) -> list[int]:
    """Queued calls created before ``cutoff``: nobody joined them in time."""
    return [row[0] for row in statements.fetch_all(_UNJOINED, cutoff=cutoff, limit=limit)]


def unopened(statements: Statements, cutoff: dt.datetime, limit: int) -> list[int]:
    """Phone calls answered before ``cutoff`` whose stream has not opened."""
    return [row[0] for row in statements.fetch_all(_UNOPENED, cutoff=cutoff, limit=limit)]


def claim_after_call(
    statements: Statements, now: dt.datetime, until: dt.datetime, limit: int
) -> list[int]:
    """Take ended calls whose analysis and report are due, until ``until``."""
    ids = [row[0] for row in statements.fetch_all(_AFTER_CALL_DUE, now=now, limit=limit)]
    for call_id in ids:
        statements.execute(_CLAIM_AFTER_CALL, id=call_id, until=until)
    return ids


def claim_these_after_call(
    statements: Statements, call_ids: list[int], now: dt.datetime, until: dt.datetime
) -> list[int]:
    """Take these ended calls, of those whose analysis and report are due, until ``until``."""
    return [
        call_id
        for call_id in sorted(call_ids)
        if statements.execute(_CLAIM_ONE_AFTER_CALL, id=call_id, now=now, until=until) == 1
    ]


def release_after_call(statements: Statements, call_ids: Collection[int]) -> None:
    """Give back the claims on these calls: those still pending are due again at once."""
    for call_id in sorted(call_ids):  # one order for every writer of these rows
        statements.execute(_RELEASE_AFTER_CALL, id=call_id)


def finish_after_call(
    statements: Statements,
    call_id: int,
    analysis: dict[str, Any] | None,
    summary: str | None,
    now: dt.datetime,
) -> bool:
    """Keep the call's analysis and mark its report queued; False if done already."""
    changed = statements.execute(
        _FINISH_AFTER_CALL, id=call_id, analysis=analysis, summary=summary, now=now
    )
    return changed == 1


def delete_one(statements: Statements, call: CallRecord) -> None:
    """Delete the call and everything said in it."""
    statements.execute(_DELETE_MESSAGES, call_id=call.id)
    statements.execute(_DELETE, id=call.id, organization_id=call.organization_id)


def hold_calls(statements: Statements, call_ids: Collection[int]) -> set[int]:
    """Which of these calls still exist, each held until the transaction ends (PostgreSQL)
    so that none is deleted before it does."""
    return {call_id for (call_id,) in statements.fetch_all(_HOLD_CALLS, ids=list(call_ids))}


def add_messages(statements: Statements, messages: list[SaidMessage]) -> None:
    """Store messages said in calls."""
    statements.execute_many(
        _INSERT_MESSAGE,
        [{name: getattr(message, name) for name in _MESSAGE_COLUMNS} for message in messages],
    )


def messages_of(statements: Statements, call_id: int) -> list[SaidMessage]:
    """Everything said in a call, in order."""
    return [SaidMessage(*row) for row in statements.fetch_all(_MESSAGES, call_id=call_id)]


def messages_of_list(
    statements: Statements,
    organization_id: int,
    limit: int,
    filters: dict[str, Any],
    calls: list[CallRecord],
) -> dict[int, list[SaidMessage]]:
    """Everything said in each call of a list read just before with the same arguments
    (list_newest_first), by call id."""
    said: dict[int, list[SaidMessage]] = {call.id: [] for call in calls}
    narrowed = _narrowed(filters)
    if not calls or narrowed is None:
        return said
    rows = statements.fetch_all(
        _messages_of_list(_shape(narrowed)),
        organization_id=organization_id,
        limit=limit,
        **narrowed,
    )
    for row in rows:
        messages = said.get(row[0])
        if messages is not None:
            messages.append(SaidMessage(*row))
    return said


def _record(row: Row | None) -> CallRecord | None:
    return None if row is None else CallRecord(*row)


def queued_outbound(statements: Statements, limit: int) -> list[tuple[int, int]]:
    """The oldest outbound calls waiting to be placed, as (call, organization), held from
    other placers until the transaction ends."""
    rows = statements.fetch_all(_QUEUED_OUTBOUND, limit=limit)
    return [(int(row[0]), int(row[1])) for row in rows]


def new_token(statements: Statements, call_id: int, token_digest: bytes, now: dt.datetime) -> bool:
    """Give a web call nobody has joined a new token (the old one no longer joins it) and a
    new join window from ``now``; False when it is not such a call any more."""
    return statements.execute(_NEW_TOKEN, id=call_id, token=token_digest, now=now) == 1


def place(statements: Statements, call_id: int, token_digest: bytes, now: dt.datetime) -> bool:
    """Mark a queued call placed (ringing), joined later by ``token_digest``; False when it
    is no longer queued."""
    return statements.execute(_PLACE, id=call_id, token=token_digest, now=now) == 1


def note_twilio_call(statements: Statements, call_id: int, call_sid: str) -> None:
    """Keep Twilio's id of the call."""
    statements.execute(_NOTE_TWILIO_CALL, id=call_id, sid=call_sid)


def note_failure(statements: Statements, call_id: int, detail: str) -> None:
    """Keep why the call could not be connected."""
    statements.execute(_NOTE_FAILURE, id=call_id, detail=detail)


def note_answered_by(statements: Statements, call_id: int, answered_by: str) -> None:
    """Keep who or what answered the phone call, as Twilio's detection said."""
    statements.execute(_NOTE_ANSWERED_BY, id=call_id, answered_by=answered_by)


def note_answered(statements: Statements, call_id: int, now: dt.datetime) -> None:
    """The phone call was answered (the first time said is kept)."""
    statements.execute(_NOTE_ANSWERED, id=call_id, now=now)


def answered_by(statements: Statements, call_id: int) -> str | None:
    """Who or what answered the phone call, once Twilio's detection has said."""
    row = statements.fetch_one(_ANSWERED_BY, id=call_id)
    return None if row is None else row[0]


def note_outcome(statements: Statements, call_id: int, outcome: str) -> None:
    """Keep how the call turned out (``voicemail``, say)."""
    statements.execute(_NOTE_OUTCOME, id=call_id, outcome=outcome)
