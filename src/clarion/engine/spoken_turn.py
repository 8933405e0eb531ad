"""An assistant turn spoken aloud: the model's words cut into pieces, each voiced as soon as
it is whole, its audio queued to play in real time, and what the person heard of it told
back when it ends or is cut.

Each piece's audio is synthesized in order by one task while the earlier pieces play, so the
first audio leaves before the reply is finished. What was heard is known from when each
frame was due to play: a cut turn keeps the pieces heard whole and, of the piece playing,
the words its played share of audio covers (providers give no word timings).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from clarion.calls.endings import EndedReason
from clarion.engine.channel import Delivered, Mute
from clarion.engine.failures import server_failure, what_failed
from clarion.engine.socket_writer import SocketWriter
from clarion.speech.audio import FRAME_BYTES, SAMPLE_RATE
from clarion.speech.errors import SpeechError
from clarion.speech.pieces import SpeakablePieces
from clarion.speech.voice import Voice

# Until a piece is synthesized whole, how long its audio will be is guessed from its
# length: about what voices take for a character of English.
SAMPLES_PER_CHARACTER = SAMPLE_RATE * 65 // 1000

log = logging.getLogger("clarion.calls")


@dataclass(slots=True)
class PieceAudio:
    """A piece of the turn and when its audio plays (the writer's clock)."""

    text: str = field(repr=False)
    plays: list[tuple[float, float, int]] = field(default_factory=list)
    """(start, end, samples) of each part of its audio queued."""
    whole: bool = False

    def heard(self, at: float) -> float:
        """The share of the piece played by ``at``."""
        played = sum(
            samples * min(1.0, max(0.0, (at - start) / (end - start)))
            for start, end, samples in self.plays
            if end > start
        )
        queued = sum(samples for _, _, samples in self.plays)
        total = queued if self.whole else max(queued, len(self.text) * SAMPLES_PER_CHARACTER)
        return played / total if total else 0.0


def words_heard(text: str, share: float) -> str:
    """The words of ``text`` heard whole when ``share`` of it has played."""
    if share >= 1.0:
        return text
    reached = int(len(text) * share)
    if reached < len(text) and not text[reached].isspace():
        reached = max(text.rfind(" ", 0, reached), 0)
    return text[:reached].rstrip()


class SpokenTurn:
    """One assistant turn on a line with a voice."""

    def __init__(self, writer: SocketWriter, voice: Voice, epoch_ms: float, call_id: int) -> None:
        self._writer = writer
        self._voice = voice
        self._epoch_ms = epoch_ms
        self._call_id = call_id
        self._cutter = SpeakablePieces()
        self._given = ""  # the text handed over as pieces so far
        self._pieces: list[PieceAudio] = []
        self._waiting: asyncio.Queue[str | None] = asyncio.Queue()
        self._voicing: asyncio.Task[None] | None = None
        self._carry = b""  # audio short of a whole frame, sent with the next
        self._failed: EndedReason | None = None
        self._failure: str | None = None  # what failed, in words for the operator
        self._cut_at: float | None = None

    async def piece(self, text: str) -> None:
        """Send it as an ``assistant-delta`` (captions, ahead of the voice), and voice the
        pieces of the reply it completes."""
        self._check()
        if self._cut_at is None:
            self._writer.text({"type": "assistant-delta", "text": text})
        self._given += text
        for piece in self._cutter.add(text):
            self._say(piece)

    async def finish(self, text: str) -> Delivered:
        """Voice the rest of ``text`` and return once it has all played."""
        self._check()
        if text.startswith(self._given):
            for piece in self._cutter.add(text[len(self._given) :]):
                self._say(piece)
            heard = text
        else:
            heard = self._given  # a retry said other words: what was voiced stands
        self._say(self._cutter.rest())
        self._waiting.put_nowait(None)
        if self._voicing is not None:
            await asyncio.wait((self._voicing,))
        self._check()
        delay = self._writer.playing_until - self._writer.now()
        if delay > 0:
            await asyncio.sleep(delay)
        # Played by now, unless the writer fell behind: the message closing the turn must
        # not overtake its last frames.
        await self._writer.sent()
        if self._cut_at is not None:
            return self._delivered(self._cut_at)
        began, ended = self._span(self._writer.now())
        return Delivered(heard if self._pieces else "", began, ended)

    async def interrupt(self) -> Delivered:
        """Stop now; the words heard whole."""
        self.cut()
        if self._voicing is not None:
            await asyncio.wait((self._voicing,))
        assert self._cut_at is not None  # noqa: S101 - set by cut()
        return self._delivered(self._cut_at)

    async def close(self, delivered: Delivered) -> None:
        """Send the ``assistant-message`` with what was heard (nothing, if nothing was)."""
        if delivered.text:
            self._writer.text({"type": "assistant-message", "text": delivered.text})

    def cut(self) -> None:
        """The person spoke over the turn: its audio stops at once and nothing more of it is
        voiced."""
        if self._cut_at is not None:
            return
        now = self._writer.now()
        self._cut_at = self._writer.heard_until()
        if self._writer.playing_until > now:
            self._writer.clear()
        if self._voicing is not None:
            self._voicing.cancel()

    def _check(self) -> None:
        if self._failed is not None:
            raise Mute(self._failed, self._failure)

    def _say(self, text: str) -> None:
        # Nothing to say in it (a dash closing a turn broken off, say): nothing to voice.
        if not any(ch.isalnum() for ch in text) or self._cut_at is not None:
            return
        self._waiting.put_nowait(text)
        if self._voicing is None:
            self._voicing = asyncio.create_task(self._voice_pieces())

    async def _voice_pieces(self) -> None:
        """Synthesize the pieces in order, queueing their audio as it comes."""
        try:
            while (text := await self._waiting.get()) is not None:
                piece = PieceAudio(text)
                self._pieces.append(piece)
                audio = self._voice.synthesize(text)
                try:
                    async for chunk in audio:
                        self._play(piece, chunk)
                finally:
                    # At once, not when collected: a cut turn's request is closed now.
                    await audio.aclose()  # type: ignore[attr-defined]
                piece.whole = True
            if self._carry:  # the last of the turn, made up to a whole frame
                self._play(self._pieces[-1], b"\0" * (FRAME_BYTES - len(self._carry)))
        except SpeechError as error:
            self._failed = EndedReason.PIPELINE_ERROR_VOICE
            self._failure = what_failed(error)
            log.warning(
                "call %d: the %s voice failed: %s (status %s)",
                self._call_id,
                error.provider,
                "retryable" if error.retryable else "not retryable",
                error.status,
            )
        except Exception as exc:  # not the provider's doing: the server failed the call
            self._failed = EndedReason.PIPELINE_ERROR
            self._failure = server_failure("voicing a turn", exc)
            log.error("call %d: voicing a turn failed with %s", self._call_id, type(exc).__name__)

    def _play(self, piece: PieceAudio, chunk: bytes) -> None:
        data = self._carry + chunk if self._carry else chunk
        whole = len(data) - len(data) % FRAME_BYTES
        self._carry = data[whole:]
        if whole:
            start, end = self._writer.audio(data[:whole])
            piece.plays.append((start, end, whole // 2))

    def _span(self, until: float) -> tuple[int, int]:
        """When the turn began and ended for the person, in Unix ms."""
        starts = [plays[0][0] for piece in self._pieces if (plays := piece.plays)]
        began = min(starts) if starts else until
        return round(self._epoch_ms + began * 1000), round(self._epoch_ms + until * 1000)

    def _delivered(self, at: float) -> Delivered:
        heard: list[str] = []
        for piece in self._pieces:
            share = piece.heard(at)
            if share < 1.0:
                heard.append(words_heard(piece.text, share))
                break
            heard.append(piece.text)
        began, ended = self._span(at)
        return Delivered("".join(heard).strip(), began, ended, cut=True)
