"""espeak-ng, offline: the voice that needs no provider, no key and no network.

The library and its voice data ship in the ``espeakng-loader`` wheel and are called through
ctypes. The library keeps global state (one voice, one callback, one synthesis at a time), so
every synthesis in the process runs on one worker thread of its own, which also loads it on
first use. The C call releases the GIL, so the event loop keeps serving calls while it runs;
the audio comes back a buffer at a time through the synthesis callback, is resampled to the
line's rate in the worker and handed to the loop as it is made. A reader that stops early
stops the synthesis at its next buffer.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor

import espeakng_loader

from clarion.speech.audio import Resampler
from clarion.speech.errors import SpeechError

# American English in a female variant: of the voices that ship, the one the offline
# transcriber (pocketsphinx's en-us model) recognizes best.
DEFAULT_VOICE = "en-us+f5"
BUFFER_MS = 60  # how much audio each callback brings

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000  # a sentence's pause after the text, as between the pieces of a reply
_EE_OK = 0
_EE_NOT_FOUND = 2

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")
_library: _Library | None = None  # loaded by the worker, on first use


class EspeakVoice:
    """An espeak-ng voice by name (``en-us+f5`` when none is given), spoken offline."""

    name = "espeak"

    def __init__(self, voice_name: str | None = None) -> None:
        self._voice_name = voice_name or DEFAULT_VOICE

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """``text`` spoken, as 16-bit mono PCM at 16,000 Hz in chunks as they are made."""
        if not text.strip():
            return
        loop = asyncio.get_running_loop()
        job = _Job(loop)
        loop.run_in_executor(_WORKER, _synthesize, text, self._voice_name, job)
        try:
            while (audio := await job.queue.get()) is not None:
                if isinstance(audio, SpeechError):
                    raise audio
                yield audio
        finally:
            job.stop()  # not waited for: the worker may be busy with another call's words


class _Job:
    """One synthesis, between the worker that makes its audio and the loop that reads it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[bytes | SpeechError | None] = asyncio.Queue()
        self._loop = loop
        self._stopped = threading.Event()
        self._resampler: Resampler | None = None

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """The reader is gone: make no more audio."""
        self._stopped.set()

    def start(self, rate: int) -> None:
        self._resampler = Resampler(rate)

    def take(self, pcm: bytes) -> None:
        """A buffer of the library's audio, at its own rate."""
        if self._resampler is None:
            raise RuntimeError("audio came before the synthesis started")
        audio = self._resampler.feed(pcm)
        if audio:
            self._send(audio)

    def finish(self) -> None:
        if self._resampler is not None:
            tail = self._resampler.feed(b"", last=True)
            if tail:
                self._send(tail)
        self._send(None)

    def fail(self, error: SpeechError) -> None:
        self._send(error)

    def _send(self, item: bytes | SpeechError | None) -> None:
        if self.stopped:
            return
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:
            self.stop()  # the reader's loop has closed


def _synthesize(text: str, voice_name: str, job: _Job) -> None:
    """Speak ``text`` into ``job``; runs on the worker thread, and never raises."""
    global _library
    if job.stopped:
        return  # closed while it waited its turn
    try:
        if _library is None:
            _library = _Library()
        _library.speak(text, voice_name, job)
    except SpeechError as error:
        job.fail(error)
    except Exception as exc:  # the library could not be loaded, say; the worker goes on
        job.fail(SpeechError("espeak", f"failed: {type(exc).__name__}", retryable=False))
    else:
        job.finish()


class _Library:
    """The espeak-ng library, initialized once; used only from the worker thread."""

    def __init__(self) -> None:
        library = ctypes.CDLL(espeakng_loader.get_library_path())
        library.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        library.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data = espeakng_loader.get_data_path().encode()
        self.rate = library.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS, data, _INITIALIZE_DONT_EXIT
        )
        if self.rate <= 0:
            raise SpeechError("espeak", "could not load its voice data", retryable=False)
        self._library = library
        self._callback = _SynthCallback(self._on_audio)  # kept: the library holds a pointer
        library.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None
        self._job: _Job | None = None

    def speak(self, text: str, voice_name: str, job: _Job) -> None:
        """Speak ``text`` in ``voice_name`` into ``job``, buffer by buffer, until it is done
        or the job is stopped."""
        if voice_name != self._voice:
            status = self._library.espeak_SetVoiceByName(voice_name.encode())
            if status != _EE_OK:
                self._voice = None
                known = "has no voice" if status == _EE_NOT_FOUND else "could not load the voice"
                raise SpeechError("espeak", f"{known} named {voice_name!r}", retryable=False)
            self._voice = voice_name
        words = ctypes.create_string_buffer(text.encode())
        job.start(self.rate)
        self._job = job
        try:
            status = self._library.espeak_Synth(
                words, len(words), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
            )
        finally:
            self._job = None
        if status != _EE_OK:
            raise SpeechError("espeak", f"synthesis failed ({status})", retryable=False)

    def _on_audio(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None
    ) -> int:
        """The library's synthesis callback: 0 to go on, 1 to stop."""
        job = self._job
        if job is None or job.stopped:
            return 1
        if count > 0:
            try:
                job.take(ctypes.string_at(wav, count * 2))
            except Exception as exc:  # it cannot cross the C library: the reader hears of it
                job.fail(SpeechError("espeak", f"failed: {type(exc).__name__}", retryable=False))
                job.stop()
                return 1
        return 0
