"""ProviderError: a request to a language model that did not come to a whole reply.

Request and response bodies carry what patients said, and requests carry the API key, so an
error is described only by the HTTP status and the provider's own error type and message
(trimmed, with the key blotted out should a provider echo it). The exception a transport
failure is chained from says where the connection went, never what was in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

MESSAGE_CHARS = 200
ERROR_BODY_BYTES = 64 * 1024

# Error types both providers use for trouble on their side, which a later attempt may not meet.
_PASSING_TYPES = frozenset(
    {"server_error", "api_error", "overloaded_error", "rate_limit_error", "timeout_error"}
)


class ProviderError(Exception):
    """A language-model request failed. ``retryable`` says whether sending the same request
    again may well succeed (rate limits, the provider's own faults, the network); ``status``
    is the HTTP status when the provider answered, ``retry_after`` the seconds it asked for.

    The message ends with the provider's own words when it gave some; ``outline`` is the
    message without them, for what is logged or kept: a provider may quote the request, and
    with it what the patient said.
    """

    def __init__(
        self,
        provider: str,
        description: str,
        *,
        retryable: bool,
        status: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
        provider_words: str | None = None,
    ) -> None:
        self.outline = f"{provider}: {description}"
        super().__init__(f"{self.outline}: {provider_words}" if provider_words else self.outline)
        self.provider = provider
        self.retryable = retryable
        self.status = status
        self.error_type = error_type
        self.retry_after = retry_after
        self.host: str | None = None  # where the request went, once the endpoint says

    def at(self, host: str | None) -> ProviderError:
        """This error, as of a request to ``host`` (the first host said stands)."""
        self.host = self.host or host
        return self


def retryable_status(status: int) -> bool:
    """The statuses the official SDKs retry: timeouts, conflicts, rate limits, server faults."""
    return status in (408, 409, 429) or status >= 500


def error_from_answer(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, api_key: str
) -> ProviderError:
    """The error for a non-2xx answer, from its status and the provider's error object."""
    error_type, message = _error_fields(_decoded(body))
    description = f"answered {status}"
    if error_type:
        description += f" {error_type}"
    # Both providers tell their SDKs outright whether to retry; that beats the status rule.
    should_retry = headers.get("x-should-retry")
    retryable = should_retry == "true" if should_retry in ("true", "false") else None
    return ProviderError(
        provider,
        description,
        retryable=retryable_status(status) if retryable is None else retryable,
        status=status,
        error_type=error_type,
        retry_after=_seconds(headers.get("retry-after")),
        provider_words=_trimmed(message, api_key) if message else None,
    )


def error_in_stream(provider: str, event: Mapping[str, Any], api_key: str) -> ProviderError:
    """The error for an error object sent in place of the next event of a stream."""
    error_type, message = _error_fields(event)
    return ProviderError(
        provider,
        f"stream failed with {error_type or 'an error'}",
        retryable=error_type in _PASSING_TYPES,
        error_type=error_type,
        provider_words=_trimmed(message, api_key) if message else None,
    )


def _decoded(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None  # an HTML page from a proxy, say: the status alone tells it


def _error_fields(document: Any) -> tuple[str | None, str | None]:
    """The ``error.type`` and ``error.message`` both providers put in their error bodies."""
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None
    error_type, message = error.get("type"), error.get("message")
    return (
        _trimmed(error_type, "") if isinstance(error_type, str) and error_type else None,
        message if isinstance(message, str) and message else None,
    )


def _trimmed(text: str, api_key: str) -> str:
    if api_key:
        text = text.replace(api_key, "[api key]")
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from these providers, and the caller's backoff copes
    return seconds if seconds is not None and 0 <= seconds < 86_400 else None
