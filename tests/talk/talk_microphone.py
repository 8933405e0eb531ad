"""A sentence spoken by espeak-ng into a WAV file a browser can take as its microphone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clarion.speech.audio import SAMPLE_RATE, wav
from voice_support import spoken


def speech_wav(path: Path, text: str, before_s: float, after_s: float) -> Path:
    """A WAV file at ``path``: silence, ``text`` spoken, silence. The speech comes from
    clarion's own espeak voice: the library is one per process, and a second user of it
    would reset the server's."""
    pcm = spoken(text)
    assert np.abs(np.frombuffer(pcm, dtype="<i2")).max() > 1000, "espeak-ng made silence"
    silence = b"\x00\x00" * SAMPLE_RATE
    padded = silence * int(before_s) + pcm + silence * int(after_s)
    path.write_bytes(wav(padded))
    return path
