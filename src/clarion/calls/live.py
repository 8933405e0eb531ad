"""This process's live calls: each held by the task of the WebSocket that joined it, leased
in the database, stopped from outside when it must be, and drained on shutdown.

A process leases every call it holds and renews the leases together. A call whose lease
runs out (its process died) is ended by the reaper of any process (clarion.calls.after_call).
A call ended elsewhere (by a request to another process) is found at the next renewal,
which no longer returns it, and its conversation is stopped here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import aiohttp
from starlette.websockets import WebSocket

from clarion.calls import service
from clarion.calls.channel import Channel
from clarion.calls.conversation import DEFAULT_SILENCE_SECONDS, Conversation, Turns
from clarion.calls.language_model import (
    PlainTextKey,
    credential_for,
    model_settings,
    open_provider,
)
from clarion.calls.models import CallRecord
from clarion.calls.recorder import Recorder
from clarion.calls.web_channel import WebChannel
from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.outbound.guard import resolver_kwargs
from clarion.runtime.supervision import Step
from clarion.storage.secret_box import SecretBox

log = logging.getLogger("clarion.calls")

SHUTDOWN = "server-shutdown"


class Refused(Exception):
    """A WebSocket the server will not hold a call on: the status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class LiveCall:
    """A call held here: the task holding it, and why it is being stopped, once it is."""

    task: asyncio.Task[object]
    stop_reason: str | None = None
    stopping: bool = False
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class LiveCalls:
    """Every call this process holds, and the loops that keep them (messages, leases)."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        secrets_box: SecretBox,
        after_call_due: asyncio.Event,
    ) -> None:
        self.settings = settings
        self.database = database
        self.secrets = secrets_box
        self.after_call_due = after_call_due
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.recorder = Recorder(database)
        self.accepting = True
        self._calls: dict[int, LiveCall] = {}
        self._session: aiohttp.ClientSession | None = None

    def __len__(self) -> int:
        return len(self._calls)

    @asynccontextmanager
    async def running(self, stop: asyncio.Event) -> AsyncIterator[Mapping[str, Step]]:
        """The recorder's and the lease keeper's loops; on leaving, the calls still held end
        as server-shutdown and every message is written."""
        connector = aiohttp.TCPConnector(limit=0, **resolver_kwargs(self.settings.allowed_networks))
        async with aiohttp.ClientSession(connector=connector) as session:
            self._session = session
            yield {
                "call-messages": partial(self.recorder.write, stop),
                "call-leases": partial(self._keep_leases, stop),
            }
            await self.stop_all(SHUTDOWN)
            self._session = None
        await self.recorder.write_rest()

    async def hold(self, websocket: WebSocket, call_id: int, token: str) -> None:
        """Join the call this token opens and hold it over the WebSocket until it ends.
        Raises Refused, before accepting the socket, when it may not be joined."""
        if not self.accepting or self._session is None:
            raise Refused(503, "the server is shutting down; start the call again")
        call = await self.database.write(
            service.join_call, call_id, token, self.owner, self.settings.call_lease_seconds
        )
        if call is None:
            raise Refused(
                403,
                "token: it does not open this call (it is wrong or used, or the call is not "
                "waiting for its caller)",
            )
        await websocket.accept()
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - a WebSocket is served by a task
        live = self._calls[call_id] = LiveCall(task)
        channel = WebChannel(websocket)
        reason = "pipeline-error-llm"
        try:
            reason = await self._converse(call, channel, live)
        finally:
            await self._end(call, channel, reason, live)

    async def _converse(self, call: CallRecord, channel: Channel, live: LiveCall) -> str:
        try:
            turns = await self._turns(call, channel)
            if turns is None:
                await channel.started(call.id)
                return "pipeline-error-llm"
            return await turns.hold()
        except asyncio.CancelledError:
            if not live.stopping:
                raise
            live.task.uncancel()
            # No reason: it was ended elsewhere, whose reason stands; only a call deleted
            # since has none left to read, and a deleted call was ended by a request.
            return live.stop_reason or "manually-canceled"

    async def _turns(self, call: CallRecord, channel: Channel) -> Turns | None:
        """The conversation of a joined call, or None when its model cannot be reached."""
        configuration = call.configuration
        model = model_settings(configuration)
        try:
            credential = await self.database.read(
                credential_for, call.organization_id, model, self.settings, self.secrets
            )
            assert self._session is not None  # noqa: S101 - set while running
            provider = await open_provider(self._session, credential, self.settings)
        except PlainTextKey as exc:
            log.warning("call %d cannot reach its model: %s", call.id, exc)
            return None
        except Exception as exc:  # the credential is gone, or cannot be read
            log.warning("call %d cannot reach its model: %s", call.id, getattr(exc, "message", exc))
            return None
        conversation = Conversation(call.id, model)
        return Turns(
            conversation,
            channel,
            provider,
            self.recorder,
            first_message=configuration.get("first_message"),
            silence_seconds=configuration.get("silence_timeout_seconds") or DEFAULT_SILENCE_SECONDS,
            max_duration_seconds=configuration.get("max_duration_seconds"),
        )

    async def _end(self, call: CallRecord, channel: Channel, reason: str, live: LiveCall) -> None:
        """Record the end (unless it was ended elsewhere first), tell the caller, and let
        the analysis and report follow."""
        # The conversation is over: a stop from now on (a request ending the call, the
        # shutdown) has nothing to cancel, and cancelling would cut the caller off before
        # call-ended. The recorded reason is read back below when the stop won the race.
        live.stopping = True
        try:
            await self.recorder.written()
            ended = await self.database.write(service.end_call, call.id, reason)
            if ended is None:
                recorded = await self.database.read(service.ended_reason_of, call.id)
                reason = recorded or reason
            self.after_call_due.set()
            await channel.ended(reason)
        finally:
            self._calls.pop(call.id, None)
            live.ended.set()

    def stop(self, call_id: int, reason: str | None = None) -> bool:
        """Stop a call held here (``reason`` None: it was ended elsewhere, whose reason
        stands); whether it was held here."""
        live = self._calls.get(call_id)
        if live is None or live.stopping:
            return live is not None
        live.stopping, live.stop_reason = True, reason
        live.task.cancel()
        return True

    async def stop_all(self, reason: str) -> None:
        """Stop every call held here and wait until each has ended."""
        held = list(self._calls.values())
        for call_id in list(self._calls):
            self.stop(call_id, reason)
        for live in held:
            await live.ended.wait()

    async def drain(self, seconds: float) -> None:
        """Take no more calls, let the live ones go on for ``seconds``, then end the rest as
        server-shutdown."""
        self.accepting = False
        if self._calls:
            log.info("draining %d live calls for up to %g s", len(self._calls), seconds)
        deadline = asyncio.get_running_loop().time() + seconds
        while self._calls and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        await self.stop_all(SHUTDOWN)

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """One step of the lease keeper: wait a third of a lease, then renew every lease held
        here; a call no longer in progress was ended elsewhere and is stopped."""
        lease = self.settings.call_lease_seconds
        try:
            await asyncio.wait_for(stop.wait(), lease / 3)
            return
        except TimeoutError:
            pass
        if not self._calls:
            return
        held = set(self._calls)
        until = utcnow() + dt.timedelta(seconds=lease)
        in_progress = await self.database.write(service.renew_leases, self.owner, until)
        for call_id in held - in_progress:
            self.stop(call_id)
