"""How a call that failed ends: its reason, and what failed in words for its operator.

The words name the provider, its HTTP status or the kind of network failure, and the host
the request went to; never the provider's own words (a provider may quote the request, and
with it what the patient said) and never anything said in the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from clarion.calls.endings import EndedReason
from clarion.providers.errors import ProviderError
from clarion.speech.errors import SpeechError


@dataclass(frozen=True, slots=True)
class Ending:
    """Why a call ended, with ``detail`` when a part of the pipeline failed it."""

    reason: EndedReason
    detail: str | None = None


def ending_of(ended: EndedReason | Ending) -> Ending:
    """``ended`` as an Ending (a plain reason has no detail)."""
    return ended if isinstance(ended, Ending) else Ending(ended)


def what_failed(error: ProviderError | SpeechError) -> str:
    """A provider's failure as the call keeps it, e.g. ``openai: answered 401
    invalid_request_error (api.openai.com)``."""
    said = error.outline if isinstance(error, ProviderError) else str(error)
    return f"{said} ({error.host})" if error.host else said


def server_failure(doing: str, exc: BaseException) -> str:
    """The server's own failure (its database, say), by the kind of exception alone."""
    return f"clarion failed {doing} ({type(exc).__name__})"
