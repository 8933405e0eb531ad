"""A person on a voice web call, for the tests: speaks real speech into the socket in real
time (silence between), and keeps what comes back: the audio with when it arrived, and the
text frames in order."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from clarion.speech.audio import FRAME_BYTES, SAMPLE_RATE
from clarion.speech.voices import EspeakVoice

SILENCE = b"\0" * FRAME_BYTES


@cache
def spoken(text: str, voice: str = "en-us+f5") -> bytes:
    """``text`` said by espeak-ng: 16-bit mono PCM at 16 kHz."""

    async def speak() -> bytes:
        return b"".join([chunk async for chunk in EspeakVoice(voice).synthesize(text)])

    # On a thread of its own: the caller may be inside an event loop (Playwright's).
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, speak()).result()


def noise_burst(ms: int) -> bytes:
    """A loud broadband burst (a knock, a cough) of ``ms`` milliseconds."""

    rng = np.random.default_rng(7)
    samples = rng.integers(-12000, 12000, SAMPLE_RATE * ms // 1000, dtype="<i2")
    return bytes(samples.tobytes())


@dataclass
class Arrived:
    """Audio as it arrived, frame by frame: (monotonic time, bytes)."""

    frames: list[tuple[float, bytes]] = field(default_factory=list)

    def pcm(self, since: float = 0.0) -> bytes:
        return b"".join(frame for at, frame in self.frames if at >= since)


class VoiceCaller:
    """A caller joined with ``&audio=pcm16``: a sender paced in real time and a reader."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.texts: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.audio = Arrived()
        self._speech: queue.Queue[bytes] = queue.Queue()
        self.speech_started: list[float] = []
        self.speech_ended: list[float] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._send, daemon=True),
            threading.Thread(target=self._read, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def say(self, pcm: bytes) -> None:
        """Speak ``pcm`` next (in real time, after what is being said)."""
        self._speech.put(pcm)

    def type(self, text: str) -> None:
        self.connection.send(orjson.dumps({"type": "user-message", "text": text}).decode())

    def hang_up(self) -> None:
        self.connection.send(orjson.dumps({"type": "hangup"}).decode())

    def next(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next text frame."""
        try:
            return self.texts.get(timeout=timeout)
        except queue.Empty:
            seen = [(f["type"], f.get("ended_reason") or f.get("message")) for f in self.seen]
            raise AssertionError(f"no frame came in {timeout:g} s; seen: {seen}") from None

    def until(self, kind: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Text frames up to and including the next of type ``kind``."""
        frames = []
        while True:
            frames.append(self.next(timeout))
            if frames[-1]["type"] == kind:
                return frames

    def audio_arrived(self, timeout: float) -> None:
        """Wait for the next audio frame."""
        count = len(self.audio.frames)
        deadline = time.monotonic() + timeout
        while len(self.audio.frames) == count:
            assert time.monotonic() < deadline, "no audio arrived"
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        self.connection.close()
        for thread in self._threads:
            thread.join(5)

    def _send(self) -> None:
        next_at = time.monotonic()
        speaking = b""
        try:
            while not self._stop.is_set():
                if not speaking:
                    try:
                        speaking = self._speech.get_nowait()
                        self.speech_started.append(time.monotonic())
                    except queue.Empty:
                        pass
                if speaking:
                    frame, speaking = speaking[:FRAME_BYTES], speaking[FRAME_BYTES:]
                    frame = frame.ljust(FRAME_BYTES, b"\0")
                    if not speaking:
                        self.speech_ended.append(time.monotonic())
                else:
                    frame = SILENCE
                self.connection.send(frame)
                next_at += FRAME_BYTES / 2 / SAMPLE_RATE
                time.sleep(max(0.0, next_at - time.monotonic()))
        except ConnectionClosed:
            pass

    def _read(self) -> None:
        try:
            while True:
                message = self.connection.recv()
                if isinstance(message, bytes):
                    self.audio.frames.append((time.monotonic(), message))
                else:
                    frame = orjson.loads(message)
                    frame["_at"] = time.monotonic()
                    self.seen.append(frame)
                    self.texts.put(frame)
        except ConnectionClosed:
            pass


@contextmanager
def join_by_voice(web_call_url: str) -> Iterator[VoiceCaller]:
    """The call joined with audio, until the block ends."""
    with connect(web_call_url + "&audio=pcm16", open_timeout=10, max_size=None) as connection:
        caller = VoiceCaller(connection)
        try:
            yield caller
        finally:
            caller.close()


def sox_rms(pcm: bytes) -> float:
    """The RMS amplitude sox measures for ``pcm`` (0 to 1)."""
    sox = shutil.which("sox")
    if sox is None:
        # A newcomer's machine may not have it (CI installs it and requires it): the same
        # figure, computed here.
        assert os.environ.get("CLARION_REQUIRE_BROWSER") != "1", "apt-get install sox"
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
        return float(np.sqrt(np.mean(samples * samples)))
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "audio.raw"
        raw.write_bytes(pcm)
        result = subprocess.run(
            [
                sox,
                "-t",
                "raw",
                "-r",
                "16000",
                "-e",
                "signed",
                "-b",
                "16",
                "-c",
                "1",
                raw,
                "-n",
                "stat",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    for line in result.stderr.splitlines():
        if line.startswith("RMS     amplitude"):
            return float(line.split(":")[1])
    raise AssertionError("sox printed no RMS amplitude")


def words_heard(pcm: bytes) -> list[str]:
    """The words the offline recognizer hears in 16 kHz ``pcm``, heard on its own."""
    from pocketsphinx import Decoder

    # Batch normalization: each utterance is heard on its own, whatever came before.
    decoder = Decoder(samprate=SAMPLE_RATE, cmn="batch", loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr.split() if hypothesis is not None else []


def recognized(pcm: bytes) -> str:
    """What the offline recognizer hears in ``pcm``, as one line of words."""
    return " ".join(words_heard(pcm))


def heard_most_of(sentence: str, pcm: bytes) -> bool:
    """Whether at least half the words of ``sentence`` are heard in ``pcm``.

    espeak-ng's voice varies a little from one synthesis to the next (its breath noise is
    random), and the recognizer now and then mistakes a few words of the same sentence ("the
    doctor will calculate in my early afternoon"); speech that is not there, or is garbled,
    gets next to none of them.
    """
    words = words_heard(pcm)
    said = re.sub(r"[^\w' ]", "", sentence.lower()).split()
    return sum(word in words for word in said) * 2 >= len(said)
