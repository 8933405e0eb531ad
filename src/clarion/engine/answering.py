"""Who answered an outbound phone call, before the assistant says a word.

Twilio's asynchronous detection posts its verdict to whichever process takes the callback,
which keeps it on the call's row (clarion.phone_calls.machines); the process holding the
stream reads the row until it is there, for as long as Twilio's detection may take. A person
(or a verdict of ``unknown``, which is what Twilio says when its detection times out, or no
verdict at all) hears the conversation as any call does. A machine hears no first message: once its
greeting has ended it is left the call's ``voicemail_message`` in the assistant's voice, or
hung up on when there is none, and the call ends as ``voicemail``. A fax is hung up on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from clarion.calls.endings import EndedReason
from clarion.calls.models import CallRecord, SaidMessage
from clarion.database import Database
from clarion.engine.channel import HungUp, Mute
from clarion.engine.failures import Ending
from clarion.engine.recorder import Recorder
from clarion.engine.voice_channel import VoiceChannel
from clarion.phone_calls.machines import verdict_of, voicemail_left

POLL_SECONDS = 0.15  # the verdict may reach another process: the row is read this often
PERSON = frozenset({"human", "unknown"})
GREETING_ENDED = frozenset({"machine_end_beep", "machine_end_silence", "machine_end_other"})
# With DetectMessageEnd Twilio says machine only once the greeting has ended; a bare
# machine_start is given this long for its end to be said before the message is left.
GREETING_SECONDS = 30.0
# Twilio's verdict, decided at its timeout, still has to be posted and read.
DELIVERY_SECONDS = 3.0


async def answered_by_machine(
    database: Database,
    recorder: Recorder,
    call: CallRecord,
    channel: VoiceChannel,
    detection_seconds: float,
) -> EndedReason | Ending | None:
    """None when a person answered (or no verdict came in the ``detection_seconds`` Twilio's
    detection may take): the conversation goes on. Otherwise why the call ended, a message
    left on a machine."""
    answered = await _verdict(database, call.id, detection_seconds + DELIVERY_SECONDS)
    if answered is None or answered in PERSON:
        return None
    await channel.started(call.id)
    if answered == "fax":
        return EndedReason.CUSTOMER_DID_NOT_ANSWER
    reason: EndedReason | Ending = EndedReason.VOICEMAIL
    gone = asyncio.create_task(_until_gone(channel))
    try:
        if answered not in GREETING_ENDED:
            waiting = asyncio.ensure_future(
                _verdict(database, call.id, GREETING_SECONDS, GREETING_ENDED)
            )
            await asyncio.wait((waiting, gone), return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        message = call.configuration.get("voicemail_message")
        if message and not gone.done():
            reason = await _leave(recorder, call.id, channel, message, gone)
    finally:
        gone.cancel()
    await database.write(voicemail_left, call.id)
    return reason


async def _verdict(
    database: Database, call_id: int, seconds: float, among: Collection[str] | None = None
) -> str | None:
    """The call's verdict (one of ``among``, when given) once it is on its row; None when
    none is within ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        answered = await database.read(verdict_of, call_id)
        if answered is not None and (among is None or answered in among):
            return answered
        if asyncio.get_running_loop().time() + POLL_SECONDS > deadline:
            return None
        await asyncio.sleep(POLL_SECONDS)


async def _until_gone(channel: VoiceChannel) -> None:
    """Return once the line hangs up; what the machine says is not answered."""
    while not isinstance(await channel.hear(), HungUp):
        pass


async def _leave(
    recorder: Recorder,
    call_id: int,
    channel: VoiceChannel,
    message: str,
    gone: asyncio.Task[None],
) -> EndedReason | Ending:
    """Speak ``message`` and record what of it was left (all of it, unless the line hung up
    or the voice failed midway); why the call ends."""
    speech = channel.speak()
    reason: EndedReason | Ending = EndedReason.VOICEMAIL
    speaking = asyncio.ensure_future(speech.finish(message.replace("\x00", "")))
    await asyncio.wait((speaking, gone), return_when=asyncio.FIRST_COMPLETED)
    if not speaking.done():
        speaking.cancel()
        await asyncio.wait((speaking,))
    try:
        delivered = speaking.result()
    except (asyncio.CancelledError, Mute) as stopped:
        if isinstance(stopped, Mute):
            reason = Ending(stopped.reason, stopped.detail)
        delivered = await speech.interrupt()
    if delivered.text:
        recorder.record(
            SaidMessage(
                call_id, 0, "assistant", delivered.text, delivered.began_ms, delivered.ended_ms
            )
        )
    await recorder.written()
    await speech.close(delivered)
    return reason
