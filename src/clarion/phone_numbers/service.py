"""The rules of the phone number resource, and the lookup a phone call makes of its number.

Functions here run inside a unit of work they are given (clarion.database.units) and raise
domain errors; they never commit and never speak HTTP. The auth token is encrypted as soon
as it arrives and decrypted only by :func:`twilio_auth_token`; no error raised here quotes it.
"""

from __future__ import annotations

from typing import Any

from clarion.api.secret_resources import seal, unseal
from clarion.assistants import repository as assistants
from clarion.auth.service import Caller
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.database.windows import Window
from clarion.errors import Conflict, InvalidInput, found
from clarion.phone_numbers import repository
from clarion.phone_numbers.models import PhoneNumberRecord
from clarion.storage.secret_box import SecretBox


def create_phone_number(
    unit: Unit, caller: Caller, fields: dict[str, Any], secrets: SecretBox
) -> PhoneNumberRecord:
    """A new phone number in the caller's organization, its auth token encrypted."""
    organization_id = caller.organization_id
    _check_number_free(unit, organization_id, fields["number"])
    assistant_id = fields.get("assistant_id")
    if assistant_id is not None:
        _check_assistant(unit, organization_id, assistant_id)
    now = utcnow()
    sealed = seal(secrets, fields["twilio_auth_token"], organization_id)
    phone_number = PhoneNumberRecord(
        id=0,
        organization_id=organization_id,
        number=fields["number"],
        provider=fields["provider"],
        name=fields.get("name"),
        assistant_id=assistant_id,
        twilio_account_sid=fields["twilio_account_sid"],
        twilio_auth_token_encrypted=sealed.ciphertext,
        twilio_auth_token_hint=sealed.hint,
        created_at=now,
        updated_at=now,
    )
    repository.add(unit.statements, phone_number)
    return phone_number


def get_phone_number(unit: Unit, caller: Caller, phone_number_id: int) -> PhoneNumberRecord:
    """The caller's phone number."""
    return _find(unit, caller, phone_number_id)


def list_phone_numbers(unit: Unit, caller: Caller, window: Window) -> list[PhoneNumberRecord]:
    """The caller's phone numbers within the window, newest first."""
    return repository.list_newest_first(unit.statements, caller.organization_id, window)


def update_phone_number(
    unit: Unit,
    caller: Caller,
    phone_number_id: int,
    changes: dict[str, Any],
    secrets: SecretBox,
) -> PhoneNumberRecord:
    """Apply ``changes``: a field given replaces the stored value, ``null`` clears ``name`` or
    ``assistant_id``; a new auth token replaces the old. Nothing changed, nothing is written."""
    phone_number = _find(unit, caller, phone_number_id, for_update=True)
    organization_id = caller.organization_id
    number = changes.get("number")
    if number is not None and number != phone_number.number:
        _check_number_free(unit, organization_id, number)
    assistant_id = changes.get("assistant_id")
    # The link as it stands is not checked again: a number whose assistant was deleted can
    # be changed in other ways, its whole representation sent back.
    if assistant_id is not None and assistant_id != phone_number.assistant_id:
        _check_assistant(unit, organization_id, assistant_id)
    changed = False
    for name in ("number", "provider", "name", "assistant_id", "twilio_account_sid"):
        if name in changes and changes[name] != getattr(phone_number, name):
            setattr(phone_number, name, changes[name])
            changed = True
    token = changes.get("twilio_auth_token")
    if token is not None:
        sealed = seal(secrets, token, organization_id)
        phone_number.twilio_auth_token_encrypted = sealed.ciphertext
        phone_number.twilio_auth_token_hint = sealed.hint
        changed = True
    if changed:
        phone_number.updated_at = max(utcnow(), phone_number.updated_at)
        repository.save(unit.statements, phone_number)
    return phone_number


def delete_phone_number(unit: Unit, caller: Caller, phone_number_id: int) -> PhoneNumberRecord:
    """Delete the caller's phone number; the number as it was. Calls made with it keep
    their own copy of what they need."""
    phone_number = _find(unit, caller, phone_number_id, for_update=True)
    repository.delete_one(unit.statements, phone_number)
    return phone_number


def phone_number_of(
    unit: Unit, organization_id: int, phone_number_id: int
) -> PhoneNumberRecord | None:
    """The organization's phone number, or None: another organization's is as good as
    missing."""
    return repository.get(unit.statements, organization_id, phone_number_id)


def twilio_auth_token(phone_number: PhoneNumberRecord, secrets: SecretBox) -> str:
    """The number's auth token, decrypted, for a request to its Twilio account; InvalidInput
    when this server's key cannot open it."""
    return unseal(
        secrets,
        phone_number.twilio_auth_token_encrypted,
        phone_number.organization_id,
        f"phone number {phone_number.id}",
        "twilio_auth_token",
    )


def _check_number_free(unit: Unit, organization_id: int, number: str) -> None:
    taken = repository.id_of_number(unit.statements, organization_id, number)
    if taken is not None:
        raise Conflict(f"number: the organization already has it, as phone number {taken}")


def _check_assistant(unit: Unit, organization_id: int, assistant_id: int) -> None:
    if assistants.get(unit.statements, organization_id, assistant_id) is None:
        raise InvalidInput(f"assistant_id: assistant {assistant_id} not found")


def _find(
    unit: Unit, caller: Caller, phone_number_id: int, *, for_update: bool = False
) -> PhoneNumberRecord:
    record = repository.get(
        unit.statements, caller.organization_id, phone_number_id, for_update=for_update
    )
    return found(record, f"phone number {phone_number_id} not found")
