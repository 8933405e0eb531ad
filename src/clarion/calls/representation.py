"""A call as the API shows it and as its end-of-call report tells it (Clarion's names).

Fields without a value are left out, as for assistants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clarion.calls.endings import EndedReason
from clarion.calls.models import CallRecord, SaidMessage

SPEAKERS = {"assistant": "AI", "user": "User"}


def message_json(message: SaidMessage, started_ms: int) -> dict[str, Any]:
    """One message: who, what, when (Unix ms, and seconds into the call) and for how long
    (ms)."""
    return {
        "role": message.role,
        "message": message.message,
        "time": message.time,
        "endTime": message.end_time,
        "secondsFromStart": round((message.time - started_ms) / 1000, 3),
        "duration": message.end_time - message.time,
    }


def _started_ms(call: CallRecord) -> int:
    moment = call.started_at or call.created_at
    return int(moment.timestamp() * 1000)


def transcript(messages: Sequence[SaidMessage]) -> str:
    """The conversation as lines labelled ``AI:`` and ``User:``."""
    return "\n".join(f"{SPEAKERS[m.role]}: {m.message}" for m in messages)


def call_json(call: CallRecord, messages: Sequence[SaidMessage]) -> dict[str, Any]:
    """The call as the API shows it."""
    started_ms = _started_ms(call)
    return _shown(
        call,
        {
            "name": call.name,
            "started_at": call.started_at,
            "ended_at": call.ended_at,
            "duration_ms": call.duration_ms,
            "ended_reason": call.ended_reason,
            "messages": [message_json(m, started_ms) for m in messages] or None,
            "transcript": transcript(messages) if messages else None,
            "analysis": call.analysis or None,
            "summary": call.summary,
            "outcome": call.outcome,
            "failure_reason": call.failure_reason,
            "failure_detail": call.failure_detail,
            "source_number": call.source_number,
            "destination_number": call.destination_number,
        },
    )


def call_outline_json(call: CallRecord) -> dict[str, Any]:
    """The call without its conversation, as a list of calls shows it: what it is, where it
    stands and how long it took; nothing the patient or the model said, nothing that names
    the patient."""
    # Left out besides the messages and transcript: the summary, analysis, outcome and
    # failure_reason (the model's reading of the conversation); failure_detail (a carrier's
    # message may quote the number it was asked to call); the name (free text from whoever
    # made the call, often naming whom it is for); the phone numbers (one is the patient's).
    # A call never shows its configuration, the variables filled into it or its voicemail.
    return _shown(
        call,
        {
            "started_at": call.started_at,
            "ended_at": call.ended_at,
            "duration_ms": call.duration_ms,
            "ended_reason": call.ended_reason,
        },
    )


def _shown(call: CallRecord, optional: dict[str, Any]) -> dict[str, Any]:
    """The fields every call shows, with those of ``optional`` that have a value."""
    shown: dict[str, Any] = {
        "id": call.id,
        "organization_id": call.organization_id,
        "assistant_id": call.assistant_id,
        "call_type": call.call_type,
        "call_status": call.call_status,
    }
    shown.update((name, value) for name, value in optional.items() if value is not None)
    shown["created_at"] = call.created_at
    shown["updated_at"] = call.updated_at
    return shown


def report_json(call: CallRecord, messages: Sequence[SaidMessage]) -> dict[str, Any]:
    """The end-of-call report of an ended call."""
    report: dict[str, Any] = {
        "id": call.id,
        "assistant_id": call.assistant_id,
        "call_status": call.call_status,
    }
    optional = {
        "started_at": call.started_at,
        "ended_at": call.ended_at,
        "duration_ms": call.duration_ms,
        "ended_reason": call.ended_reason,
        "transcript": transcript(messages) if messages else None,
        "source_number": call.source_number,
        "destination_number": call.destination_number,
        "call_type": call.call_type,
        "analysis": call.analysis or None,
        "summary": call.summary,
        "outcome": call.outcome,
        "failure_reason": call.failure_reason,
        "voicemail_message": voicemail_left(call, messages),
    }
    report.update((name, value) for name, value in optional.items() if value is not None)
    return report


def voicemail_left(call: CallRecord, messages: Sequence[SaidMessage]) -> str | None:
    """The message actually left on an answering machine (no first message is ever said to
    one, so all the assistant said); None when none was."""
    if call.ended_reason != EndedReason.VOICEMAIL:
        return None
    left = " ".join(m.message for m in messages if m.role == "assistant")
    return left or None
