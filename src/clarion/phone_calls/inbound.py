"""A patient phoning a clinic's number: the call Twilio tells clarion about is created for
the number's assistant, and answered with the TwiML that connects its Media Stream, or
rejected politely when there is no one to answer it."""

from __future__ import annotations

from collections.abc import Sequence

from clarion.assistants import repository as assistants
from clarion.calls import repository as calls
from clarion.calls.models import RINGING, CallRecord
from clarion.calls.service import new_call, reachable_configuration, room_for_a_call
from clarion.config import Settings
from clarion.database import Unit
from clarion.errors import InvalidInput
from clarion.phone_numbers import repository as phone_numbers
from clarion.phone_numbers.models import PhoneNumberRecord
from clarion.phone_numbers.service import twilio_auth_token
from clarion.storage.secret_box import SecretBox
from clarion.telephony.signature import signature_valid

INBOUND = "inboundPhoneCall"


def number_signed_for(
    unit: Unit,
    number: str,
    account_sid: str,
    url: str,
    params: Sequence[tuple[str, str]],
    signature: str | None,
    secrets: SecretBox,
) -> PhoneNumberRecord | None:
    """The organization's number this request is for, if Twilio signed it with that number's
    auth token; None for a forged or unsigned one (or one no number here is for)."""
    for candidate in phone_numbers.called(unit.statements, number, account_sid):
        try:
            token = twilio_auth_token(candidate, secrets)
        except InvalidInput:
            continue  # sealed under another server key: it cannot have signed anything
        if signature_valid(token, url, params, signature):
            return candidate
    return None


def answer_inbound_call(
    unit: Unit,
    number: PhoneNumberRecord,
    caller_number: str,
    call_sid: str,
    settings: Settings,
    secrets: SecretBox,
) -> tuple[CallRecord, str] | None:
    """A ringing inbound call for the number's assistant and the token its stream joins
    with; None when it is to be rejected: the number has no assistant, the assistant cannot
    hold a call as configured, or the organization has as many live calls as it may."""
    if number.assistant_id is None:
        return None
    assistant = assistants.get(unit.statements, number.organization_id, number.assistant_id)
    if assistant is None:
        return None
    try:
        configuration = reachable_configuration(
            unit, number.organization_id, assistant.values, {}, settings, secrets
        )
    except InvalidInput:
        return None  # a placeholder nobody fills, a key gone: not a call anyone can hold
    if not room_for_a_call(unit, number.organization_id, settings):
        return None
    call, token = new_call(number.organization_id, assistant, configuration, INBOUND, RINGING)
    call.source_number = caller_number
    call.destination_number = number.number
    call.phone_number_id = number.id
    call.twilio_call_sid = call_sid
    call.answered_at = call.created_at  # by the TwiML answered now, which opens the stream
    calls.add(unit.statements, call)
    return call, token
