"""HTTP routes for calls, and the web call's WebSocket. They parse and render; the service
decides, and the live calls hold the conversations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, WebSocket
from starlette.responses import Response
from starlette.websockets import WebSocketState

from clarion.api.dependencies import EditorDep, JsonBody, OwnerDep, ViewerDep
from clarion.api.errors import error_response, failure, headers_of, status_of
from clarion.api.openapi import body_error_responses, error_responses
from clarion.api.openapi import error_response as documented
from clarion.api.requests import LIST_LIMIT_DEFAULT, MAX_ID, Limit, reached_at, resource_id
from clarion.api.responses import json_response
from clarion.api.timestamps import IsoDateTime, as_utc_bound
from clarion.calls import service
from clarion.calls.bodies import read_call_body
from clarion.calls.endings import EndedReason
from clarion.calls.models import WEB_CALL
from clarion.calls.representation import call_json, call_outline_json
from clarion.calls.schemas import Call, CreateCall, CreatedCall
from clarion.database.windows import Window
from clarion.errors import DomainError, InvalidInput, NotFound, Unavailable
from clarion.services import Services, services_of
from clarion.urls import page_url, socket_url

router = APIRouter(prefix="/v1/call", tags=["Calls"])

ERRORS = error_responses(not_found="Call not found")
ITEM = "/{callId}"
CallId = Annotated[str, Path(alias="callId", description="ID of the call (a positive integer)")]
Bound = Annotated[IsoDateTime | None, Query(include_in_schema=False)]


def web_call_url(services: Services, reached_at: str, call_id: int, token: str) -> str:
    """Where the call's caller joins it: under the public URL when one is set, else under
    the address the request came to."""
    return f"{socket_url(_base(services, reached_at))}/v1/call/{call_id}/web?token={token}"


def web_call_page_url(services: Services, reached_at: str, call_url: str) -> str:
    """The page that joins the call at ``call_url`` from a browser, under the same base.

    The call's URL, token and all, is the fragment: a browser never sends it, so it reaches
    no server's log, the page reading it from its own address."""
    return f"{page_url(_base(services, reached_at))}/talk#{call_url}"


def _base(services: Services, reached_at: str) -> str:
    """The public URL when one is set, else the address the request came to."""
    return (services.settings.public_url or reached_at).rstrip("/")


@router.post(
    "",
    status_code=201,
    response_model=CreatedCall,
    responses={
        **ERRORS,
        **body_error_responses(),
        **documented(429, "The organization has as many live calls as it may"),
        **documented(503, "The server is shutting down"),
    },
    openapi_extra={
        "requestBody": {
            "description": "The new call",
            "required": True,
            "content": {"application/json": {"schema": CreateCall.model_json_schema()}},
        }
    },
    summary="Create Call",
)
async def create_call(auth: EditorDep, raw: JsonBody, request: Request) -> Response:
    """Creates a call of one of the caller's assistants. The answer's `web_call_url` (shown
    only here) is where the caller joins it, over a WebSocket, within a minute;
    `web_call_page_url` is a page that joins it from a browser, with its microphone and
    speaker. A web call needs the editor role, a phone call the owner role."""
    services = auth.services
    if not services.live_calls.accepting:
        raise Unavailable("the server is shutting down and takes no new calls; try again")
    fields = read_call_body(raw)
    call, token = await auth.database.write(
        service.create_call, auth.caller, fields, services.settings, services.secrets
    )
    shown = call_json(call, [])
    if call.call_type == WEB_CALL:
        came_to = reached_at(request)
        shown["web_call_url"] = web_call_url(services, came_to, call.id, token)
        shown["web_call_page_url"] = web_call_page_url(services, came_to, shown["web_call_url"])
    else:
        services.dialer.due.set()
    return json_response(shown, 201)


@router.get("", response_model=list[Call], responses=ERRORS, summary="List Calls")
async def list_calls(
    auth: ViewerDep,
    limit: Limit = LIST_LIMIT_DEFAULT,
    createdAtGe: Annotated[
        IsoDateTime | None,
        Query(description="Only calls created at or after this ISO 8601 time (UTC if no zone)"),
    ] = None,
    createdAtLe: Annotated[
        IsoDateTime | None,
        Query(description="Only calls created at or before this ISO 8601 time (UTC if no zone)"),
    ] = None,
    created_at_ge: Bound = None,
    created_at_le: Bound = None,
    assistant_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this assistant's calls")
    ] = None,
    call_status: Annotated[
        Literal["queued", "in-progress", "ended"] | None,
        Query(description="Only calls in this state"),
    ] = None,
    ended_reason: Annotated[
        EndedReason | None, Query(description="Only calls that ended for this reason")
    ] = None,
    include_messages: Annotated[
        bool,
        Query(
            description="false: the calls without the conversation, as a page listing calls "
            "needs them: each call's id, organization_id, assistant_id, call_type, "
            "call_status, started_at, ended_at, duration_ms, ended_reason, created_at and "
            "updated_at only; no messages, transcript, summary, analysis, outcome, "
            "failure_reason, failure_detail, name, source_number or destination_number "
            "(nothing the patient or the model said, nothing that names the patient). Such "
            "a list is not a read in the access log."
        ),
    ] = True,
) -> Response:
    """Lists the caller's calls, newest first (ties: highest id first), with their messages;
    each call listed is a read in the access log unless `include_messages` is false.
    `created_at_ge` and `created_at_le` are accepted for `createdAtGe` and `createdAtLe`."""
    window = Window(
        limit,
        as_utc_bound(_one_of(createdAtGe, created_at_ge, "createdAtGe")),
        as_utc_bound(_one_of(createdAtLe, created_at_le, "createdAtLe")),
    )
    filters: dict[str, Any] = {}
    if assistant_id is not None:
        filters["assistant_id"] = assistant_id
    if call_status is not None:
        filters["call_status"] = call_status
    if ended_reason is not None:
        filters["ended_reason"] = ended_reason.value
    if include_messages:
        listed = await auth.database.write(service.list_calls, auth.caller, window, filters)
        return json_response([call_json(call, said) for call, said in listed])
    outlined = await auth.database.read(
        service.list_calls, auth.caller, window, filters, messages=False
    )
    return json_response([call_outline_json(call) for call, _said in outlined])


def _one_of(clarion: Any, snake: Any, name: str) -> Any:
    if clarion is not None and snake is not None:
        raise InvalidInput(f"query parameter {name!r}: given twice, under two names")
    return clarion if clarion is not None else snake


@router.get(ITEM, response_model=Call, responses=ERRORS, summary="Get Call")
async def get_call(call_id: CallId, auth: ViewerDep) -> Response:
    """Returns one call, with what was said in it."""
    call, said = await auth.database.write(
        service.get_call, auth.caller, resource_id(call_id, "call")
    )
    return json_response(call_json(call, said))


@router.post(
    ITEM + "/web-call-url",
    response_model=CreatedCall,
    responses={**ERRORS, **documented(409, "The call has been joined, or has ended")},
    summary="Issue Web Call URL",
)
async def issue_web_call_url(call_id: CallId, auth: EditorDep, request: Request) -> Response:
    """Issues a web call's `web_call_url` (and `web_call_page_url`) again, with a new join
    window, while nobody has joined the call: a link that ran out unused is not a dead end.
    The URL issued before no longer joins the call."""
    services = auth.services
    call, token = await auth.database.write(
        service.new_web_call_token, auth.caller, resource_id(call_id, "call")
    )
    shown = call_json(call, [])
    came_to = reached_at(request)
    shown["web_call_url"] = web_call_url(services, came_to, call.id, token)
    shown["web_call_page_url"] = web_call_page_url(services, came_to, shown["web_call_url"])
    return json_response(shown)


@router.post(ITEM + "/end", response_model=Call, responses=ERRORS, summary="End Call")
async def end_call(call_id: CallId, auth: EditorDep) -> Response:
    """Ends a live call as `manually-canceled` (a call that has ended is left as it is) and
    returns it."""
    services = auth.services
    call, said = await auth.database.write(
        service.cancel_call, auth.caller, resource_id(call_id, "call"), services.call_ended
    )
    return json_response(call_json(call, said))


@router.delete(ITEM, response_model=Call, responses=ERRORS, summary="Delete Call")
async def delete_call(call_id: CallId, auth: OwnerDep) -> Response:
    """Ends the call if it is live, then deletes it and everything said in it; returns the
    call as it was. Its analysis and report are not made."""
    services = auth.services
    call, said = await auth.database.write(
        service.delete_call, auth.caller, resource_id(call_id, "call"), services.call_ended
    )
    return json_response(call_json(call, said))


@router.websocket(ITEM + "/web")
async def web_call(websocket: WebSocket, call_id: CallId) -> None:
    """The web call: joined with the token of its `web_call_url`, held until it ends; with
    `&audio=pcm16`, a voice call."""
    services = services_of(websocket.app)
    token = websocket.query_params.get("token", "")
    audio = websocket.query_params.get("audio")
    if audio not in (None, "pcm16"):
        await _refuse(websocket, 400, "audio: the one audio format is pcm16 (16-bit PCM, 16 kHz)")
        return
    try:
        target = resource_id(call_id, "call")
    except NotFound:  # not a call id at all: refused as any call not to be joined is
        await _refuse(websocket, 403, "token: it does not open this call")
        return
    try:
        await services.live_calls.hold(websocket, target, token, audio == "pcm16")
    except DomainError as refusal:
        await _refuse(websocket, status_of(refusal), refusal.message, headers_of(refusal))
    except Exception as exc:
        # Logged once here (the database away: a warning; anything else: the traceback).
        status, message, headers = failure(exc, "GET", websocket.url.path)
        if websocket.client_state == WebSocketState.CONNECTING:
            await _refuse(websocket, status, message, headers)
        # Once accepted, the caller was told call-ended before this (clarion.engine.live); a
        # call whose end could not be recorded is ended by the reaper when its lease runs out.


async def _refuse(
    websocket: WebSocket, status: int, message: str, headers: Mapping[str, str] | None = None
) -> None:
    """Refuse the upgrade with the Error body (or, on a server that cannot, close with
    4000 + the status)."""
    try:
        await websocket.send_denial_response(error_response(status, message, headers))
    except RuntimeError:
        await websocket.close(4000 + status, message[:120])
