"""Which language model a call talks to, with which key, and the adapter that reaches it.

An assistant's ``model.provider`` picks the organization's credential for that provider
(``model.credential_id`` may name one); without one, the server-wide key of the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from clarion.config import Settings
from clarion.credentials.service import ResolvedCredential, credential_or_server_key
from clarion.database import Database, Unit
from clarion.errors import InvalidInput
from clarion.outbound.guard import BlockedAddress, address_inside, check_literal
from clarion.providers import AnthropicProvider, Message, OpenAIProvider, Provider
from clarion.providers.anthropic import DEFAULT_BASE_URL as ANTHROPIC_BASE_URL
from clarion.providers.openai import DEFAULT_BASE_URL as OPENAI_BASE_URL
from clarion.storage.secret_box import SecretBox

ADAPTERS: dict[str, type[OpenAIProvider] | type[AnthropicProvider]] = {
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
}
DEFAULT_BASE_URLS = {"openai": OPENAI_BASE_URL, "anthropic": ANTHROPIC_BASE_URL}
ANTHROPIC_MAX_TEMPERATURE = 1.0


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """The model part of a call's configuration, checked."""

    provider: str
    model: str
    temperature: float | None
    max_tokens: int | None
    credential_id: int | None
    prompt: tuple[Message, ...]
    """``model.messages`` as the model is to read them before the conversation: the system
    messages first, then the user and assistant ones (examples of the exchange, say), each
    in their order."""


def model_settings(configuration: dict[str, Any]) -> ModelSettings:
    """The call's model settings; InvalidInput names what a conversation cannot run without."""
    model = configuration.get("model")
    if not isinstance(model, dict):
        raise InvalidInput("model: the assistant has no model configuration to talk with")
    provider = model.get("provider")
    if provider not in ADAPTERS:
        raise InvalidInput(
            f"model.provider: calls can use {' or '.join(ADAPTERS)}"
            + ("" if provider is None else f", not {str(provider)[:64]!r}")
        )
    name = model.get("model")
    if not isinstance(name, str):
        raise InvalidInput("model.model: name the model the call talks to (gpt-4o, say)")
    temperature = model.get("temperature")
    if provider == "anthropic" and temperature is not None and temperature > 1:
        raise InvalidInput(f"model.temperature: anthropic takes 0 to {ANTHROPIC_MAX_TEMPERATURE:g}")
    credential_id = model.get("credential_id")
    if credential_id is not None and (
        not isinstance(credential_id, int) or isinstance(credential_id, bool) or credential_id < 1
    ):
        raise InvalidInput("model.credential_id: must be the id of a credential")
    messages = model.get("messages", ())
    prompt = tuple(
        Message(message["role"], message["content"])
        for message in sorted(messages, key=lambda message: message["role"] != "system")
    )
    return ModelSettings(
        provider, name, temperature, model.get("max_tokens"), credential_id, prompt
    )


def credential_for(
    unit: Unit, organization_id: int, model: ModelSettings, settings: Settings, secrets: SecretBox
) -> ResolvedCredential:
    """The key the call's model is reached with; InvalidInput says which one is missing."""
    return credential_or_server_key(
        unit, organization_id, model.provider, model.credential_id, settings, secrets, "model"
    )


class PlainTextKey(Exception):
    """The provider's URL is plain http outside the allowed networks: the key is not sent."""


async def open_provider(
    session: aiohttp.ClientSession, credential: ResolvedCredential, settings: Settings
) -> Provider:
    """The adapter for the credential's provider, on the shared session.

    An address in the URL itself is checked here, as the webhooks' is: the session's guard
    checks what names resolve to, and aiohttp resolves no address (BlockedAddress). Over
    plain http the key would cross the network readable: it is sent only to an address
    inside CLARION_ALLOWED_NETWORKS (a model server on the LAN), else PlainTextKey.
    """
    base_url = credential.base_url or DEFAULT_BASE_URLS[credential.provider]
    url = URL(base_url)
    if not credential.operators:  # the operator's own server is theirs to choose
        check_literal(url.host or "", settings.allowed_networks)
        if url.scheme == "http" and await address_inside(url, settings.allowed_networks) is None:
            raise PlainTextKey(
                f"{credential.provider} base_url is plain http outside CLARION_ALLOWED_NETWORKS"
            )
    return ADAPTERS[credential.provider](
        session, credential.api_key, base_url=base_url, idle_seconds=settings.model_idle_seconds
    )


class Unreachable(Exception):
    """The call's model cannot be reached: no credential any more, one that cannot be read,
    or a key that would cross the network readable. The message says which, never the key."""


async def reach_model(
    database: Database,
    session: aiohttp.ClientSession,
    organization_id: int,
    configuration: dict[str, Any],
    settings: Settings,
    secrets: SecretBox,
) -> tuple[ModelSettings, Provider]:
    """The model settings of a call's configuration and the adapter that reaches its model,
    with the key looked up now (it may have been replaced since the call was created)."""
    try:
        model = model_settings(configuration)
        credential = await database.read(credential_for, organization_id, model, settings, secrets)
        return model, await open_provider(session, credential, settings)
    except (InvalidInput, PlainTextKey, BlockedAddress) as exc:
        raise Unreachable(str(getattr(exc, "message", exc))) from None
