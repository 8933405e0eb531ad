"""resolve_credential: the key a conversation uses, found and decrypted inside a unit."""

from __future__ import annotations

import os
from typing import Any

import pytest
from credential_api import KEY, OTHER_KEY, create_credential
from fastapi.testclient import TestClient

from clarion.api.errors import status_of
from clarion.credentials.service import ResolvedCredential, resolve_credential
from clarion.database import Database
from clarion.errors import InvalidInput
from clarion.storage.secret_box import SecretBox
from support import Api, Tenant


@pytest.fixture
def secrets(app: Any) -> SecretBox:
    box: SecretBox = app.state.services.secrets
    return box


def _resolve(
    database: Database,
    secrets: SecretBox,
    organization_id: int,
    provider: str,
    credential_id: int | None = None,
) -> ResolvedCredential | None:
    with database.unit() as unit:
        return resolve_credential(unit, organization_id, provider, credential_id, secrets)


def test_none_when_the_organization_has_no_credential_for_the_provider(
    api: Api, database: Database, secrets: SecretBox
) -> None:
    organization = api.tenant.organization_id
    assert _resolve(database, secrets, organization, "openai") is None
    create_credential(api, provider="anthropic", api_key=OTHER_KEY)
    assert _resolve(database, secrets, organization, "openai") is None


def test_the_newest_credential_for_the_provider(
    api: Api, database: Database, secrets: SecretBox
) -> None:
    create_credential(api, api_key="sk-older-openai-key")
    claude = create_credential(api, provider="anthropic", api_key=OTHER_KEY)
    newest = create_credential(api, base_url="https://gateway.example.org/v1")

    openai = _resolve(database, secrets, api.tenant.organization_id, "openai")
    anthropic = _resolve(database, secrets, api.tenant.organization_id, "anthropic")

    assert openai == ResolvedCredential(
        newest["id"], "openai", KEY, "https://gateway.example.org/v1"
    )
    assert anthropic == ResolvedCredential(claude["id"], "anthropic", OTHER_KEY, None)


def test_the_named_credential_even_when_not_the_newest(
    api: Api, database: Database, secrets: SecretBox
) -> None:
    named = create_credential(
        api, api_key="sk-the-named-one", base_url="https://models.example.org/v1"
    )
    create_credential(api)

    resolved = _resolve(database, secrets, api.tenant.organization_id, "openai", named["id"])

    assert resolved == ResolvedCredential(
        named["id"], "openai", "sk-the-named-one", "https://models.example.org/v1"
    )


def test_a_named_credential_of_another_provider_is_refused(
    api: Api, database: Database, secrets: SecretBox
) -> None:
    claude = create_credential(api, provider="anthropic", api_key=OTHER_KEY)

    with pytest.raises(InvalidInput) as raised:
        _resolve(database, secrets, api.tenant.organization_id, "openai", claude["id"])

    assert status_of(raised.value) == 400
    assert raised.value.message.startswith("model.credential_id: ")
    assert "anthropic" in raised.value.message and OTHER_KEY not in raised.value.message


def test_another_organizations_credential_is_as_good_as_missing(
    api: Api, client: TestClient, other_tenant: Tenant, database: Database, secrets: SecretBox
) -> None:
    theirs = create_credential(Api(client, other_tenant))
    missing_id = theirs["id"] + 1000
    mine = api.tenant.organization_id

    assert _resolve(database, secrets, mine, "openai") is None
    messages = []
    for credential_id in (theirs["id"], missing_id):
        with pytest.raises(InvalidInput) as raised:
            _resolve(database, secrets, mine, "openai", credential_id)
        messages.append(raised.value.message.replace(str(credential_id), "N"))
    assert messages[0] == messages[1] == "model.credential_id: credential N not found"


def test_a_deleted_credential_is_not_found(
    api: Api, database: Database, secrets: SecretBox
) -> None:
    created = create_credential(api)
    api.delete(f"/v1/credential/{created['id']}")

    with pytest.raises(InvalidInput, match=r"^model\.credential_id: "):
        _resolve(database, secrets, api.tenant.organization_id, "openai", created["id"])
    assert _resolve(database, secrets, api.tenant.organization_id, "openai") is None


def test_a_key_this_server_cannot_decrypt_is_refused_without_quoting_it(
    api: Api, database: Database
) -> None:
    created = create_credential(api)
    stranger = SecretBox(os.urandom(32))

    with pytest.raises(InvalidInput) as raised:
        _resolve(database, stranger, api.tenant.organization_id, "openai", created["id"])

    assert f"credential {created['id']}" in raised.value.message
    assert "api_key" in raised.value.message and KEY not in raised.value.message


def test_the_resolved_credentials_repr_leaves_out_the_key(
    api: Api, database: Database, secrets: SecretBox
) -> None:
    create_credential(api)
    resolved = _resolve(database, secrets, api.tenant.organization_id, "openai")

    assert resolved is not None and resolved.api_key == KEY
    assert KEY not in repr(resolved) and KEY not in str(resolved)
