"""This process's live calls: each held by the task of the WebSocket that joined it, leased
in the database, stopped from outside when it must be, and drained on shutdown.

A process renews the leases of the calls it holds, every third of a lease. A call whose lease
runs out (its process died, or could not record the call's end) is ended by the reaper of any
process (clarion.after_call.loops). A call ended elsewhere (by a request to another process)
is found at the next renewal, which no longer finds it in progress, and its conversation is
stopped here. Once a process lets a call go, its analysis and report follow.
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

from clarion.calls.endings import EndedReason
from clarion.calls.language_model import Unreachable, reach_model
from clarion.calls.models import OUTBOUND, CallRecord
from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.database.failures import unavailability
from clarion.engine import moves
from clarion.engine.answering import answered_by_machine
from clarion.engine.channel import Channel
from clarion.engine.conversation import (
    DEFAULT_MAX_DURATION_SECONDS,
    DEFAULT_SILENCE_SECONDS,
    Conversation,
    History,
)
from clarion.engine.failures import Ending, ending_of, server_failure, what_failed
from clarion.engine.recorder import Recorder
from clarion.engine.twilio_channel import POLICY_VIOLATION, TwilioChannel, stream_start
from clarion.engine.voice_channel import VoiceChannel
from clarion.engine.web_channel import WebChannel
from clarion.errors import Forbidden, Unavailable
from clarion.outbound.guard import resolver_kwargs
from clarion.phone_calls.lines import hang_up_phone_call
from clarion.runtime.supervision import Step, backoff, rest
from clarion.speech.choice import SpeechUnreachable, reach_speech
from clarion.speech.errors import SpeechError
from clarion.speech.transcribers import LocalRecognizer
from clarion.storage.secret_box import SecretBox

log = logging.getLogger("clarion.calls")

RENEWED_AT_ONCE = 50


@dataclass(slots=True)
class LiveCall:
    """A call held here: the task holding it, and why it is being stopped, once it is."""

    task: asyncio.Task[object]
    stop_reason: EndedReason | None = None
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
        self.ended_here: list[int] = []
        """The calls this process has let go since it started draining."""
        self._draining = False
        self._calls: dict[int, LiveCall] = {}
        self._session: aiohttp.ClientSession | None = None
        self.recognizer = LocalRecognizer(settings.local_speech_processes or os.cpu_count() or 1)
        self._recognizer_ready: asyncio.Task[None] | None = None

    @property
    def held(self) -> int:
        """How many calls this process holds."""
        return len(self._calls)

    @asynccontextmanager
    async def running(self, stop: asyncio.Event) -> AsyncIterator[Mapping[str, Step]]:
        """The recorder's and the lease keeper's loops, and the session the conversations
        reach their models on. The application drains the calls before the loops stop
        (clarion.app); anything still pending is written on leaving."""
        connector = aiohttp.TCPConnector(
            limit=0, **resolver_kwargs(self.settings.allowed_networks, self.settings.operator_hosts)
        )
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                self._session = session
                yield {
                    "call-messages": partial(self.recorder.write, stop),
                    "call-leases": partial(self._keep_leases, stop),
                }
                self._session = None
        finally:
            if self._recognizer_ready is not None:
                self._recognizer_ready.cancel()
            await self.recognizer.close()
            # Whatever stopped the loops, what was said and not yet written is written.
            await self.recorder.write_rest()

    async def hold(self, websocket: WebSocket, call_id: int, token: str, audio: bool) -> None:
        """Join the call this token opens and hold it over the WebSocket until it ends, with
        ``audio`` both ways or in text. Raises Forbidden or Unavailable, before accepting the
        socket, when it may not be joined."""
        call = await self._join(call_id, token)
        channel: WebChannel | VoiceChannel = (
            VoiceChannel(websocket, self.settings.endpointing_ms)
            if audio
            else WebChannel(websocket)
        )
        await self._hold_joined(call, websocket, channel, accept=True)

    async def hold_stream(self, websocket: WebSocket, call_id: int) -> None:
        """Hold a phone call over its Twilio Media Stream, accepted already: its ``start``
        must carry the call's token, else the stream is closed before any audio is sent
        (1008) and the call is untouched."""
        start = await stream_start(websocket)
        if start is None:
            await websocket.close(POLICY_VIOLATION)
            return
        try:
            call = await self._join(call_id, start.custom_parameters.get("token", ""))
        except (Forbidden, Unavailable):
            await websocket.close(POLICY_VIOLATION)
            return
        hang_up = partial(self._hang_up_phone, call, start.call_sid)
        channel = TwilioChannel(websocket, self.settings.endpointing_ms, start, hang_up)
        await self._hold_joined(call, websocket, channel, accept=False)

    async def _join(self, call_id: int, token: str) -> CallRecord:
        """Join the call this token opens; Forbidden or Unavailable when it may not be."""
        if not self.accepting or self._session is None:
            raise Unavailable(
                "the server is shutting down and takes no new calls; join again shortly"
            )
        settings = self.settings
        call = None
        if await self.database.read(moves.may_join, call_id, token):
            call = await self.database.write(
                moves.join_call,
                call_id,
                token,
                self.owner,
                settings.call_lease_seconds,
                settings.call_join_seconds,
            )
        if call is None:
            raise Forbidden(
                "token: it does not open this call (it is wrong or used, or the call is not "
                "waiting for its caller)"
            )
        return call

    async def _hold_joined(
        self,
        call: CallRecord,
        websocket: WebSocket,
        channel: WebChannel | VoiceChannel,
        *,
        accept: bool,
    ) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - a WebSocket is served by a task
        # Held from the moment it is joined, so that a stop arriving while the socket is
        # being accepted reaches it.
        live = self._calls[call.id] = LiveCall(task)
        # Until the conversation says otherwise, the server itself failed the call (its
        # database, say): never the model, which did nothing wrong.
        ended: EndedReason | Ending = EndedReason.PIPELINE_ERROR
        try:
            ended = await self._converse(call, websocket, channel, live, accept=accept)
        finally:
            await self._end(call, channel, ending_of(ended), live)

    async def _hang_up_phone(self, call: CallRecord, call_sid: str) -> None:
        """Complete a phone call through Twilio, once its goodbye has played."""
        assert self._session is not None  # noqa: S101 - set while running
        await hang_up_phone_call(
            self.database, self._session, self.settings, self.secrets, call, call_sid
        )

    async def _converse(
        self,
        call: CallRecord,
        websocket: WebSocket,
        channel: WebChannel | VoiceChannel,
        live: LiveCall,
        *,
        accept: bool,
    ) -> EndedReason | Ending:
        try:
            try:
                if accept:
                    await websocket.accept()
            except Exception:  # the person left while the call was being joined
                return EndedReason.CUSTOMER_ENDED
            if live.stopping:  # stopped while the socket was being accepted
                raise asyncio.CancelledError
            try:
                conversation = await self._conversation(call, channel)
            except Exception as exc:  # the database, say: not the model's doing
                log.warning(
                    "call %d: looking up its model failed with %s", call.id, type(exc).__name__
                )
                await channel.started(call.id)
                return Ending(
                    EndedReason.PIPELINE_ERROR, server_failure("looking up the model", exc)
                )
            if isinstance(conversation, Ending):
                await channel.started(call.id)
                return conversation
            if isinstance(channel, VoiceChannel):
                unheard = await self._give_speech(call, channel)
                if unheard is not None:
                    await channel.started(call.id)
                    return unheard
            if isinstance(channel, TwilioChannel) and call.call_type == OUTBOUND:
                # Nothing is said before Twilio's detection tells a person from a machine.
                left = await answered_by_machine(
                    self.database, self.recorder, call, channel, self.settings.amd_timeout_seconds
                )
                if left is not None:
                    return left
            return await conversation.hold()
        except asyncio.CancelledError:
            if not live.stopping:
                raise
            if live.task.cancelling():
                live.task.uncancel()
            # No reason: it was ended elsewhere, whose reason stands; only a call deleted
            # since has none left to read, and a deleted call was ended by a request.
            return live.stop_reason or EndedReason.MANUALLY_CANCELED

    async def _give_speech(self, call: CallRecord, channel: VoiceChannel) -> Ending | None:
        """Connect the call's voice and transcriber to its channel; why the call ends when
        one of them cannot be reached."""
        assert self._session is not None  # noqa: S101 - set while running
        try:
            voice, transcriber = await reach_speech(
                self.database,
                self._session,
                call.organization_id,
                call.configuration,
                self.settings,
                self.secrets,
                self.recognizer,
            )
        except SpeechUnreachable as exc:
            log.warning("call %d cannot reach its %s: %s", call.id, exc.which, exc)
            reason = (
                EndedReason.PIPELINE_ERROR_VOICE
                if exc.which == "voice"
                else EndedReason.PIPELINE_ERROR_TRANSCRIBER
            )
            return Ending(reason, f"the {exc.which} cannot be reached: {exc}")
        if transcriber.name == "local" and self._recognizer_ready is None:
            # Its workers load their model while the greeting plays, not at the first words.
            self._recognizer_ready = asyncio.create_task(self._warm_recognizer())
        try:
            await channel.connect(voice, transcriber)
        except SpeechError as error:
            log.warning(
                "call %d: the %s transcriber could not be reached: %s",
                call.id,
                error.provider,
                what_failed(error),
            )
            return Ending(EndedReason.PIPELINE_ERROR_TRANSCRIBER, what_failed(error))
        return None

    async def _warm_recognizer(self) -> None:
        try:
            await self.recognizer.start()
        except SpeechError:
            # The first utterance starts it again, and fails its call if it cannot.
            log.warning("the offline transcriber's workers could not be started")

    async def _conversation(self, call: CallRecord, channel: Channel) -> Conversation | Ending:
        """The conversation of a joined call, or how the call ends when its model cannot be
        reached."""
        configuration = call.configuration
        assert self._session is not None  # noqa: S101 - set while running
        try:
            model, provider = await reach_model(
                self.database,
                self._session,
                call.organization_id,
                configuration,
                self.settings,
                self.secrets,
            )
        except Unreachable as exc:
            log.warning("call %d cannot reach its model: %s", call.id, exc)
            return Ending(EndedReason.PIPELINE_ERROR_LLM, f"the model cannot be reached: {exc}")
        return Conversation(
            History(call.id, model),
            channel,
            provider,
            self.recorder,
            first_message=configuration.get("first_message"),
            silence_seconds=configuration.get("silence_timeout_seconds") or DEFAULT_SILENCE_SECONDS,
            max_duration_seconds=configuration.get("max_duration_seconds")
            or DEFAULT_MAX_DURATION_SECONDS,
        )

    async def _end(
        self, call: CallRecord, channel: Channel, ending: Ending, live: LiveCall
    ) -> None:
        """Record the end (unless it was ended elsewhere first), let the call go, and tell
        the caller. The caller is told even when the end cannot be recorded: the lease then
        runs out and the reaper ends the call."""
        # The conversation is over: a stop from now on (a request ending the call, the
        # shutdown) has nothing to cancel, and cancelling would cut the caller off before
        # call-ended. The recorded reason is read back when the stop won the race.
        live.stopping = True
        # No longer than the lease would keep the call here: while the database is away the
        # caller is still told, and the reaper ends the call once the lease has run out.
        deadline = asyncio.get_running_loop().time() + self.settings.call_lease_seconds
        reason = ending.reason
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    await self.recorder.written()
            except TimeoutError:
                log.warning(
                    "call %d: its messages are not stored yet; its end is left to the reaper",
                    call.id,
                )
            else:
                reason = await self._record_end(call.id, ending, deadline)
                self.after_call_due.set()
        finally:
            self._calls.pop(call.id, None)
            if self._draining:
                self.ended_here.append(call.id)
            try:
                # Ended elsewhere first: that reason stands, and this failure is not its.
                detail = ending.detail if reason == ending.reason else None
                await channel.ended(reason, detail)
            finally:
                live.ended.set()

    async def _record_end(self, call_id: int, ending: Ending, deadline: float) -> EndedReason:
        """End the call in the database, trying again while it is away, until ``deadline``
        (the event loop's time); the reason it ended with."""
        failures = 0
        while True:
            try:
                recorded = await self.database.write(
                    moves.end_held_call, call_id, ending.reason, self.owner, ending.detail
                )
                return recorded or ending.reason
            except Exception as exc:
                failures += 1
                pause = backoff(failures)
                if unavailability(exc) is None or (
                    asyncio.get_running_loop().time() + pause > deadline
                ):
                    raise
                await asyncio.sleep(pause)

    def stop(self, call_id: int, reason: EndedReason | None = None) -> bool:
        """Stop a call held here (``reason`` None: it was ended elsewhere, whose reason
        stands); whether it was held here."""
        live = self._calls.get(call_id)
        if live is None or live.stopping:
            return live is not None
        live.stopping, live.stop_reason = True, reason
        if live.task is not asyncio.current_task():
            live.task.cancel()
        return True

    async def stop_all(self, reason: EndedReason) -> None:
        """Stop every call held here and wait until each has ended."""
        held = list(self._calls.values())
        for call_id in list(self._calls):
            self.stop(call_id, reason)
        for live in held:
            await live.ended.wait()

    async def drain(self, seconds: float) -> list[int]:
        """Take no more calls, let the live ones go on for ``seconds``, then end the rest as
        server-shutdown; the calls let go meanwhile, whose reports are to be queued."""
        self.accepting = False
        self._draining = True
        if self._calls:
            log.info("draining %d live calls for up to %g s", len(self._calls), seconds)
        deadline = asyncio.get_running_loop().time() + seconds
        while self._calls and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        await self.stop_all(EndedReason.SERVER_SHUTDOWN)
        return list(self.ended_here)

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """One step of the lease keeper: wait a third of a lease, then renew the lease of
        every call held here; a call no longer in progress was ended elsewhere and is
        stopped."""
        lease = self.settings.call_lease_seconds
        if await rest(stop, lease / 3):
            return
        if not self._calls:
            return
        held = sorted(self._calls)
        until = utcnow() + dt.timedelta(seconds=lease)
        # A few calls to a transaction: on SQLite a transaction runs on the event loop, where
        # renewing every lease at once would hold up every call's turn meanwhile.
        for start in range(0, len(held), RENEWED_AT_ONCE):
            some = set(held[start : start + RENEWED_AT_ONCE])
            in_progress = await self.database.write(moves.renew_leases, self.owner, some, until)
            for call_id in some - in_progress:
                self.stop(call_id)
