"""Twilio's side of clarion: the voice URL a clinic's number points at, and the Media
Stream of each call. Every request from Twilio is checked against the number's auth token;
a stream is taken only with its call's one-time token."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Request, WebSocket
from starlette.responses import Response

from clarion.api.requests import reached_at, resource_id
from clarion.database import Unit
from clarion.errors import Forbidden, InvalidInput, NotFound
from clarion.phone_calls.callbacks import call_status
from clarion.phone_calls.inbound import answer_inbound_call, number_signed_for
from clarion.phone_calls.lines import stream_url
from clarion.phone_calls.machines import take_verdict
from clarion.services import Services, services_of
from clarion.storage.secret_box import SecretBox
from clarion.telephony.twiml import connect_stream, reject

router = APIRouter(include_in_schema=False)

TWIML = "application/xml"
# What a signed callback does to its call: (unit, call id, url, params, signature, secrets).
CallbackMove = Callable[[Unit, int, str, Sequence[tuple[str, str]], str | None, SecretBox], None]
CallId = Annotated[str, Path(alias="callId")]


@router.post("/v1/telephony/twilio/voice")
async def twilio_voice(request: Request) -> Response:
    """A call to one of the organizations' numbers: answered by the number's assistant
    over a Media Stream, or rejected when no one can answer it."""
    services = services_of(request.app)
    params = await _form(request, services)
    fields = dict(params)
    number, account_sid = fields.get("To", ""), fields.get("AccountSid", "")
    call_sid, caller_number = fields.get("CallSid", ""), fields.get("From", "")
    if not (number and account_sid and call_sid):
        raise InvalidInput("To, AccountSid and CallSid: a Twilio voice request carries them")
    url = public_form(services, str(request.url))
    signature = request.headers.get("x-twilio-signature")
    found = await services.database.read(
        number_signed_for, number, account_sid, url, params, signature, services.secrets
    )
    if found is None:
        raise Forbidden("X-Twilio-Signature: missing, or not signed for this number")
    answered = await services.database.write(
        answer_inbound_call,
        found,
        caller_number[:32],
        call_sid[:64],
        services.settings,
        services.secrets,
    )
    if answered is None:
        return Response(reject(), media_type=TWIML)
    call, token = answered
    return Response(
        connect_stream(_stream_url(services, request, call.id), token), media_type=TWIML
    )


@router.post("/v1/telephony/twilio/status")
async def twilio_status(request: Request) -> Response:
    """Twilio's word on an outbound call (``?call_id=`` names it): rung out, busy, failed."""
    services = services_of(request.app)
    await _take_callback(request, services, call_status)
    services.live_calls.after_call_due.set()
    return Response(status_code=204)


@router.post("/v1/telephony/twilio/amd")
async def twilio_answering_machine(request: Request) -> Response:
    """Twilio's answering-machine verdict on an outbound call (``?call_id=`` names it):
    whether a person, a machine or a fax answered."""
    await _take_callback(request, services_of(request.app), take_verdict)
    return Response(status_code=204)


async def _take_callback(request: Request, services: Services, move: CallbackMove) -> None:
    """Apply a signed callback about the call ``?call_id=`` names with ``move``; one naming
    no call of clarion's changes nothing."""
    params = await _form(request, services)
    try:
        call_id = resource_id(request.query_params.get("call_id", ""), "call")
    except NotFound:
        return
    url = public_form(services, str(request.url))
    signature = request.headers.get("x-twilio-signature")
    await services.database.write(move, call_id, url, params, signature, services.secrets)


@router.websocket("/v1/call/{callId}/twilio")
async def twilio_stream(websocket: WebSocket, call_id: CallId) -> None:
    """A phone call's Media Stream: held by the call's assistant once its ``start`` brings
    the call's token; closed with 1008 before any audio otherwise."""
    services = services_of(websocket.app)
    await websocket.accept()
    try:
        target = resource_id(call_id, "call")
    except NotFound:
        await websocket.close(1008)
        return
    await services.live_calls.hold_stream(websocket, target)


def _stream_url(services: Services, request: Request, call_id: int) -> str:
    """Where Twilio opens the call's stream: under the public URL when one is set, else
    under the address the request came to."""
    return stream_url(services.settings.public_url or reached_at(request), call_id)


def public_form(services: Services, url: str) -> str:
    """``url`` as Twilio reached it: under CLARION_PUBLIC_URL when one is set (behind a
    proxy, what Twilio signed is the public address, not the one the server sees)."""
    public = services.settings.public_url
    if public is None:
        return url
    path = url.partition("://")[2].partition("/")[2]
    return f"{public.rstrip('/')}/{path}"


async def _form(request: Request, services: Services) -> list[tuple[str, str]]:
    """The form Twilio posted, within the body limit."""
    body = await services.body_limit.read(request.scope, request.receive)
    try:
        return parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidInput("the body must be a form (application/x-www-form-urlencoded)") from None
