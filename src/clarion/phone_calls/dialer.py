"""The dialer: places outbound phone calls through Twilio, oldest first, as the
organizations' live-call limits leave room.

A call waits ``queued`` (not counted) until a place frees; claiming it marks it ringing and
counts it, then Twilio is asked to place it, with TwiML that connects its Media Stream to
clarion carrying a token made for it. A process dying between the two leaves a ringing call
nobody joins, which the reaper ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial

import aiohttp

from clarion.calls.models import CallRecord
from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.outbound.guard import resolver_kwargs
from clarion.phone_calls import moves
from clarion.phone_calls.lines import hang_up_phone_call, stream_url, twilio_client
from clarion.runtime.supervision import Step, first_of
from clarion.storage.secret_box import SecretBox
from clarion.telephony.rest import TwilioError
from clarion.telephony.twiml import connect_stream

log = logging.getLogger("clarion.calls")

PLACED_AT_ONCE = 20
IDLE_SECONDS = 1.0  # a call created elsewhere, or a place freed, is seen this soon
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


class Dialer:
    """The dialer's loop of one process."""

    def __init__(self, settings: Settings, database: Database, secrets: SecretBox) -> None:
        self.settings = settings
        self.database = database
        self.secrets = secrets
        self.due = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._withdrawing: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def running(self, stop: asyncio.Event) -> AsyncIterator[Mapping[str, Step]]:
        """The loop, with the session Twilio is reached on."""
        connector = aiohttp.TCPConnector(
            **resolver_kwargs(self.settings.allowed_networks, self.settings.operator_hosts)
        )
        async with aiohttp.ClientSession(connector=connector) as session:
            self._session = session
            yield {"call-dialer": partial(self._dial, stop)}
            self._session = None
            await asyncio.gather(*self._withdrawing)

    async def _dial(self, stop: asyncio.Event) -> None:
        """One step: wait for a call to place (or a while), then place what there is room
        for."""
        await first_of(stop, self.due, timeout=IDLE_SECONDS)
        self.due.clear()
        if stop.is_set() or self.settings.public_url is None:
            return
        placements = await self.database.write(
            moves.claim_placements, utcnow(), PLACED_AT_ONCE, self.settings
        )
        # One after another, oldest first: Twilio dials an account's calls at its calls per
        # second and queues the rest in the order asked, so asking at once would only mix
        # the order up.
        for placement in placements:
            await self._place(placement)
        if len(placements) == PLACED_AT_ONCE:
            self.due.set()

    async def _place(self, placement: moves.Placement) -> None:
        call, number = placement.call, placement.number
        assert self._session is not None  # noqa: S101 - set while running
        assert self.settings.public_url is not None  # noqa: S101 - checked by _dial
        base = self.settings.public_url.rstrip("/")
        try:
            client = twilio_client(self._session, number, self.settings, self.secrets)
            answer = await client.place_call(
                call.destination_number or "",
                number.number,
                twiml=connect_stream(stream_url(base, call.id), placement.token),
                status_callback=f"{base}/v1/telephony/twilio/status?call_id={call.id}",
                status_events=STATUS_EVENTS,
                # Detection runs beside the call rather than before its TwiML: the stream
                # opens at once, so a person hears the assistant without the seconds it
                # takes. DetectMessageEnd decides a machine only once its greeting has ended,
                # which is when a message is to be left.
                machine_detection="DetectMessageEnd",
                machine_detection_timeout=self.settings.amd_timeout_seconds,
                async_amd=True,
                amd_status_callback=f"{base}/v1/telephony/twilio/amd?call_id={call.id}",
            )
        except TwilioError as error:
            log.warning("call %d: Twilio did not place it: %s", call.id, error)
            await self.database.write(moves.not_placed, call.id, error.failure_detail)
            return
        except Exception as exc:  # the number's token unreadable, say: not Twilio's doing
            log.warning("call %d: placing it failed with %s", call.id, type(exc).__name__)
            detail = f"the call could not be placed ({type(exc).__name__})"
            await self.database.write(moves.not_placed, call.id, detail)
            return
        if not await self.database.write(moves.placed, call.id, answer.sid):
            # Cancelled while Twilio was being asked: the phone must not ring on.
            await self._hang_up(call, answer.sid)

    def withdraw(self, call: CallRecord) -> None:
        """Hang up a phone call that ended while it rang, in the background."""
        if call.twilio_call_sid is None or self._session is None:
            return  # not placed yet (it never will be), or the process is stopping
        task = asyncio.create_task(self._hang_up(call, call.twilio_call_sid))
        self._withdrawing.add(task)
        task.add_done_callback(self._withdrawing.discard)

    async def _hang_up(self, call: CallRecord, call_sid: str) -> None:
        assert self._session is not None  # noqa: S101 - set while running
        await hang_up_phone_call(
            self.database, self._session, self.settings, self.secrets, call, call_sid
        )
