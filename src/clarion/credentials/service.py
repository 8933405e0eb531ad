"""The rules of the provider credential resource, and the lookup a conversation makes.

Functions here run inside a unit of work they are given (clarion.database.units) and raise
domain errors; they never commit and never speak HTTP. The API key is encrypted as soon as
it arrives and decrypted only by :func:`resolve_credential`; no error raised here quotes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clarion.api.secret_resources import seal, unseal
from clarion.auth.service import Caller
from clarion.config import Settings
from clarion.credentials import repository
from clarion.credentials.models import CredentialRecord
from clarion.credentials.schemas import base_url_problem
from clarion.database import Unit
from clarion.database.clock import utcnow
from clarion.errors import InvalidInput, found
from clarion.storage.secret_box import SecretBox

SERVER_CREDENTIAL_ID = 0  # the server-wide key of the settings, not an organization's


@dataclass(frozen=True, slots=True)
class ResolvedCredential:
    """What a conversation needs to reach its provider. Its repr leaves out the key."""

    credential_id: int
    provider: str
    api_key: str = field(repr=False)
    base_url: str | None
    """None: the provider's own API."""

    @property
    def operators(self) -> bool:
        """Whether this is the server's own key and address, set by its operator: trusted
        where they point, unlike what an organization configures."""
        return self.credential_id == SERVER_CREDENTIAL_ID


def create_credential(
    unit: Unit,
    caller: Caller,
    fields: dict[str, Any],
    secrets: SecretBox,
    unreachable: str | None = None,
) -> CredentialRecord:
    """A new credential in the caller's organization, its key encrypted. ``unreachable`` is
    why its base_url may not be sent to (clarion.credentials.reachability), if it may not."""
    _check_base_url(fields["provider"], fields.get("base_url"), unreachable)
    now = utcnow()
    sealed = seal(secrets, fields["api_key"], caller.organization_id)
    credential = CredentialRecord(
        id=0,
        organization_id=caller.organization_id,
        provider=fields["provider"],
        name=fields.get("name"),
        base_url=fields.get("base_url"),
        api_key_encrypted=sealed.ciphertext,
        api_key_hint=sealed.hint,
        created_at=now,
        updated_at=now,
    )
    repository.add(unit.statements, credential)
    return credential


def get_credential(unit: Unit, caller: Caller, credential_id: int) -> CredentialRecord:
    """The caller's credential."""
    return _find(unit, caller, credential_id)


def list_credentials(unit: Unit, caller: Caller, limit: int) -> list[CredentialRecord]:
    """The caller's credentials, newest first."""
    return repository.list_newest_first(unit.statements, caller.organization_id, limit)


def update_credential(
    unit: Unit,
    caller: Caller,
    credential_id: int,
    changes: dict[str, Any],
    secrets: SecretBox,
    unreachable: str | None = None,
) -> CredentialRecord:
    """Apply ``changes``: a field given replaces the stored value, ``null`` clears ``name`` or
    ``base_url``; a new ``api_key`` replaces the old. Nothing changed, nothing is written.
    ``unreachable`` is why a new base_url may not be sent to, if it may not."""
    credential = _find(unit, caller, credential_id, for_update=True)
    provider = changes.get("provider")
    if provider is not None and provider != credential.provider:
        raise InvalidInput(
            f"provider: cannot be changed; this credential is for {credential.provider} "
            f"(create a new credential for {provider})"
        )
    if "base_url" in changes:
        _check_base_url(credential.provider, changes["base_url"], unreachable)
    changed = False
    for name in ("name", "base_url"):
        if name in changes and changes[name] != getattr(credential, name):
            setattr(credential, name, changes[name])
            changed = True
    api_key = changes.get("api_key")
    if api_key is not None:
        sealed = seal(secrets, api_key, caller.organization_id)
        credential.api_key_encrypted, credential.api_key_hint = sealed.ciphertext, sealed.hint
        changed = True
    if changed:
        credential.updated_at = max(utcnow(), credential.updated_at)
        repository.save(unit.statements, credential)
    return credential


def delete_credential(unit: Unit, caller: Caller, credential_id: int) -> CredentialRecord:
    """Delete the caller's credential; the credential as it was."""
    credential = _find(unit, caller, credential_id, for_update=True)
    repository.delete_one(unit.statements, credential)
    return credential


def resolve_credential(
    unit: Unit,
    organization_id: int,
    provider: str,
    credential_id: int | None,
    secrets: SecretBox,
    naming: str = "model.credential_id",
) -> ResolvedCredential | None:
    """The key a conversation with ``provider`` uses, decrypted, and where to send it.

    With ``credential_id``, that credential, which must be the organization's and for this
    provider (else InvalidInput naming ``naming``, where the call's configuration names it);
    without, the organization's newest credential for the provider, or None when it has none.
    """
    if credential_id is None:
        credential = repository.newest_of_provider(unit.statements, organization_id, provider)
        if credential is None:
            return None
    else:
        credential = repository.get(unit.statements, organization_id, credential_id)
        if credential is None:
            raise InvalidInput(f"{naming}: credential {credential_id} not found")
        if credential.provider != provider:
            raise InvalidInput(
                f"{naming}: credential {credential_id} is for {credential.provider}, not {provider}"
            )
    return ResolvedCredential(
        credential.id, credential.provider, _api_key(credential, secrets), credential.base_url
    )


def credential_or_server_key(
    unit: Unit,
    organization_id: int,
    provider: str,
    credential_id: int | None,
    settings: Settings,
    secrets: SecretBox,
    part: str,
) -> ResolvedCredential:
    """The organization's credential for ``provider`` (:func:`resolve_credential`), else the
    server-wide key of the settings (``CLARION_<PROVIDER>_API_KEY``, sent to
    ``CLARION_<PROVIDER>_BASE_URL``); InvalidInput naming the configuration's ``part``
    (``voice``, say) when there is neither."""
    credential = resolve_credential(
        unit, organization_id, provider, credential_id, secrets, f"{part}.credential_id"
    )
    if credential is not None:
        return credential
    key = getattr(settings, f"{provider}_api_key")
    base_url = getattr(settings, f"{provider}_base_url")
    if key is None and base_url is not None:
        # A server of the operator's own (Ollama, llama.cpp, vLLM) may want no key at all.
        return ResolvedCredential(SERVER_CREDENTIAL_ID, provider, "", base_url)
    if key is None:
        raise InvalidInput(
            f"{part}.provider: no {provider} credential: create one with "
            f"POST /v1/credential, or set CLARION_{provider.upper()}_API_KEY on the server"
        )
    return ResolvedCredential(SERVER_CREDENTIAL_ID, provider, key.get_secret_value(), base_url)


def _check_base_url(provider: str, base_url: str | None, unreachable: str | None) -> None:
    problem = base_url_problem(provider, base_url)
    if problem is not None:
        raise InvalidInput(problem)
    if unreachable is not None:
        raise InvalidInput(unreachable)


def _api_key(credential: CredentialRecord, secrets: SecretBox) -> str:
    return unseal(
        secrets,
        credential.api_key_encrypted,
        credential.organization_id,
        f"credential {credential.id}",
        "api_key",
    )


def _find(
    unit: Unit, caller: Caller, credential_id: int, *, for_update: bool = False
) -> CredentialRecord:
    organization_id = caller.organization_id
    record = repository.get(unit.statements, organization_id, credential_id, for_update=for_update)
    return found(record, f"credential {credential_id} not found")
