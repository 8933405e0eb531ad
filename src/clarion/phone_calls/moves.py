"""The moves the dialer makes on outbound calls' rows: claiming the oldest queued calls the
organizations' limits leave room for, and noting how placing each went.

Functions here run inside a unit of work they are given; they never commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from clarion.calls import repository
from clarion.calls.endings import EndedReason
from clarion.calls.models import CallRecord
from clarion.calls.service import end_call, room_for_a_call, token_digest
from clarion.config import Settings
from clarion.database import Unit
from clarion.phone_numbers.models import PhoneNumberRecord
from clarion.phone_numbers.service import phone_number_of


@dataclass(frozen=True, slots=True)
class Placement:
    """A call to place now: its number, and the one-time token its stream joins with."""

    call: CallRecord
    number: PhoneNumberRecord
    token: str = field(repr=False)


def claim_placements(
    unit: Unit, now: dt.datetime, limit: int, settings: Settings
) -> list[Placement]:
    """Mark ringing, oldest first, the queued outbound calls their organizations have room
    for (a call counts from here); those whose number was deleted meanwhile end as
    ``twilio-failed-to-connect-call``."""
    placements = []
    # An organization found full stays full for the rest of the pass: a place freed while
    # the pass runs goes to its oldest waiting call at the next pass, not to a younger one.
    full: set[int] = set()
    for call_id, organization_id in repository.queued_outbound(unit.statements, limit):
        if organization_id in full or not room_for_a_call(unit, organization_id, settings):
            full.add(organization_id)
            continue
        call = repository.get_by_id(unit.statements, call_id)
        if call is None:
            continue
        number = None
        if call.phone_number_id is not None:
            number = phone_number_of(unit, organization_id, call.phone_number_id)
        if number is None:
            end_call(unit, call_id, EndedReason.TWILIO_FAILED_TO_CONNECT_CALL, now)
            repository.note_failure(
                unit.statements, call_id, "its phone number was deleted before it was placed"
            )
            continue
        token = secrets.token_urlsafe(32)
        if repository.place(unit.statements, call_id, token_digest(token), now):
            placements.append(Placement(call, number, token))
    return placements


def placed(unit: Unit, call_id: int, call_sid: str) -> bool:
    """Twilio took the call: keep its id. Whether the call is still live (it may have been
    cancelled meanwhile)."""
    repository.note_twilio_call(unit.statements, call_id, call_sid)
    call = repository.get_by_id(unit.statements, call_id)
    return call is not None and call.live


def not_placed(unit: Unit, call_id: int, detail: str) -> None:
    """Twilio refused the call: it ends, and says why."""
    if end_call(unit, call_id, EndedReason.TWILIO_FAILED_TO_CONNECT_CALL):
        repository.note_failure(unit.statements, call_id, detail)
