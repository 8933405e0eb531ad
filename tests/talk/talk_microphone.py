"""A sentence spoken by espeak-ng (the library the espeakng-loader wheel ships, through
ctypes) into a WAV file a browser can take as its microphone."""

from __future__ import annotations

import ctypes
from pathlib import Path

import espeakng_loader
import numpy as np

from clarion.speech.audio import SAMPLE_RATE, resampled, wav

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples come to the callback, nothing plays
_CHARS_UTF8 = 1
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


def espeak_pcm(text: str, voice: str = "en-us+f3") -> bytes:
    """``text`` spoken: 16-bit mono PCM at 16 kHz."""
    library = ctypes.CDLL(espeakng_loader.get_library_path())
    library.espeak_Initialize.restype = ctypes.c_int
    data = str(Path(espeakng_loader.get_data_path()).parent).encode()
    rate = library.espeak_Initialize(_SYNCHRONOUS, 0, ctypes.c_char_p(data), 0)
    assert rate > 0, "espeak-ng did not start"
    chunks: list[bytes] = []

    def collect(wave: ctypes.Array[ctypes.c_short], count: int, _events: int | None) -> int:
        if count > 0:
            chunks.append(ctypes.string_at(wave, count * 2))
        return 0

    callback = _SynthCallback(collect)  # kept referenced until synthesis is done
    library.espeak_SetSynthCallback(callback)
    assert library.espeak_SetVoiceByName(voice.encode()) == 0, f"no espeak-ng voice {voice}"
    spoken = text.encode()
    library.espeak_Synth(
        ctypes.c_char_p(spoken), ctypes.c_size_t(len(spoken) + 1), 0, 1, 0, _CHARS_UTF8, None, None
    )
    library.espeak_Synchronize()
    library.espeak_Terminate()
    return resampled(b"".join(chunks), rate, SAMPLE_RATE)


def speech_wav(path: Path, text: str, before_s: float, after_s: float) -> Path:
    """A WAV file at ``path``: silence, ``text`` spoken, silence."""
    pcm = espeak_pcm(text)
    assert np.abs(np.frombuffer(pcm, dtype="<i2")).max() > 1000, "espeak-ng made silence"
    silence = b"\x00\x00" * SAMPLE_RATE
    padded = silence * int(before_s) + pcm + silence * int(after_s)
    path.write_bytes(wav(padded))
    return path
