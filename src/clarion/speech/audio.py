"""The audio every channel, transcriber and voice exchanges: 16-bit little-endian mono PCM at
16,000 Hz, played out in 20 ms frames."""

from __future__ import annotations

import io
import wave

import numpy as np
import soxr

SAMPLE_RATE = 16_000
SAMPLE_BYTES = 2
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * SAMPLE_BYTES * FRAME_MS // 1000  # 640


def duration_ms(pcm: bytes | bytearray | memoryview) -> float:
    """How long ``pcm`` plays, in milliseconds."""
    return len(pcm) * 1000 / (SAMPLE_RATE * SAMPLE_BYTES)


def resampled(pcm: bytes, from_rate: int, to_rate: int = SAMPLE_RATE, quality: str = "HQ") -> bytes:
    """``pcm`` (16-bit mono) at another rate. One call per whole piece of audio: soxr keeps no
    state between calls here, so a stream is resampled with :class:`Resampler`."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
    resampled = soxr.resample(samples, from_rate, to_rate, quality=quality)
    return bytes(resampled.astype("<i2").tobytes())


class Resampler:
    """Resamples a stream of 16-bit mono chunks, carrying its filter state across them."""

    def __init__(self, from_rate: int, to_rate: int = SAMPLE_RATE, quality: str = "HQ") -> None:
        self._same = from_rate == to_rate
        self._stream = (
            None
            if self._same
            else soxr.ResampleStream(from_rate, to_rate, 1, "int16", quality=quality)
        )
        self._odd = b""  # a chunk may end inside a sample

    def feed(self, chunk: bytes, last: bool = False) -> bytes:
        """The resampled audio of ``chunk``; ``last`` flushes what the filter holds back."""
        data = self._odd + chunk
        whole = len(data) // 2 * 2
        self._odd = data[whole:]
        if self._stream is None:
            return data[:whole]
        samples = np.frombuffer(data[:whole], dtype="<i2")
        return bytes(self._stream.resample_chunk(samples, last=last).tobytes())


def wav(pcm: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """``pcm`` as a WAV file, as transcription APIs take an utterance."""
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(SAMPLE_BYTES)
        file.setframerate(rate)
        file.writeframes(pcm)
    return out.getvalue()
