"""The channel a live call is held over, as the conversation sees it.

The conversation hears :class:`UserSaid` and :class:`HungUp`, and speaks each assistant turn
through a :class:`Speech`: pieces as the model writes them, then the whole turn, and back
comes what the person actually got of it (:class:`Delivered`), which is what the conversation
records and what the model is told was said. The web call's WebSocket
(clarion.engine.web_channel) is one channel; a line with speech is another, under the same
conversation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from clarion.calls.endings import EndedReason


@dataclass(frozen=True, slots=True)
class UserSaid:
    """The person said (or typed) something; when they began and ended (Unix ms), where the
    channel knows it from the audio."""

    text: str = field(repr=False)
    began_ms: int | None = None
    ended_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Speaking:
    """The person began to speak: whatever the assistant is saying stops, and what it had
    still to say is given up. Their words follow as a :class:`UserSaid`."""


@dataclass(frozen=True, slots=True)
class HungUp:
    """The person left the call."""


@dataclass(frozen=True, slots=True)
class Deaf:
    """The channel can no longer hear the person (its transcriber failed): the call ends
    with ``reason``, ``detail`` saying what failed."""

    reason: EndedReason
    detail: str | None = None


Heard = UserSaid | Speaking | HungUp | Deaf


class Mute(Exception):
    """The channel can no longer speak (its voice failed): the call ends with ``reason``,
    and what the person heard of the turn is :meth:`Speech.interrupt`'s."""

    def __init__(self, reason: EndedReason, detail: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail


def now_ms() -> int:
    """Unix time in milliseconds: how what is heard and delivered is timed."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Delivered:
    """What the person got of an assistant turn: the text they heard or read, and when it
    began and ended for them (Unix ms); ``cut`` when the turn was stopped before its end."""

    text: str = field(repr=False)
    began_ms: int
    ended_ms: int
    cut: bool = False


class Speech(Protocol):
    """One assistant turn on its way to the person."""

    async def piece(self, text: str) -> None:
        """The next piece of the turn, as the model writes it. Raises :class:`Mute` when the
        turn can no longer be spoken."""
        ...

    async def finish(self, text: str) -> Delivered:
        """The turn is whole: ``text`` is all of it (it may differ from the pieces when a
        retried request said other words). Returns once the person has it all: for a line
        with audio, once it has played, so that silence is counted from there. Raises
        :class:`Mute` when the turn can no longer be spoken."""
        ...

    async def interrupt(self) -> Delivered:
        """Stop the turn now (the person spoke over it, or the voice failed); what they got
        of it, cut at a word they heard whole."""
        ...

    async def close(self, delivered: Delivered) -> None:
        """Tell the person the turn is over and what is to be taken as said; called once
        what was delivered is recorded."""
        ...


class Channel(Protocol):
    """What a conversation needs of the line it is held over."""

    async def started(self, call_id: int) -> None:
        """Tell the person the call has begun."""
        ...

    async def hear(self) -> Heard:
        """The next thing the person does. What cannot be understood is answered on the
        channel itself and never reaches the conversation. Called from a task of its own,
        from before the first message, while the conversation may be speaking."""
        ...

    async def complain(self, message: str) -> None:
        """Tell the person something they did was not taken (the call goes on)."""
        ...

    def speak(self) -> Speech:
        """Begin an assistant turn."""
        ...

    async def ended(self, ended_reason: str, failure_detail: str | None = None) -> None:
        """Tell the person the call is over (and, when the pipeline failed it, what failed)
        and close the line, once what was being said to them (a goodbye) has reached
        them."""
        ...
