"""What follows a call: the reaper that ends calls nobody holds, and the analysis and
end-of-call report of every ended call.

Both run in every process (`clarion serve` and `clarion worker`). An ended call waits as
``after_call = pending`` until no process holds it and a process claims it for a while, runs
the analysis its plan asks for, and in one transaction keeps the analysis and queues the
report in the webhook outbox: a process dying midway leaves the call to be claimed again, so
no report is lost, and an analysis that fails or takes too long never holds its report back.

A process that stops hands its unfinished analyses over instead of waiting for them: it
claims nothing more and starts no model request, lets the analyses in flight run until a
deadline (the server's drain), then cancels the rest and gives their claims back, so that
another process, or this one restarted, claims them at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import aiohttp

from clarion.after_call import moves
from clarion.after_call.analysis import Analysis, analyse
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
# this much (one that stops gives its claims back at once).
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
        self._stopping = False
        # The follow-ups whose analysis is under way, by call: what a stop may cancel.
        self._analysing: dict[int, asyncio.Task[Any]] = {}

    @asynccontextmanager
    async def running(self, stop: asyncio.Event) -> AsyncIterator[Mapping[str, Step]]:
        """The loops, with the session the analysis reaches the models on."""
        connector = aiohttp.TCPConnector(
            **resolver_kwargs(self.settings.allowed_networks, self.settings.operator_hosts)
        )
        async with aiohttp.ClientSession(connector=connector) as session:
            self._session = session
            # A process without a drain (`clarion worker`) hands over as soon as it stops.
            handing_over = asyncio.create_task(self._hand_over_on(stop))
            try:
                yield {
                    "call-reaper": partial(self._reap, stop),
                    "call-reports": partial(self._report, stop),
                }
            finally:
                if stop.is_set():
                    await handing_over
                else:
                    handing_over.cancel()
            self._session = None

    async def _reap(self, stop: asyncio.Event) -> None:
        """One step of the reaper: end calls whose lease ran out or that nobody joined (at
        once again while there are more than one step ends)."""
        settings = self.settings
        if not self._reap_again:
            windows = (
                settings.call_lease_seconds,
                settings.call_join_seconds,
                settings.call_stream_open_seconds,
            )
            if await rest(stop, min(windows) / 3):
                return
        now = utcnow()
        cutoffs = moves.Cutoffs(
            lease=now,
            join=now - dt.timedelta(seconds=settings.call_join_seconds),
            stream_open=now - dt.timedelta(seconds=settings.call_stream_open_seconds),
        )
        ended = await self.database.write(moves.reap, cutoffs, CLAIM_BATCH)
        self._reap_again = ended >= CLAIM_BATCH
        if ended:
            self.due.set()

    async def _report(self, stop: asyncio.Event) -> None:
        """One step of the reports' loop: wait until a call has ended (or a while), then
        analyse and report every ended call due."""
        await first_of(stop, self.due, timeout=IDLE_SECONDS)
        self.due.clear()
        if stop.is_set() or self._stopping:
            return
        await self.settle()

    def stop_claiming(self) -> None:
        """Claim no more calls and start no analysis: the process is stopping. Analyses
        already under way go on until :meth:`hand_over`."""
        self._stopping = True

    async def hand_over(self, let_go: Sequence[int], deadline: float) -> None:
        """Stop without waiting for the model: the analyses under way may finish (and their
        reports be queued) until ``deadline``, on the event loop's clock; those still running
        then are cancelled and their claims given back, for another process (or this one,
        restarted) to claim at once. Of ``let_go``, the calls this process let go while
        stopping, the reports that need no analysis are queued; the others are left due."""
        self.stop_claiming()
        under_way = set(self._analysing.values())
        if under_way:
            await asyncio.wait(under_way, timeout=max(0.0, deadline - _clock()))
        unfinished = dict(self._analysing)
        if unfinished:
            log.info("handing %d unfinished analyses over to another process", len(unfinished))
            for task in unfinished.values():
                task.cancel()
            await asyncio.wait(unfinished.values())
            await self.database.write(moves.release_after_call, sorted(unfinished))
            for call_id in sorted(unfinished):
                log.info("call %d: analysis handed over", call_id)
        if let_go:
            await self.settle(sorted(let_go))

    async def _hand_over_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        try:
            await self.hand_over((), _clock())
        except Exception:
            log.exception("handing the unfinished analyses over failed")

    async def settle(self, call_ids: list[int] | None = None) -> None:
        """Analyse and report every ended call due now (of ``call_ids`` when given); once the
        process is stopping, a call whose analysis would need the model is left due instead."""
        while True:
            claimed = await self.database.write(
                moves.claim_after_call, CLAIM_SECONDS, CLAIM_BATCH, call_ids
            )
            if claimed:
                # One call's failure does not hold up the others' reports; it is raised
                # after them, for the loop to back off and health to show, and its call is
                # claimed again when its claim runs out.
                outcomes = await asyncio.gather(
                    *(self._follow_up(call_id) for call_id in claimed), return_exceptions=True
                )
                # One handed over (cancelled) is no failure: CancelledError is no Exception.
                failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
                if failures:
                    raise failures[0]
            if call_ids is not None or len(claimed) < CLAIM_BATCH or self._stopping:
                return

    async def _follow_up(self, call_id: int) -> None:
        """Analyse one ended call and queue its report."""
        found = await self.database.read(moves.ended_call, call_id)
        if found is None:
            return  # deleted since it ended: nothing to analyse or report
        call, messages = found
        if self._stopping and _wants_analysis(call, messages):
            # No model request starts once the process is stopping: the next process asks.
            await self.database.write(moves.release_after_call, [call_id])
            log.info("call %d: analysis handed over", call_id)
            return
        # Registered in the same step as the check above: a stop sees every analysis begun.
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - gathered, so run as a task
        self._analysing[call_id] = task
        try:
            async with asyncio.timeout(ANALYSIS_SECONDS):
                analysis = await self._analysis(call, messages)
        except TimeoutError:
            analysis = Analysis(errors=(f"took longer than {ANALYSIS_SECONDS:g} s",))
        finally:
            # From here the report is queued whatever happens: a stop no longer cancels it.
            self._analysing.pop(call_id, None)
        if analysis is not None and analysis.errors:
            # Each line names the part and what failed, never what was said.
            log.warning("call %d: analysis incomplete: %s", call_id, "; ".join(analysis.errors))
        summary = None if analysis is None else analysis.summary
        await self.database.write(
            moves.keep_analysis_and_report, call_id, _analysis_json(analysis), summary
        )
        self.delivery_due.set()

    async def _analysis(self, call: CallRecord, messages: list[SaidMessage]) -> Analysis | None:
        """The analysis the call's plan asks for; None when it asks for none or the patient
        said nothing (no request is worth its cost then)."""
        if not _wants_analysis(call, messages):
            return None
        plan = call.configuration["analysis_plan"]
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


def _wants_analysis(call: CallRecord, messages: list[SaidMessage]) -> bool:
    """Whether the call's analysis needs the model: its plan asks for one and the patient
    said something (no request is worth its cost otherwise)."""
    plan = call.configuration.get("analysis_plan")
    return bool(plan) and any(message.role == "user" for message in messages)


def _clock() -> float:
    return asyncio.get_running_loop().time()


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
