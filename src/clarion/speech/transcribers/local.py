"""The offline transcriber: pocketsphinx in worker processes, no provider and no key.

It hears English only, and less well than the providers; it is there so a server with no
speech account, or none that may see patients' audio, still hears its callers. Each worker
process decodes one utterance at a time (sphinx.py), so the pool's size is how many
utterances across all calls are recognized at once; the rest wait their turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from clarion.speech.errors import SpeechError
from clarion.speech.transcriber import Interim
from clarion.speech.transcribers import sphinx
from clarion.speech.transcribers.utterance import UtteranceAudio

LOCAL_LANGUAGES: frozenset[str | None] = frozenset({None, "en", "en-US", "en-us"})
"""The languages the local transcriber hears (None: the assistant named none)."""

PROVIDER = "local"


class LocalRecognizer:
    """The pool of worker processes the server's local transcribers share.

    The pool starts at the first utterance, or ahead of it with :meth:`start`. Its processes
    are spawned, never forked: the server runs threads and an event loop that a fork would copy
    mid-step. A worker that dies fails the utterances it had, as a retryable SpeechError, and
    the next one starts a new pool.
    """

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("the local recognizer needs at least one process")
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def start(self) -> None:
        """Start every worker and wait until each has built its decoder."""
        pool = self._running_pool()
        loop = asyncio.get_running_loop()
        # As many at once as there are workers: the pool spawns a process for each one that
        # finds no idle worker, so every worker starts (and prepares) now.
        try:
            await asyncio.gather(
                *(loop.run_in_executor(pool, sphinx.ready) for _ in range(self.processes))
            )
        except BrokenProcessPool:
            raise self._broken(pool) from None

    async def recognize(self, pcm: bytes) -> str:
        """The words of one whole utterance (16-bit mono PCM at 16 kHz), from a worker."""
        pool = self._running_pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, sphinx.recognize, pcm)
        except BrokenProcessPool:
            raise self._broken(pool) from None

    async def close(self) -> None:
        """Stop the workers, dropping the utterances still waiting for one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _running_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=sphinx.prepare,
            )
        return self._pool

    def _broken(self, pool: ProcessPoolExecutor) -> SpeechError:
        if self._pool is pool:
            self._pool = None  # the next utterance starts a new pool
            pool.shutdown(wait=False, cancel_futures=True)
        return SpeechError(PROVIDER, "a recognizer process stopped", retryable=True)


class LocalTranscriber:
    """One call's offline transcriber: keeps each utterance's audio and recognizes it whole at
    its end, on the shared :class:`LocalRecognizer`. It gives no interim words."""

    name = PROVIDER

    def __init__(self, recognizer: LocalRecognizer, language: str | None = None) -> None:
        if language not in LOCAL_LANGUAGES:
            raise ValueError("the local transcriber hears English only")
        self._recognizer = recognizer
        self._audio = UtteranceAudio()
        self._hearing = False
        # Words of the utterance so far, asked for at the person's last pause: the turn
        # ends at a pause, so at its end they are the utterance's words, mostly ready by then.
        self._early: asyncio.Future[str] | None = None

    async def open(self, interim: Interim) -> None:
        """Nothing to connect: the recognizer is shared by every call."""

    def begin(self) -> None:
        """An utterance begins: keep its audio from here."""
        self._audio.clear()
        self._early = None
        self._hearing = True

    def feed(self, pcm: bytes) -> None:
        """More of the utterance."""
        if self._hearing:
            self._audio.add(pcm)

    def pause(self) -> None:
        """Start recognizing the utterance so far."""
        if not self._hearing or not len(self._audio):
            return
        self._early = asyncio.ensure_future(self._recognizer.recognize(self._audio.pcm))
        self._early.add_done_callback(_settled)

    async def finish(self) -> str:
        """The utterance's words, recognized by a worker (tried twice if a worker dies):
        those asked for at its last pause, when that is where it ended."""
        pcm = self._audio.pcm
        early, self._early = self._early, None
        self._audio.clear()
        self._hearing = False
        if not pcm:
            return ""
        if early is not None:
            with contextlib.suppress(SpeechError):
                return await early
        try:
            return await self._recognizer.recognize(pcm)
        except SpeechError as exc:
            if not exc.retryable:
                raise
        return await self._recognizer.recognize(pcm)

    def discard(self) -> None:
        """Forget the utterance."""
        self._audio.clear()
        self._early = None
        self._hearing = False

    async def close(self) -> None:
        """Nothing of the call's own to release: the recognizer outlives it."""
        self.discard()


def _settled(early: asyncio.Future[str]) -> None:
    """Words asked for early may never be wanted (the person went on): their failure is
    read here, so that it is not reported as never retrieved."""
    if not early.cancelled():
        early.exception()
