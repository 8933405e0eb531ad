"""What follows a call: the reaper that ends calls nobody holds, and the analysis and
end-of-call report of every ended call.

Both run in every process (`clarion serve` and `clarion worker`). An ended call waits as
``after_call = pending`` until no process holds it and a process claims it for a while, runs
the analysis its plan asks for, and in one transaction keeps the analysis and queues the
report in the webhook outbox: a process dying midway leaves the call to be claimed again, so
no report is lost, and an analysis that fails or takes too long never holds its report back.
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

from clarion.calls import service
from clarion.calls.analysis import Analysis, analyse
from clarion.calls.language_model import Unreachable, reach_model
from clarion.calls.models import CallRecord, SaidMessage
from clarion.calls.representation import transcript
from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.outbound.guard import resolver_kwargs
from clarion.runtime.supervision import Step, first_of, rest
from clarion.storage.secret_box import SecretBox

log = logging.getLogger("clarion.calls")

CLAIM_BATCH = 32
# Long enough for the analysis; a process that dies holding a claim delays that report by
# this much.
CLAIM_SECONDS = 300.0
# An analysis still running after this is given up, and the report goes without it.
ANALYSIS_SECONDS = 120.0
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
        self._reap_again = False

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
        """One step of the reaper: end calls whose lease ran out or that nobody joined (at
        once again while there are more than one step ends)."""
        settings = self.settings
        if not self._reap_again:
            interval = min(settings.call_lease_seconds, settings.call_join_seconds) / 3
            if await rest(stop, interval):
                return
        now = utcnow()
        cutoff = now - dt.timedelta(seconds=settings.call_join_seconds)
        ended = await self.database.write(service.reap, now, cutoff, CLAIM_BATCH)
        self._reap_again = ended >= CLAIM_BATCH
        if ended:
            self.due.set()

    async def _report(self, stop: asyncio.Event) -> None:
        """One step of the reports' loop: wait until a call has ended (or a while), then
        analyse and report every ended call due."""
        await first_of(stop, self.due, timeout=IDLE_SECONDS)
        self.due.clear()
        if stop.is_set():
            return
        await self.settle()

    async def settle(self, call_ids: list[int] | None = None) -> None:
        """Analyse and report every ended call due now (of ``call_ids`` when given)."""
        while True:
            claimed = await self.database.write(
                service.claim_after_call, CLAIM_SECONDS, CLAIM_BATCH, call_ids
            )
            if claimed:
                # One call's failure does not hold up the others' reports; it is raised
                # after them, for the loop to back off and health to show, and its call is
                # claimed again when its claim runs out.
                outcomes = await asyncio.gather(
                    *(self._follow_up(call_id) for call_id in claimed), return_exceptions=True
                )
                failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
                if failures:
                    raise failures[0]
            if call_ids is not None or len(claimed) < CLAIM_BATCH:
                return

    async def _follow_up(self, call_id: int) -> None:
        """Analyse one ended call and queue its report."""
        found = await self.database.read(service.ended_call, call_id)
        if found is None:
            return  # deleted since it ended: nothing to analyse or report
        call, messages = found
        try:
            async with asyncio.timeout(ANALYSIS_SECONDS):
                analysis = await self._analysis(call, messages)
        except TimeoutError:
            analysis = Analysis(errors=(f"took longer than {ANALYSIS_SECONDS:g} s",))
        if analysis is not None and analysis.errors:
            # Each line names the part and what failed, never what was said.
            log.warning("call %d: analysis incomplete: %s", call_id, "; ".join(analysis.errors))
        summary = None if analysis is None else analysis.summary
        await self.database.write(
            service.keep_analysis_and_report, call_id, _analysis_json(analysis), summary
        )
        self.delivery_due.set()

    async def _analysis(self, call: CallRecord, messages: list[SaidMessage]) -> Analysis | None:
        """The analysis the call's plan asks for; None when it asks for none or the patient
        said nothing (no request is worth its cost then)."""
        plan = call.configuration.get("analysis_plan")
        if not plan or not any(message.role == "user" for message in messages):
            return None
        assert self._session is not None  # noqa: S101 - set while running
        try:
            model, provider = await reach_model(
                self.database,
                self._session,
                call.organization_id,
                call.configuration,
                self.settings,
                self.secrets,
            )
        except Unreachable as exc:
            return Analysis(errors=(f"the model could not be reached: {exc}",))
        return await analyse(
            provider,
            model.model,
            plan,
            transcript(messages),
            _as_filled,
            temperature=model.temperature,
        )


def _as_filled(text: str) -> str:
    """A call's prompts have their variables filled when it is created."""
    return text


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
