"""The application's services: everything a request may need, made once per application
(clarion.app) and reached by routes through clarion.api.dependencies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from clarion.after_call.loops import AfterCalls
from clarion.api.requests import BodyLimit
from clarion.assistants.rendered import RenderedAssistants
from clarion.auth.cache import KeyCache
from clarion.calls.endings import EndedReason
from clarion.calls.models import RINGING, CallRecord
from clarion.config import Settings
from clarion.database import Database
from clarion.engine.live import LiveCalls
from clarion.people.passwords import Passwords
from clarion.phone_calls.dialer import Dialer
from clarion.runtime.registry import Runtime
from clarion.storage.secret_box import SecretBox
from clarion.webhooks.signing import Signer


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a request may need, made once per application."""

    settings: Settings
    database: Database
    secrets: SecretBox
    signer: Signer
    key_cache: KeyCache
    runtime: Runtime
    body_limit: BodyLimit
    rendered_assistants: RenderedAssistants
    delivery_due: asyncio.Event
    """Set once a delivery is committed: the worker in this process need not wait to poll."""
    live_calls: LiveCalls
    """The calls this process holds."""
    after_calls: AfterCalls
    """The analysis and reports of ended calls, and the reaper."""
    dialer: Dialer
    """Places outbound phone calls; its ``due`` is set when one is created."""
    passwords: Passwords
    """Hashes and checks console users' passwords (argon2id, off the event loop)."""

    def call_ended(self, call: CallRecord, reason: EndedReason) -> None:
        """``call`` (as it was) was ended by a request: stopped if this process holds it (a
        process that holds it elsewhere sees it ended); a phone call that was still ringing
        is hung up through Twilio, or the patient's phone would ring on for nobody."""
        if not self.live_calls.stop(call.id, reason) and call.call_status == RINGING:
            self.dialer.withdraw(call)


def services_of(app: Any) -> Services:
    """The services of the application ``app`` (FastAPI's, behind the front)."""
    found: Services = app.state.services
    return found
