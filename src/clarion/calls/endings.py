"""Why a call ended: the one closed set of ``ended_reason`` values, in Clarion's words.

Whoever ends a call first (the conversation, a request, the drain, the reaper) records one of
these; the API shows it and the report carries it.
"""

from __future__ import annotations

from enum import StrEnum


class EndedReason(StrEnum):
    """Why a call ended."""

    CUSTOMER_ENDED = "customer-ended"
    """The person hung up (a hangup frame, or the line closed)."""
    ASSISTANT_ENDED = "assistant-ended"
    """The model ended the call with its end_call tool."""
    SILENCE_TIMED_OUT = "silence-timed-out"
    """The person said nothing for the assistant's silence timeout."""
    EXCEEDED_MAX_DURATION = "exceeded-max-duration"
    """The call reached its maximum duration."""
    CUSTOMER_DID_NOT_ANSWER = "customer-did-not-answer"
    """Nobody joined the call in time (or answered the phone)."""
    CUSTOMER_BUSY = "customer-busy"
    """The number called was busy."""
    TWILIO_FAILED_TO_CONNECT_CALL = "twilio-failed-to-connect-call"
    """Twilio could not place the call or connect its stream; ``failure_detail`` says why."""
    VOICEMAIL = "voicemail"
    """An answering machine took the call (and the voicemail message was left, if any)."""
    MANUALLY_CANCELED = "manually-canceled"
    """A request ended (or deleted) the call."""
    PIPELINE_ERROR_LLM = "pipeline-error-llm"
    """The language model failed, or could not be reached."""
    PIPELINE_ERROR_TRANSCRIBER = "pipeline-error-transcriber"
    """The transcriber failed, or could not be reached."""
    PIPELINE_ERROR_VOICE = "pipeline-error-voice"
    """The voice failed, or could not be reached."""
    PIPELINE_ERROR = "pipeline-error"
    """The server itself failed the call (its database, say), not a provider."""
    SERVER_SHUTDOWN = "server-shutdown"
    """The server holding the call stopped before the call ended."""
    WORKER_DIED = "worker-died"
    """The process holding the call died: its lease ran out."""
