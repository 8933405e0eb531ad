"""An utterance's audio as a transcriber keeps it until its end."""

from __future__ import annotations

from clarion.speech.audio import SAMPLE_BYTES, SAMPLE_RATE

MAX_UTTERANCE_SECONDS = 60
MAX_UTTERANCE_BYTES = SAMPLE_RATE * SAMPLE_BYTES * MAX_UTTERANCE_SECONDS


class UtteranceAudio:
    """The audio fed since the utterance began, bounded: past the bound the first part is kept,
    so a line left open on a noisy room cannot grow a call's memory without end."""

    def __init__(self) -> None:
        self._pcm = bytearray()

    def add(self, pcm: bytes) -> None:
        """Keep ``pcm``, or as much of it as the bound leaves room for."""
        room = MAX_UTTERANCE_BYTES - len(self._pcm)
        if room > 0:
            self._pcm += pcm[:room]

    def clear(self) -> None:
        """Forget the audio kept so far."""
        self._pcm.clear()

    @property
    def pcm(self) -> bytes:
        """The audio kept, as one piece."""
        return bytes(self._pcm)

    def __len__(self) -> int:
        return len(self._pcm)
