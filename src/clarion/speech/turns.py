"""Where the person's turns begin and end in a call's audio, the same for every transcriber.

Voice activity is read 20 ms at a time (WebRTC's VAD: no model, a fraction of a percent of a
core per call). Sound opens an utterance at once, with a little of what came before it, so
the transcriber hears the first syllable whole. It counts as speech, and so may interrupt the
assistant, only once it holds :data:`SPEECH_MS` of voiced audio: a cough or a knock is shorter
and is dropped. The turn is over after ``endpointing_ms`` without voice.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import webrtcvad

from clarion.speech.audio import FRAME_BYTES, FRAME_MS, SAMPLE_RATE

SPEECH_MS = 200
"""Voiced audio an utterance needs before it is speech: shorter is a blip."""
BLIP_GAP_MS = 300
"""Unvoiced audio that ends an utterance not yet taken for speech."""
PAUSE_MS = 300
"""Unvoiced audio after speech that may be the end of the turn: a transcriber that hears
utterances whole starts then, so that its words are ready about when the turn has ended."""
PRE_ROLL_MS = 300
"""Audio from before the first voiced frame given to the transcriber with it."""
VAD_MODE = 3  # the strictest: background noise is least often taken for a voice
VOICE_FLOOR = 200
"""The RMS (of 32,767) a frame needs to count as voiced (about -44 dBFS). The VAD goes on
saying "speech" for a while after a sound stops; this keeps that tail from being counted."""
FRAME_SAMPLES = FRAME_BYTES // 2


@dataclass(frozen=True, slots=True)
class SoundBegan:
    """Something was heard: an utterance may be starting. ``pre_roll`` is the audio just
    before it; ``at`` the sample where the sound began."""

    pre_roll: bytes = field(repr=False)
    at: int


@dataclass(frozen=True, slots=True)
class UtteranceAudio:
    """Audio of the utterance under way."""

    pcm: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class SpeechBegan:
    """The sound is speech: the person is talking (and may be talking over the assistant)."""

    at: int


@dataclass(frozen=True, slots=True)
class Paused:
    """The person has been quiet for :data:`PAUSE_MS`: their turn may end here."""


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The person has stopped talking: ``began`` and ``ended`` are the samples of their
    first and last voiced audio."""

    began: int
    ended: int


@dataclass(frozen=True, slots=True)
class Blip:
    """The sound was too short to be speech; forget it."""


TurnEvent = SoundBegan | UtteranceAudio | SpeechBegan | Paused | TurnEnded | Blip


class TurnDetector:
    """Reads one call's incoming audio and says where its utterances are."""

    def __init__(self, endpointing_ms: int) -> None:
        self._vad = webrtcvad.Vad(VAD_MODE)
        self._endpointing_frames = max(1, endpointing_ms // FRAME_MS)
        # Never at the turn's end itself: a pause is told only when the end is still to come.
        self._pause_frames = PAUSE_MS // FRAME_MS
        if self._pause_frames >= self._endpointing_frames:
            self._pause_frames = 0
        self._partial = b""
        self._recent: deque[bytes] = deque(maxlen=PRE_ROLL_MS // FRAME_MS)
        self.samples = 0
        """Samples read so far: the position of the next one."""
        self._in_utterance = False
        self._speech = False
        self._began = 0
        self._last_voiced = 0  # the sample after the last voiced frame
        self._voiced_frames = 0
        self._unvoiced_run = 0

    @property
    def hearing_speech(self) -> bool:
        """Whether an utterance taken for speech is under way."""
        return self._speech

    def push(self, pcm: bytes) -> list[TurnEvent]:
        """Read more audio (any whole number of samples); what it showed."""
        events: list[TurnEvent] = []
        data = self._partial + pcm if self._partial else pcm
        whole = len(data) - len(data) % FRAME_BYTES
        for start in range(0, whole, FRAME_BYTES):
            self._frame(data[start : start + FRAME_BYTES], events)
        self._partial = data[whole:]
        return events

    def _frame(self, frame: bytes, events: list[TurnEvent]) -> None:
        voiced = self._vad.is_speech(frame, SAMPLE_RATE) and _loud(frame)
        at = self.samples
        self.samples += FRAME_SAMPLES
        if not self._in_utterance:
            if voiced:
                self._in_utterance, self._began = True, at
                self._voiced_frames, self._unvoiced_run = 1, 0
                self._last_voiced = self.samples
                events.append(SoundBegan(b"".join(self._recent), at))
                events.append(UtteranceAudio(frame))
            self._recent.append(frame)
            return
        self._recent.append(frame)
        events.append(UtteranceAudio(frame))
        if voiced:
            self._voiced_frames += 1
            self._unvoiced_run = 0
            self._last_voiced = self.samples
            if not self._speech and self._voiced_frames * FRAME_MS >= SPEECH_MS:
                self._speech = True
                events.append(SpeechBegan(self._began))
            return
        self._unvoiced_run += 1
        if self._speech:
            if self._unvoiced_run == self._pause_frames:
                events.append(Paused())
            if self._unvoiced_run >= self._endpointing_frames:
                events.append(TurnEnded(self._began, self._last_voiced))
                self._in_utterance = self._speech = False
        elif self._unvoiced_run * FRAME_MS >= BLIP_GAP_MS:
            events.append(Blip())
            self._in_utterance = False


def _loud(frame: bytes) -> bool:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) >= VOICE_FLOOR
