"""What follows a call: the reaper that ends calls nobody holds, and the analysis and
end-of-call report of every ended call.

Both run in every process (`clarion serve` and `clarion worker`). An ended call waits as
``after_call = pending`` until a process claims it for a while, runs the analysis its plan
asks for, and in one transaction keeps the analysis and queues the report in the webhook
outbox: a process dying midway leaves the call to be claimed again, so no report is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import aiohttp
import orjson

from clarion.calls import repository, service
from clarion.calls.analysis import Analysis, analyse
from clarion.calls.language_model import credential_for, model_settings, open_provider
from clarion.calls.models import CallRecord
from clarion.calls.representation import report_json, transcript
from clarion.config import Settings
from clarion.database import Database, Unit
from clarion.database.clock import utcnow
from clarion.outbound.guard import resolver_kwargs
from clarion.runtime.supervision import Step
from clarion.storage.secret_box import SecretBox
from clarion.webhooks import outbox
from clarion.webhooks.service import END_OF_CALL_REPORT

log = logging.getLogger("clarion.calls")

CLAIM_BATCH = 32
# Long enough for three analysis requests with their retries; a process that dies holding a
# claim delays that report by this much.
CLAIM_SECONDS = 300.0
IDLE_SECONDS = 5.0


class AfterCalls:
    """The reaper's and the reports' loops of one process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        secrets_box: SecretBox,
        due: asyncio.Event,
        delivery_due: asyncio.Event,
    ) -> None:
        self.settings = settings
        self.database = database
        self.secrets = secrets_box
        self.due = due
        self.delivery_due = delivery_due
        self._session: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def running(self, stop: asyncio.Event) -> AsyncIterator[Mapping[str, Step]]:
        """The loops, with the session the analysis reaches the models on."""
        connector = aiohttp.TCPConnector(**resolver_kwargs(self.settings.allowed_networks))
        async with aiohttp.ClientSession(connector=connector) as session:
            self._session = session
            yield {
                "call-reaper": partial(self._reap, stop),
                "call-reports": partial(self._report, stop),
            }
            self._session = None

    async def _reap(self, stop: asyncio.Event) -> None:
        """One step of the reaper: end calls whose lease ran out or that nobody joined."""
        interval = min(self.settings.call_lease_seconds, self.settings.call_join_seconds) / 3
        try:
            await asyncio.wait_for(stop.wait(), interval)
            return
        except TimeoutError:
            pass
        now = utcnow()
        ended = await self.database.write(
            service.reap,
            now,
            now - dt.timedelta(seconds=self.settings.call_join_seconds),
            CLAIM_BATCH,
        )
        if ended:
            self.due.set()

    async def _report(self, stop: asyncio.Event) -> None:
        """One step of the reports' loop: wait until a call has ended (or a while), then
        analyse and report every ended call due."""
        if not self.due.is_set():
            try:
                await asyncio.wait_for(_either(stop, self.due), IDLE_SECONDS)
            except TimeoutError:
                pass
        self.due.clear()
        if stop.is_set():
            return
        await self.settle()

    async def settle(self) -> None:
        """Analyse and report every ended call due now."""
        while True:
            now = utcnow()
            until = now + dt.timedelta(seconds=CLAIM_SECONDS)
            claimed = await self.database.write(repository_claim, now, until, CLAIM_BATCH)
            if not claimed:
                return
            await asyncio.gather(*(self._follow_up(call_id) for call_id in claimed))

    async def _follow_up(self, call_id: int) -> None:
        """Analyse one ended call and queue its report."""
        found = await self.database.read(_call_and_transcript, call_id)
        if found is None:
            return  # deleted since it ended: nothing to analyse or report
        call, text = found
        analysis = await self._analysis(call, text)
        await self.database.write(_keep_and_report, call_id, analysis)
        self.delivery_due.set()

    async def _analysis(self, call: CallRecord, text: str) -> Analysis | None:
        """The analysis the call's plan asks for; None when it asks for none or nothing was
        said by the patient (no request is worth its cost then)."""
        plan = call.configuration.get("analysis_plan")
        if not plan or "User:" not in text:
            return None
        try:
            model = model_settings(call.configuration)
            credential = await self.database.read(
                credential_for, call.organization_id, model, self.settings, self.secrets
            )
            assert self._session is not None  # noqa: S101 - set while running
            provider = await open_provider(self._session, credential, self.settings)
        except Exception as exc:
            reason = getattr(exc, "message", None) or str(exc)
            log.warning("call %d: no analysis: %s", call.id, reason)
            return Analysis(errors=(f"the model could not be reached: {reason}",))
        return await analyse(
            provider, model.model, plan, text, _as_filled, temperature=model.temperature
        )


def _as_filled(text: str) -> str:
    """A call's prompts have their variables filled when it is created."""
    return text


def repository_claim(unit: Unit, now: dt.datetime, until: dt.datetime, limit: int) -> list[int]:
    """Claim ended calls whose analysis and report are due."""
    return repository.claim_after_call(unit.statements, now, until, limit)


def _call_and_transcript(unit: Unit, call_id: int) -> tuple[CallRecord, str] | None:
    call = repository.get_by_id(unit.statements, call_id)
    if call is None:
        return None
    return call, transcript(repository.messages_of(unit.statements, call_id))


def _analysis_json(analysis: Analysis | None) -> dict[str, Any] | None:
    if analysis is None:
        return None
    shown = {
        "structuredData": analysis.structured_data,
        "successEvaluation": analysis.success_evaluation,
        "structuredDataError": analysis.structured_data_error,
    }
    kept = {name: value for name, value in shown.items() if value is not None}
    return kept or None


def _keep_and_report(unit: Unit, call_id: int, analysis: Analysis | None) -> None:
    """Keep the analysis and queue the report, in one transaction."""
    now = utcnow()
    summary = None if analysis is None else analysis.summary
    if not repository.finish_after_call(
        unit.statements, call_id, _analysis_json(analysis), summary, now
    ):
        return  # another process finished it
    call = repository.get_by_id(unit.statements, call_id)
    if call is None or call.webhook_url is None:
        return
    messages = repository.messages_of(unit.statements, call_id)
    outbox.enqueue(
        unit,
        organization_id=call.organization_id,
        assistant_id=call.assistant_id,
        url=call.webhook_url,
        secret_encrypted=call.webhook_secret_encrypted,
        event_type=END_OF_CALL_REPORT,
        body=orjson.dumps(report_json(call, messages), option=orjson.OPT_UTC_Z),
        now=now,
    )


async def _either(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
