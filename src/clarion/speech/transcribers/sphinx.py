"""What runs in the local recognizer's worker processes: one pocketsphinx decoder each.

pocketsphinx holds the GIL for the whole of a decode, so it never runs in the server's own
process; each worker builds its decoder once, when it starts, from the English model that
ships in the pocketsphinx wheel.
"""

from __future__ import annotations

import os
import signal

from pocketsphinx import Decoder

from clarion.speech.audio import SAMPLE_BYTES, SAMPLE_RATE

# The decoder as it ships, less its costliest searching: no second, flat-lexicon pass, and
# fewer HMMs kept active per frame. On short sentences like a patient's this takes much less
# CPU and misses about as many words (bench/offline_speech.py --compare measures both).
DECODER_OPTIONS: dict[str, object] = {"fwdflat": False, "maxhmmpf": 5000}

_decoder: Decoder | None = None


def prepare() -> None:
    """A worker's start: build its decoder and run it once, so the first call's utterance
    does not pay for loading the model."""
    # The server's Ctrl-C reaches the whole process group; the server itself shuts the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # When recognition fills the cores, the server's event loop, which paces every call's
    # audio, comes first.
    os.nice(5)
    recognize(bytes(SAMPLE_RATE * SAMPLE_BYTES // 2))


def recognize(pcm: bytes) -> str:
    """The words of one whole utterance, lowercase and unpunctuated as pocketsphinx gives them."""
    global _decoder
    if _decoder is None:
        _decoder = Decoder(loglevel="FATAL", **DECODER_OPTIONS)
    decoder = _decoder
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return str(hypothesis.hypstr) if hypothesis is not None else ""


def ready() -> int:
    """Nothing but a sign the worker is up (its decoder built): its process id."""
    return os.getpid()
