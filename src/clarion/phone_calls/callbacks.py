"""What Twilio says of an outbound call before its stream starts: it rang out, was busy or
failed. A callback is taken only signed with the auth token of the call's own number; one
naming a call clarion does not know changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

from clarion.calls import repository
from clarion.calls.endings import EndedReason
from clarion.calls.models import RINGING, CallRecord
from clarion.calls.service import end_call
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.errors import Forbidden, InvalidInput
from clarion.phone_numbers.service import phone_number_of, twilio_auth_token
from clarion.storage.secret_box import SecretBox
from clarion.telephony.signature import signature_valid

ANSWERED = "in-progress"  # Twilio's CallStatus once the phone is picked up
# How a call Twilio finished before its stream opened ended.
UNCONNECTED = {
    "busy": EndedReason.CUSTOMER_BUSY,
    "no-answer": EndedReason.CUSTOMER_DID_NOT_ANSWER,
    "failed": EndedReason.TWILIO_FAILED_TO_CONNECT_CALL,
    "canceled": EndedReason.MANUALLY_CANCELED,
    "completed": EndedReason.TWILIO_FAILED_TO_CONNECT_CALL,
}
DETAILS = {
    "failed": "Twilio could not connect the call",
    "completed": "the call was answered, but its media stream never opened",
}


def signed_call(
    unit: Unit,
    call_id: int,
    url: str,
    params: Sequence[tuple[str, str]],
    signature: str | None,
    secrets: SecretBox,
) -> CallRecord | None:
    """The phone call a Twilio callback names, locked, once its signature is checked; None
    when clarion does not know it (nothing to change). Forbidden when the callback is not
    signed by the call's number."""
    call = repository.get_by_id(unit.statements, call_id, for_update=True)
    if call is None or call.phone_number_id is None:
        return None
    number = phone_number_of(unit, call.organization_id, call.phone_number_id)
    if number is None:
        return None
    try:
        token = twilio_auth_token(number, secrets)
    except InvalidInput:
        return None
    if not signature_valid(token, url, params, signature):
        raise Forbidden("X-Twilio-Signature: missing, or not signed for this call's number")
    return call


def call_status(
    unit: Unit,
    call_id: int,
    url: str,
    params: Sequence[tuple[str, str]],
    signature: str | None,
    secrets: SecretBox,
) -> None:
    """Take Twilio's word on the call: a call still ringing that Twilio finished ends with
    the matching reason (a call in progress is ended by its stream), and one answered is due
    to open its stream. Forbidden when the callback is not signed by the call's number."""
    call = signed_call(unit, call_id, url, params, signature, secrets)
    if call is None:
        return
    fields = dict(params)
    status = fields.get("CallStatus", "")
    if call.call_status == RINGING and status == ANSWERED:
        repository.note_answered(unit.statements, call.id, utcnow())
    reason = UNCONNECTED.get(status)
    if call.call_status != RINGING or reason is None:
        return
    if end_call(unit, call.id, reason):
        detail = DETAILS.get(status)
        code = fields.get("ErrorCode")
        if detail is not None:
            repository.note_failure(
                unit.statements, call.id, f"{detail} (Twilio error {code[:16]})" if code else detail
            )
