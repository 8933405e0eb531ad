"""One live call's conversation: the loop that holds it over a channel, and its history.

The person is heard from a task of their own, from before the first message, so leaving is
noticed at once, even while the assistant speaks or the model answers. The first message is
said (and recorded) before anything else. Each user message is
recorded, then the model sees the assistant's prompt and the conversation so far and
its reply is spoken as it streams. The model ends the call with the built-in ``end_call``
tool; silence after the assistant's turn ends it; so does the call's maximum duration.
What is recorded of an assistant turn, and kept in what the model reads, is what the channel
says the person got of it (clarion.engine.channel.Delivered), when they got it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from clarion.calls.endings import EndedReason
from clarion.calls.language_model import ModelSettings
from clarion.calls.models import SaidMessage
from clarion.engine.channel import (
    Channel,
    Deaf,
    Delivered,
    Heard,
    HungUp,
    Mute,
    Speaking,
    Speech,
    UserSaid,
    now_ms,
)
from clarion.engine.failures import Ending, what_failed
from clarion.engine.recorder import Recorder
from clarion.providers import (
    ChatRequest,
    Message,
    Provider,
    ProviderError,
    StreamEnd,
    TextDelta,
    Tool,
    ToolCall,
)

END_CALL = Tool(
    "end_call",
    "End the call. Use it once the conversation is over, after saying goodbye; "
    "any text sent with it is said first.",
    {"type": "object", "properties": {}, "additionalProperties": False},
)
DEFAULT_SILENCE_SECONDS = 30
# A call whose assistant sets no maximum still ends: an hour is longer than any appointment
# call, and it bounds what one call can hold and cost.
DEFAULT_MAX_DURATION_SECONDS = 3600
# Messages the person may send ahead of the assistant's reply; they are answered together.
MAX_WAITING_MESSAGES = 20
PROVIDER_ATTEMPTS = 2  # a failed request is tried once more at once
# Ends a turn the model failed in midway: what the person was shown is kept, as they saw it,
# and the transcript shows where it broke off.
CUT_OFF = " —"

log = logging.getLogger("clarion.calls")


class ModelFailed(Exception):
    """The model could not be reached twice in a row: the call ends as pipeline-error-llm,
    ``detail`` saying what failed."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(slots=True)
class History:
    """What a live call has said so far, as the model reads it, and its model."""

    call_id: int
    model: ModelSettings
    messages: list[Message] = field(default_factory=list)
    said: int = 0
    """Messages recorded so far: the next one's position."""

    def request(self) -> ChatRequest:
        """What the model is asked for the next assistant turn."""
        return ChatRequest(
            model=self.model.model,
            messages=[*self.model.prompt, *self.messages],
            temperature=self.model.temperature,
            max_tokens=self.model.max_tokens,
            tools=(END_CALL,),
        )

    def message(self, role: str, text: str, began_ms: int, ended_ms: int) -> SaidMessage:
        """The record of a message just said, in its place in the call."""
        record = SaidMessage(self.call_id, self.said, role, text, began_ms, ended_ms)
        self.said += 1
        return record


@dataclass(slots=True)
class Shown:
    """What the person has been sent of a turn, piece by piece, across the attempts at it.

    A request that fails midway has shown part of its reply. The retry's pieces are sent
    only beyond that part, so the pieces still add up to the turn when the retry says the
    same words; when it says others, no more pieces are sent and the assistant-message that
    closes the turn is the one to read. Each piece is compared and kept once, so a long
    reply costs no more per piece than a short one.
    """

    pieces: list[str] = field(default_factory=list)
    diverged: bool = False
    _before: str = ""  # what was shown when the current attempt began
    _at: int = 0  # how far the current attempt's reply has come

    def again(self) -> None:
        """An attempt at the turn begins; its reply is compared with what was shown."""
        self._before, self._at = "".join(self.pieces), 0

    def next_piece(self, piece: str) -> str:
        """The part to send of the current attempt's next ``piece``."""
        start, self._at = self._at, self._at + len(piece)
        if self.diverged:
            return ""
        repeated = self._before[start : start + len(piece)]
        if not piece.startswith(repeated):
            self.diverged = True
            return ""
        new = piece[len(repeated) :]
        if new:
            self.pieces.append(new)
        return new


class Conversation:
    """Holds one call's conversation over its channel until it ends; :meth:`hold` says why.

    ``recorder`` stores each message as it is said (clarion.engine.recorder): a user message
    while the model is already asked, an assistant turn before the frame that closes it is
    sent, so a turn the person has seen whole is never lost. Stopping the call
    from outside (a request, the server shutting down, the lease lost) cancels the task that
    runs :meth:`hold`; the caller then knows the reason. The person leaving ends the call at
    once: a reply still coming is given up, and what they said before leaving is kept.
    """

    def __init__(
        self,
        history: History,
        channel: Channel,
        provider: Provider,
        recorder: Recorder,
        *,
        first_message: str | None,
        silence_seconds: float,
        max_duration_seconds: float | None,
    ) -> None:
        self.history = history
        self._channel = channel
        self._provider = provider
        self._recorder = recorder
        self._first_message = first_message
        self._silence = silence_seconds
        self._max_duration = max_duration_seconds
        self._heard: asyncio.Queue[tuple[Heard, int]] = asyncio.Queue()
        self._left = asyncio.Event()
        self._spoke = asyncio.Event()  # the person began to speak (over the assistant)
        self._kept: Speech | None = None  # the last turn kept

    async def hold(self) -> EndedReason | Ending:
        """Converse until the call ends; its ``ended_reason``."""
        listening: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(self._max_duration):
                await self._channel.started(self.history.call_id)
                # Heard from now on: leaving or speaking during the greeting is seen.
                listening = asyncio.create_task(self._listen())
                if self._first_message:
                    first_message = self._first_message
                    await self._until_stopped(lambda speech: self._say(speech, first_message))
                return await self._converse()
        except TimeoutError:
            return EndedReason.EXCEEDED_MAX_DURATION
        except Mute as mute:
            return Ending(mute.reason, mute.detail)
        finally:
            if listening is not None:
                await self._stop_listening(listening)

    async def _converse(self) -> EndedReason | Ending:
        history = self.history
        while True:
            try:
                async with asyncio.timeout(self._silence):
                    heard, at = await self._heard.get()
            except TimeoutError:
                return EndedReason.SILENCE_TIMED_OUT
            # Everything said while the assistant was replying is answered in one turn.
            while isinstance(heard, UserSaid | Speaking):
                if isinstance(heard, UserSaid):
                    began = heard.began_ms if heard.began_ms is not None else at
                    ended = heard.ended_ms if heard.ended_ms is not None else at
                    self._recorder.record(history.message("user", heard.text, began, ended))
                    history.messages.append(Message.user(heard.text))
                if self._heard.empty():
                    break
                heard, at = self._heard.get_nowait()
            if isinstance(heard, HungUp):
                return EndedReason.CUSTOMER_ENDED
            if isinstance(heard, Deaf):
                return Ending(heard.reason, heard.detail)
            if self._left.is_set() or isinstance(heard, Speaking):
                # Said before leaving: kept, but nobody is there to answer. Speaking: their
                # words are still to come.
                continue
            try:
                ends = await self._until_stopped(self._reply)
            except ModelFailed as failed:
                return Ending(EndedReason.PIPELINE_ERROR_LLM, failed.detail)
            if ends:
                return EndedReason.ASSISTANT_ENDED

    async def _listen(self) -> None:
        """Pass on what the person does until they leave (or the line fails, which is the
        same to the conversation)."""
        try:
            while not isinstance(heard := await self._channel.hear(), HungUp):
                if isinstance(heard, Speaking):
                    self._spoke.set()
                elif isinstance(heard, UserSaid) and self._heard.qsize() >= MAX_WAITING_MESSAGES:
                    await self._channel.complain(
                        f"text: {MAX_WAITING_MESSAGES} messages are waiting for the "
                        "assistant's reply already; this one was not taken"
                    )
                    continue
                self._heard.put_nowait((heard, now_ms()))
        finally:
            self._heard.put_nowait((HungUp(), now_ms()))
            self._left.set()

    async def _stop_listening(self, listening: asyncio.Task[None]) -> None:
        listening.cancel()
        await asyncio.wait((listening,))
        failure = None if listening.cancelled() else listening.exception()
        if failure is not None:  # its message is not logged: it may quote the person
            log.warning(
                "call %d: hearing the caller failed with %s; taken as the caller leaving",
                self.history.call_id,
                type(failure).__name__,
            )

    async def _until_stopped(self, turn: Callable[[Speech], Awaitable[bool | None]]) -> bool:
        """Speak an assistant turn; whether it ended the call. The turn is given up when the
        person leaves, and cut when they speak over it: then what they heard of it is kept,
        and what was still to come (the model's request, the voice's) is cancelled."""
        speech = self._channel.speak()
        self._spoke.clear()
        speaking = asyncio.ensure_future(turn(speech))
        leaving = asyncio.ensure_future(self._left.wait())
        spoken_over = asyncio.ensure_future(self._spoke.wait())
        try:
            await asyncio.wait(
                (speaking, leaving, spoken_over), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            leaving.cancel()
            spoken_over.cancel()
            if not speaking.done():
                speaking.cancel()
                await asyncio.wait((speaking,))
        if speaking.cancelled():
            if not self._left.is_set():
                await self._keep(speech, await speech.interrupt())
            return False
        try:
            return bool(speaking.result())
        except Mute:
            await self._keep(speech, await speech.interrupt())
            raise

    async def _reply(self, speech: Speech) -> bool:
        """Say the model's next turn; whether it ended the call."""
        request = self.history.request()
        shown = Shown()
        for attempt in range(1, PROVIDER_ATTEMPTS + 1):
            try:
                text, calls = await self._stream(request, shown, speech)
                text = text.replace("\x00", "")  # no database column takes it, nobody says it
                ends = any(call.name == END_CALL.name for call in calls)
                if not text and not ends:
                    # Nothing to say and no end: an empty turn would leave the person waiting.
                    raise ProviderError(
                        self._provider.name, "answered with nothing to say", retryable=True
                    )
                break
            except ProviderError as error:
                log.warning(
                    "call %d: the %s request failed: %s",
                    self.history.call_id,
                    error.provider,
                    what_failed(error),
                )
                # A request refused outright (a bad key, a bad request) fails the same way
                # again: only what may pass is tried once more.
                if attempt == PROVIDER_ATTEMPTS or not error.retryable:
                    if shown.pieces:
                        await self._say(speech, "".join(shown.pieces).rstrip() + CUT_OFF)
                    raise ModelFailed(what_failed(error)) from None
        if text:
            await self._say(speech, text)
        return ends

    async def _stream(
        self, request: ChatRequest, shown: Shown, speech: Speech
    ) -> tuple[str, list[ToolCall]]:
        """Stream one reply to the person: its text and its tool calls."""
        parts: list[str] = []
        calls: list[ToolCall] = []
        shown.again()
        stream = self._provider.stream(request)
        try:
            async for event in stream:
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                    piece = shown.next_piece(event.text)
                    if piece:
                        await speech.piece(piece)
                elif isinstance(event, ToolCall):
                    calls.append(event)
                elif isinstance(event, StreamEnd):
                    break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return "".join(parts), calls

    async def _say(self, speech: Speech, text: str) -> None:
        """Finish the assistant's turn with ``text``, and keep what the person got of it."""
        await self._keep(speech, await speech.finish(text.replace("\x00", "")))  # nobody says NUL

    async def _keep(self, speech: Speech, delivered: Delivered) -> None:
        """Store what the person got of a turn (when it says anything) and keep it for the
        model, then close the turn. Once begun, it is done once and to its end: the person
        speaking over a turn just finished must not stop the frame that closes it, nor have
        it kept twice."""
        if self._kept is speech:
            return
        self._kept = speech
        history = self.history
        if delivered.text:
            message = history.message(
                "assistant", delivered.text, delivered.began_ms, delivered.ended_ms
            )
            history.messages.append(Message.assistant(delivered.text))
            self._recorder.record(message)
        await asyncio.shield(self._close(speech, delivered))

    async def _close(self, speech: Speech, delivered: Delivered) -> None:
        await self._recorder.written()
        await speech.close(delivered)
