"""The channel a live call is held over, as the conversation sees it.

The conversation hears :class:`UserSaid` and :class:`HungUp` and speaks whole messages, in
pieces as the model writes them. The web call's WebSocket (clarion.calls.web_channel) is
one channel; a phone line with speech is another, under the same conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UserSaid:
    """The person said (or typed) something."""

    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class HungUp:
    """The person left the call."""


Heard = UserSaid | HungUp


class Channel(Protocol):
    """What a conversation needs of the line it is held over."""

    async def started(self, call_id: int) -> None:
        """Tell the person the call has begun."""
        ...

    async def hear(self) -> Heard:
        """The next thing the person does. What cannot be understood is answered on the
        channel itself and never reaches the conversation. Called from a task of its own,
        while the conversation may be speaking."""
        ...

    async def complain(self, message: str) -> None:
        """Tell the person something they did was not taken (the call goes on)."""
        ...

    async def say_piece(self, text: str) -> None:
        """The next piece of the assistant's turn, as the model writes it."""
        ...

    async def say(self, text: str) -> None:
        """The assistant's whole turn: what the person is to take as said."""
        ...

    async def ended(self, ended_reason: str) -> None:
        """Tell the person the call is over and close the line."""
        ...
