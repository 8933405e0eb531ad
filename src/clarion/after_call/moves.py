"""The moves of the work after a call on a call's row: ending the calls nobody holds, claiming
ended calls for their analysis and report, keeping the analysis and queuing the report in one
transaction, and giving a claim back.

Functions here run inside a unit of work they are given; they never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

from clarion.calls import repository
from clarion.calls.endings import EndedReason
from clarion.calls.models import CallRecord, SaidMessage
from clarion.calls.representation import report_json
from clarion.calls.service import end_call
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.webhooks import outbox
from clarion.webhooks.service import END_OF_CALL_REPORT


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Before when a call must have been renewed, joined, or (answered) opened its stream."""

    lease: dt.datetime
    join: dt.datetime
    stream_open: dt.datetime


def reap(unit: Unit, cutoffs: Cutoffs, limit: int) -> int:
    """End the calls nobody holds any more: in progress with a lease run out (``worker-died``),
    waiting for their caller since before the join cutoff (``customer-did-not-answer``), or a
    phone call answered whose stream has not opened in time (``twilio-failed-to-connect-call``).
    How many ended."""
    now = utcnow()
    ended = 0
    for call_id in repository.expired(unit.statements, cutoffs.lease, limit):
        ended += end_call(unit, call_id, EndedReason.WORKER_DIED, now)
    for call_id in repository.unjoined(unit.statements, cutoffs.join, limit):
        ended += end_call(unit, call_id, EndedReason.CUSTOMER_DID_NOT_ANSWER, now)
    for call_id in repository.unopened(unit.statements, cutoffs.stream_open, limit):
        if end_call(unit, call_id, EndedReason.TWILIO_FAILED_TO_CONNECT_CALL, now):
            ended += 1
            detail = "the call was answered, but its media stream did not open in time"
            repository.note_failure(unit.statements, call_id, detail)
    return ended


def claim_after_call(
    unit: Unit, claim_seconds: float, limit: int, call_ids: list[int] | None = None
) -> list[int]:
    """Claim, for ``claim_seconds``, ended calls whose analysis and report are due (among
    ``call_ids`` when given) that no process holds any more."""
    now = utcnow()
    until = now + dt.timedelta(seconds=claim_seconds)
    if call_ids is not None:
        return repository.claim_these_after_call(unit.statements, call_ids, now, until)
    return repository.claim_after_call(unit.statements, now, until, limit)


def ended_call(unit: Unit, call_id: int) -> tuple[CallRecord, list[SaidMessage]] | None:
    """An ended call and everything said in it, to analyse; None if it was deleted."""
    call = repository.get_by_id(unit.statements, call_id)
    if call is None:
        return None
    return call, repository.messages_of(unit.statements, call_id)


def keep_analysis_and_report(
    unit: Unit, call_id: int, analysis: dict[str, Any] | None, summary: str | None
) -> None:
    """Keep a call's analysis and queue its end-of-call report, in one transaction; nothing
    if another process did so first, or the call was deleted."""
    now = utcnow()
    if not repository.finish_after_call(unit.statements, call_id, analysis, summary, now):
        return
    call = repository.get_by_id(unit.statements, call_id)
    if call is None or call.webhook_url is None:
        return
    messages = repository.messages_of(unit.statements, call_id)
    outbox.enqueue(
        unit,
        organization_id=call.organization_id,
        assistant_id=call.assistant_id,
        url=call.webhook_url,
        secret_encrypted=call.webhook_secret_encrypted,
        event_type=END_OF_CALL_REPORT,
        body=orjson.dumps(report_json(call, messages), option=orjson.OPT_UTC_Z),
        now=now,
        call_id=call.id,
    )


def release_after_call(unit: Unit, call_ids: list[int]) -> None:
    """Give back this process's claims on these calls' analysis and report, so that any
    process may claim them at once; a call whose report was queued meanwhile stays done."""
    repository.release_after_call(unit.statements, call_ids)
