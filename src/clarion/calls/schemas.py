"""What the API accepts and returns for calls, in Clarion's names."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clarion.api.requests import MAX_ID
from clarion.calls.endings import EndedReason
from clarion.calls.models import NAME_MAX

CallType = Literal["webCall", "outboundPhoneCall", "inboundPhoneCall"]
CallStatus = Literal["queued", "ringing", "in-progress", "forwarding", "ended"]
E164 = Annotated[
    str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164", examples=["+15555550123"])
]


class CreateCall(BaseModel):
    """A new call. Only ``assistant_id`` is required; ``call_type`` defaults to ``webCall``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    assistant_id: Annotated[
        int, Field(ge=1, le=MAX_ID, description="The assistant that holds the call")
    ]
    name: Annotated[str, Field(max_length=NAME_MAX)] | None = None
    call_type: CallType = Field(
        "webCall",
        description="webCall: the caller joins over a WebSocket at web_call_url. "
        "outboundPhoneCall: the assistant phones destination_phone_number from the "
        "organization's number source_phone_number_id, placed through Twilio as soon as the "
        "organization's live-call limit allows (until then it waits, queued); it needs "
        "the owner role. inboundPhoneCall calls are made by patients phoning a number.",
    )
    task_parameters: dict[str, Any] | None = Field(
        None,
        description="Keys naming a configurable assistant field (first_message, model, voice, "
        "transcriber, max_duration_seconds, voicemail_message, analysis_plan, "
        "silence_timeout_seconds) "
        "override it for this call; every other key is a variable whose value (a string, "
        "number or boolean) fills {{key}} in the call's texts.",
    )
    source_phone_number_id: (
        Annotated[
            int,
            Field(ge=1, le=MAX_ID, description="An outbound call's: the number it is made from"),
        ]
        | None
    ) = None
    destination_phone_number: Annotated[
        E164 | None, Field(description="An outbound call's: the number it calls")
    ] = None


class CallMessage(BaseModel):
    """One message of the conversation."""

    role: Literal["assistant", "user"]
    message: str
    time: int = Field(description="Unix time in milliseconds when it began")
    endTime: int = Field(description="Unix time in milliseconds when it ended")
    secondsFromStart: float
    duration: int = Field(description="Milliseconds")


class CallAnalysis(BaseModel):
    """What the post-call analysis found."""

    structuredData: Any = None
    successEvaluation: bool | float | str | None = None
    structuredDataError: str | None = Field(
        None, description="Why there is no structuredData although the plan asked for it"
    )


class Call(BaseModel):
    """A call. Fields without a value are left out; a list without messages shows only the
    fields that say nothing of the conversation or the patient (see `include_messages`)."""

    id: int
    organization_id: int
    assistant_id: int
    name: str | None = None
    call_type: CallType
    call_status: CallStatus
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None
    ended_reason: EndedReason | None = None
    messages: list[CallMessage] = Field(default_factory=list)
    transcript: str | None = Field(None, description="Lines labelled 'AI:' and 'User:'")
    analysis: CallAnalysis | None = None
    summary: str | None = None
    outcome: str | None = None
    failure_reason: str | None = None
    failure_detail: str | None = Field(
        None,
        description="Why a phone call could not be connected, as the carrier said it (its "
        "error code and message, which may quote the number called); never anything said "
        "in the call",
    )
    source_number: str | None = None
    destination_number: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class CreatedCall(Call):
    """A new call, with the URL its caller joins it at, and a page that joins it there."""

    web_call_url: str | None = Field(
        None,
        description="A web call's: ws:// or wss:// URL of the call's WebSocket, with a token "
        "good for this call only and for one connection. Shown only here.",
    )
    web_call_page_url: str | None = Field(
        None,
        description="A web call's: a page that joins the call with the browser's microphone "
        "and speaker: /talk, with web_call_url after the # (the fragment never reaches a "
        "server, so the token stays out of its logs). Shown only here.",
    )
