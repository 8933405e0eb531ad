"""A phone call's Twilio account: the organization's number it came to, and its client."""

from __future__ import annotations

import logging

import aiohttp

from clarion.calls.models import CallRecord
from clarion.config import Settings
from clarion.database import Database, Unit
from clarion.phone_numbers.models import PhoneNumberRecord
from clarion.phone_numbers.service import phone_number_of, twilio_auth_token
from clarion.storage.secret_box import SecretBox
from clarion.telephony.rest import TwilioClient
from clarion.urls import socket_url

log = logging.getLogger("clarion.calls")


def stream_url(base: str, call_id: int) -> str:
    """Where Twilio opens a call's Media Stream, under ``base`` (an http or https URL)."""
    return f"{socket_url(base.rstrip('/'))}/v1/call/{call_id}/twilio"


def twilio_client(
    session: aiohttp.ClientSession,
    number: PhoneNumberRecord,
    settings: Settings,
    secrets: SecretBox,
) -> TwilioClient:
    """The Twilio client of the account the number belongs to."""
    return TwilioClient(
        session,
        number.twilio_account_sid,
        twilio_auth_token(number, secrets),
        settings.twilio_api_base,
    )


def _number_of_call(unit: Unit, call: CallRecord) -> PhoneNumberRecord | None:
    if call.phone_number_id is None:
        return None
    return phone_number_of(unit, call.organization_id, call.phone_number_id)


async def hang_up_phone_call(
    database: Database,
    session: aiohttp.ClientSession,
    settings: Settings,
    secrets: SecretBox,
    call: CallRecord,
    call_sid: str,
) -> None:
    """Complete the Twilio call ``call_sid`` of a phone call (its number deleted since: the
    closed or refused stream ends it on Twilio's side). A failure is logged, not raised: the
    call has ended here whatever Twilio says."""
    try:
        number = await database.read(_number_of_call, call)
        if number is not None:
            await twilio_client(session, number, settings, secrets).complete_call(call_sid)
    except Exception as exc:
        log.warning("call %d: hanging up through Twilio failed: %s", call.id, type(exc).__name__)
