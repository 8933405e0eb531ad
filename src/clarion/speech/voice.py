"""What a voice is to the engine: text in, audio out as it is made."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class Voice(Protocol):
    """A voice of the call, reached over its provider's API (or offline).

    Adapters ask their provider for audio a line can play without decoding (PCM at 16 kHz,
    or PCM at another rate, resampled here); nothing decodes mp3 on a live call. A failed
    request that may pass is tried once more when it failed before any audio came; then a
    :class:`~clarion.speech.errors.SpeechError`.
    """

    name: str
    """The provider's name, as the assistant's ``voice.provider`` gives it."""

    def synthesize(self, text: str) -> AsyncIterator[bytes]:
        """``text`` spoken: 16-bit mono PCM at 16,000 Hz, in chunks of any length as they are
        made. Closing the iterator early (barge-in) closes the request at once."""
        ...
