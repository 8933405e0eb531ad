"""Twilio's answering-machine verdict on an outbound call, posted once its asynchronous
detection has decided. It is kept on the call's row, where the process holding the call's
stream (any process) reads it before the assistant says anything
(clarion.engine.answering)."""

from __future__ import annotations

from collections.abc import Sequence

from clarion.calls import repository
from clarion.database import Unit
from clarion.phone_calls.callbacks import signed_call
from clarion.storage.secret_box import SecretBox

VOICEMAIL = "voicemail"
# Twilio's AnsweredBy values; anything else is not kept.
VERDICTS = frozenset(
    {
        "human",
        "unknown",
        "fax",
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
    }
)


def take_verdict(
    unit: Unit,
    call_id: int,
    url: str,
    params: Sequence[tuple[str, str]],
    signature: str | None,
    secrets: SecretBox,
) -> None:
    """Keep who or what answered the live call named. Forbidden when the callback is not
    signed by the call's number; a call ended already, or a verdict Twilio does not give,
    changes nothing."""
    call = signed_call(unit, call_id, url, params, signature, secrets)
    verdict = dict(params).get("AnsweredBy", "")
    if call is None or not call.live or verdict not in VERDICTS:
        return
    repository.note_answered_by(unit.statements, call.id, verdict)


def verdict_of(unit: Unit, call_id: int) -> str | None:
    """Who or what answered the call, once Twilio has said."""
    return repository.answered_by(unit.statements, call_id)


def voicemail_left(unit: Unit, call_id: int) -> None:
    """A machine answered the call: its outcome is ``voicemail``."""
    repository.note_outcome(unit.statements, call_id, VOICEMAIL)
