"""What a transcriber is to the engine: an utterance's audio in, its words out.

The engine decides where an utterance begins and ends (clarion.speech.turns, the same for
every provider); a transcriber is told each utterance's audio as it comes and asked for its
words at its end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Interim = Callable[[str], None]
"""Called with the words heard so far in the current utterance, for providers that stream
them (the channel passes them on as ``user-transcript`` frames with ``final: false``)."""


class Transcriber(Protocol):
    """One call's transcriber, opened when the call is joined and closed when it ends.

    A failed request that may pass is tried once more (the same utterance again, or a new
    connection); then a :class:`~clarion.speech.errors.SpeechError`.
    """

    name: str
    """The provider's name, as the assistant's ``transcriber.provider`` gives it."""

    async def open(self, interim: Interim) -> None:
        """Get ready to hear (a streaming provider connects here)."""
        ...

    def begin(self) -> None:
        """An utterance begins; :meth:`feed` brings its audio from here (with a little of
        what came just before, so its first sound is not clipped)."""
        ...

    def feed(self, pcm: bytes) -> None:
        """More of the utterance: 16-bit mono PCM at 16,000 Hz. Never waits."""
        ...

    def pause(self) -> None:
        """The person has paused long enough that their turn may be ending here. A
        transcriber that hears utterances whole may start on what it has, so that the words
        are ready sooner if no more comes; :meth:`finish` gives the same words either way."""
        ...

    async def finish(self) -> str:
        """The utterance is over: all its words ("" when none were heard)."""
        ...

    def discard(self) -> None:
        """The utterance was not speech (a cough, a knock): forget it."""
        ...

    async def close(self) -> None:
        """The call is over: release the connection or the worker."""
        ...
