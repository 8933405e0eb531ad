"""The rules of the calls resource: creating a call from an assistant, reading, ending and
deleting calls. The moves the engine makes on a call's row are clarion.engine.moves; those
of the work after a call, clarion.after_call.moves.

Functions here run inside a unit of work they are given and raise domain errors; they never
commit and never speak HTTP. Ending a call is a conditional update (:func:`end_call`):
whoever ends it first (the conversation, a request, the reaper) decides its ``ended_reason``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from clarion.assistants import repository as assistants
from clarion.assistants.bodies import validate_fields
from clarion.assistants.models import AssistantRecord
from clarion.auth.service import Caller
from clarion.call_reads import service as call_reads
from clarion.calls import repository
from clarion.calls.endings import EndedReason
from clarion.calls.language_model import credential_for, model_settings
from clarion.calls.models import OUTBOUND, QUEUED, WEB_CALL, CallRecord, SaidMessage
from clarion.calls.variables import as_text, fill_configuration
from clarion.config import Settings
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.database.windows import Window
from clarion.errors import Conflict, Forbidden, InvalidInput, TooManyRequests, found
from clarion.people.roles import Role
from clarion.phone_numbers.models import PhoneNumberRecord
from clarion.phone_numbers.service import phone_number_of
from clarion.speech.choice import speech_choice, speech_credentials
from clarion.storage.secret_box import SecretBox

OVERRIDABLE_FIELDS = (
    "first_message",
    "model",
    "voice",
    "transcriber",
    "max_duration_seconds",
    "voicemail_message",
    "analysis_plan",
    "silence_timeout_seconds",
)
SERVED_CALL_TYPES = (WEB_CALL, OUTBOUND)


def token_digest(token: str) -> bytes:
    """What is stored of a web call's token."""
    return hashlib.sha256(token.encode()).digest()


def create_call(
    unit: Unit,
    caller: Caller,
    fields: dict[str, Any],
    settings: Settings,
    secrets_box: SecretBox,
) -> tuple[CallRecord, str]:
    """A new queued call of the caller's assistant, and the token its caller joins with. A
    phone call needs the owner role; a web call, the editor role the route asks for."""
    call_type = fields.get("call_type", WEB_CALL)
    if call_type not in SERVED_CALL_TYPES:
        raise InvalidInput(
            f"call_type: {call_type} calls are made by patients, to a phone number's "
            "assistant: create webCall or outboundPhoneCall calls"
        )
    if call_type != WEB_CALL and not caller.role.may(Role.OWNER):
        # A phone call rings a real person, from the organization's numbers and at its cost:
        # those numbers are the owners' to manage, and so is phoning from them.
        raise Forbidden(f"call_type: a phone call needs the owner role; yours is {caller.role}")
    organization_id = caller.organization_id
    number = (
        _source_number(unit, organization_id, fields, settings) if call_type == OUTBOUND else None
    )
    assistant_id = fields["assistant_id"]
    assistant = assistants.get(unit.statements, organization_id, assistant_id)
    if assistant is None:
        raise InvalidInput(f"assistant_id: assistant {assistant_id} not found")
    configuration = reachable_configuration(
        unit,
        organization_id,
        assistant.values,
        fields.get("task_parameters") or {},
        settings,
        secrets_box,
    )
    # An outbound call over the limit waits, queued, to be placed when a place frees.
    if number is None and not room_for_a_call(unit, organization_id, settings):
        limit = settings.max_live_calls_per_organization
        raise TooManyRequests(
            f"the organization has {limit} calls queued or in progress, its limit "
            "(CLARION_MAX_LIVE_CALLS_PER_ORGANIZATION): end one or try again later"
        )
    call, token = new_call(
        organization_id, assistant, configuration, call_type, QUEUED, name=fields.get("name")
    )
    call.destination_number = fields.get("destination_phone_number")
    if number is not None:
        call.source_phone_number_id = call.phone_number_id = number.id
        call.source_number = number.number
        call.token_digest = None  # a token is made when the call is placed
    repository.add(unit.statements, call)
    return call, token


def _source_number(
    unit: Unit, organization_id: int, fields: dict[str, Any], settings: Settings
) -> PhoneNumberRecord:
    """The organization's number an outbound call is made from; InvalidInput names what is
    missing."""
    if settings.public_url is None:
        raise InvalidInput(
            "call_type: outboundPhoneCall needs CLARION_PUBLIC_URL, the address Twilio reaches "
            "this server at, set on the server"
        )
    if not fields.get("destination_phone_number"):
        raise InvalidInput(
            "destination_phone_number: the E.164 number to call, such as +15555550123"
        )
    number_id = fields.get("source_phone_number_id")
    if number_id is None:
        raise InvalidInput("source_phone_number_id: the id of the phone number to call from")
    number = phone_number_of(unit, organization_id, number_id)
    if number is None:
        raise InvalidInput(f"source_phone_number_id: phone number {number_id} not found")
    return number


def reachable_configuration(
    unit: Unit,
    organization_id: int,
    values: dict[str, Any],
    task_parameters: dict[str, Any],
    settings: Settings,
    secrets_box: SecretBox,
) -> dict[str, Any]:
    """A call's configuration from its assistant's, checked to be one a conversation can be
    held with: its model, voice and transcriber known and their keys there; InvalidInput
    names what is missing."""
    configuration = _configuration(values, task_parameters, settings.max_body_bytes)
    model = model_settings(configuration)
    credential_for(unit, organization_id, model, settings, secrets_box)
    speech = speech_choice(configuration)
    speech_credentials(unit, organization_id, speech, settings, secrets_box)
    return configuration


def room_for_a_call(unit: Unit, organization_id: int, settings: Settings) -> bool:
    """Whether the organization may have one more live call; its row is held until the
    transaction ends, so that calls made at once are counted one after the other."""
    repository.lock_organization(unit.statements, organization_id)
    limit = settings.max_live_calls_per_organization
    return repository.live_count(unit.statements, organization_id) < limit


def new_call(
    organization_id: int,
    assistant: AssistantRecord,
    configuration: dict[str, Any],
    call_type: str,
    call_status: str,
    *,
    name: str | None = None,
) -> tuple[CallRecord, str]:
    """A call's record, not yet stored, and the one-time token its caller joins with."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    call = CallRecord(
        id=0,
        organization_id=organization_id,
        assistant_id=assistant.id,
        assistant_version=assistant.version,
        name=name,
        call_type=call_type,
        call_status=call_status,
        source_phone_number_id=None,
        source_number=None,
        destination_number=None,
        configuration=configuration,
        webhook_url=assistant.values.get("webhook_url"),
        webhook_secret_encrypted=assistant.webhook_secret_encrypted,
        token_digest=token_digest(token),
        lease_owner=None,
        lease_expires_at=None,
        started_at=None,
        ended_at=None,
        ended_reason=None,
        duration_ms=None,
        analysis=None,
        summary=None,
        outcome=None,
        failure_reason=None,
        after_call=None,
        after_call_claimed_until=None,
        created_at=now,
        updated_at=now,
    )
    return call, token


def _configuration(
    values: dict[str, Any], task_parameters: dict[str, Any], max_text_chars: int
) -> dict[str, Any]:
    """The assistant's configuration for one call: overridden, its placeholders filled, its
    texts together within ``max_text_chars``."""
    overrides = {k: v for k, v in task_parameters.items() if k in OVERRIDABLE_FIELDS}
    try:
        validate_fields(overrides)
    except InvalidInput as exc:
        raise InvalidInput(f"task_parameters.{exc.message}") from None
    variables = {
        name: as_text(name, value)
        for name, value in task_parameters.items()
        if name not in OVERRIDABLE_FIELDS
    }
    # A deep copy: the assistant's record is not the call's to change.
    configuration = copy.deepcopy({name: values.get(name) for name in OVERRIDABLE_FIELDS})
    configuration.update(copy.deepcopy(overrides))
    fill_configuration(configuration, variables, max_text_chars)
    return configuration


def _find(unit: Unit, caller: Caller, call_id: int) -> CallRecord:
    """The caller's call; another organization's is as good as missing."""
    return found(
        repository.get(unit.statements, caller.organization_id, call_id),
        f"call {call_id} not found",
    )


def get_call(unit: Unit, caller: Caller, call_id: int) -> tuple[CallRecord, list[SaidMessage]]:
    """The caller's call and everything said in it; the read is noted in the access log."""
    call = _find(unit, caller, call_id)
    call_reads.record(unit, caller, [call.id])
    return call, repository.messages_of(unit.statements, call.id)


def list_calls(
    unit: Unit, caller: Caller, window: Window, filters: dict[str, Any], *, messages: bool = True
) -> list[tuple[CallRecord, list[SaidMessage]]]:
    """The caller's calls in the window, newest first, each with its messages (each call's
    read noted in the access log), or without them when ``messages`` is False."""
    filters = dict(filters)
    if window.created_from is not None:
        filters["created_from"] = window.created_from
    if window.created_to is not None:
        filters["created_to"] = window.created_to
    calls = repository.list_newest_first(
        unit.statements, caller.organization_id, window.limit, filters
    )
    if not messages:
        return [(call, []) for call in calls]
    said = repository.messages_of_list(
        unit.statements, caller.organization_id, window.limit, filters, calls
    )
    call_reads.record(unit, caller, (call.id for call in calls))
    return [(call, said[call.id]) for call in calls]


def end_call(
    unit: Unit, call_id: int, ended_reason: EndedReason, now: dt.datetime | None = None
) -> bool:
    """End the call if it is live; False if it had ended already (or is gone). Its analysis
    and report are then due, once no process holds it."""
    call = repository.get_by_id(unit.statements, call_id, for_update=True)
    if call is None or not call.live:
        return False
    return repository.end(unit.statements, call, ended_reason, now or utcnow())


def new_web_call_token(unit: Unit, caller: Caller, call_id: int) -> tuple[CallRecord, str]:
    """A new token for the caller's web call that nobody has joined yet, with a new join
    window; the call and the token. Conflict once it has been joined or has ended."""
    call = _find(unit, caller, call_id)
    token = secrets.token_urlsafe(32)
    if call.call_type != WEB_CALL:
        raise Conflict(f"call {call_id}: a {call.call_type} has no web call URL")
    if not repository.new_token(unit.statements, call.id, token_digest(token), utcnow()):
        why = f"ended ({call.ended_reason})" if call.ended_reason else call.call_status
        raise Conflict(
            f"call {call_id}: it is {why}; a web call URL is issued again only before anyone "
            "joins the call: create a new call"
        )
    return _find(unit, caller, call_id), token


def cancel_call(
    unit: Unit, caller: Caller, call_id: int, ended: Callable[[CallRecord, EndedReason], object]
) -> tuple[CallRecord, list[SaidMessage]]:
    """End the caller's call as ``manually-canceled`` if it is live; ``ended(call, reason)``
    runs, with the call as it was, once that is committed. The call as it now is."""
    call = _find(unit, caller, call_id)
    if call.live and end_call(unit, call.id, EndedReason.MANUALLY_CANCELED):
        # The reason goes along: once the call is deleted, the conversation cannot read it
        # back from the row, and its caller must still hear why it ended.
        unit.after_commit(lambda: ended(call, EndedReason.MANUALLY_CANCELED))
    return get_call(unit, caller, call_id)


def delete_call(
    unit: Unit, caller: Caller, call_id: int, ended: Callable[[CallRecord, EndedReason], object]
) -> tuple[CallRecord, list[SaidMessage]]:
    """End the caller's call if it is live, then delete it and its conversation; the call as
    it was."""
    call, said = cancel_call(unit, caller, call_id, ended)
    repository.delete_one(unit.statements, call)
    return call, said
