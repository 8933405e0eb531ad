"""HTTP routes for console sign-in and sessions, and for owners managing their users."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from clarion.api.dependencies import (
    SESSION_COOKIE,
    JsonBody,
    OwnerDep,
    ServicesDep,
    client_address,
    signed_in,
    user_caller,
)
from clarion.api.openapi import error_responses
from clarion.api.requests import json_object, resource_id
from clarion.api.responses import json_response
from clarion.errors import InvalidInput, Unauthenticated
from clarion.people import service
from clarion.people.passwords import checked_new_password, one_time_password
from clarion.people.service import NewUser, checked_role, normalized_email
from clarion.people.sign_in import WRONG, SessionUser, confirm_password, sign_in, sign_out

router = APIRouter(tags=["Console users"])

ERRORS = error_responses(not_found="User not found")
UserId = Annotated[str, Path(alias="userId", description="ID of the user")]


def _session_json(user: SessionUser) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "organization_id": user.organization_id,
        "email": user.email,
        "role": user.role.value,
        "csrf_token": user.csrf_token,
        "must_change_password": user.must_change_password,
    }


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: required, a string")
    return value


@router.post("/v1/session", status_code=201, responses=ERRORS, summary="Sign In")
async def create_session(request: Request, raw: JsonBody, services: ServicesDep) -> Response:
    """Signs a console user in: the session is in an HttpOnly, SameSite=Strict cookie, and the
    response carries the `csrf_token` to send as `X-CSRF-Token` on every change. The same
    401 answers an unknown address, a wrong password and a disabled account; after repeated
    failures an account or address is refused with 429 for a while."""
    document = json_object(raw, frozenset())
    try:
        email = normalized_email(_text(document, "email"))
    except InvalidInput:
        raise Unauthenticated(WRONG) from None  # a malformed address is just a wrong one
    password = _text(document, "password")
    address = client_address(request.scope) or "unknown"
    opened = await sign_in(
        services.database,
        services.passwords,
        email,
        password,
        address,
        services.settings.session_idle,
    )
    response = json_response(_session_json(opened.session), 201)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        httponly=True,
        samesite="strict",
        secure=_over_https(request, services.settings.public_url),
        path="/",
    )
    return response


def _over_https(request: Request, public_url: str | None) -> bool:
    """Whether browsers reach the console over TLS: this request came over https, or the
    server's public URL is https (a proxy in front ends TLS and speaks plain http to us)."""
    public_scheme = urlsplit(public_url).scheme if public_url else None
    return request.url.scheme == "https" or public_scheme in ("https", "wss")


@router.get("/v1/session", responses=ERRORS, summary="Get Session")
async def get_session(request: Request, services: ServicesDep) -> Response:
    """The signed-in user, their role and the session's CSRF token."""
    return json_response(_session_json(await signed_in(request.scope, services)))


@router.delete("/v1/session", status_code=204, responses=ERRORS, summary="Sign Out")
async def delete_session(request: Request, services: ServicesDep) -> Response:
    """Signs out: the session ends on the server, whatever copy of the cookie remains."""
    user = await signed_in(request.scope, services)
    await sign_out(services.database, user.session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post("/v1/session/password", responses=ERRORS, summary="Change Password")
async def change_password(request: Request, raw: JsonBody, services: ServicesDep) -> Response:
    """Changes the signed-in user's password (`current_password`, `new_password`: 12 to 256
    characters); their other sessions end."""
    user = await signed_in(request.scope, services)
    document = json_object(raw, frozenset())
    current = _text(document, "current_password")
    new = checked_new_password(document.get("new_password"), "new_password")
    if new == current:
        raise InvalidInput("new_password: must differ from the current password")
    caller = user_caller(request.scope, user)
    stored = await services.database.read(service.password_hash_of, caller)
    address = client_address(request.scope) or "unknown"
    if not await confirm_password(
        services.database, services.passwords, user.email, address, stored, current
    ):
        raise InvalidInput("current_password: is not the password of this account")
    new_hash = await services.passwords.hash_off_loop(new)
    return json_response(
        await services.database.write(service.change_password, caller, new_hash, user.session_id)
    )


@router.get("/v1/user", responses=ERRORS, summary="List Users")
async def list_users(auth: OwnerDep) -> Response:
    """The organization's console users, oldest first."""
    return json_response(await auth.database.read(service.list_users, auth.caller.organization_id))


@router.post("/v1/user", status_code=201, responses=ERRORS, summary="Invite User")
async def create_user(auth: OwnerDep, raw: JsonBody) -> Response:
    """Adds a console user (`email`, `role`: viewer, editor or owner). The response's
    `password` is a one-time password, shown only here, which must be changed at first
    sign-in."""
    document = json_object(raw, frozenset({"user_id", "password", "created_at"}))
    email = normalized_email(document.get("email"))
    role = checked_role(document.get("role"))
    password = one_time_password()
    password_hash = await auth.services.passwords.hash_off_loop(password)
    user = await auth.database.write(
        service.add_user,
        auth.caller.organization_id,
        NewUser(email, role, password_hash, must_change_password=True),
    )
    return json_response({**user, "password": password}, 201)


@router.post("/v1/user/{userId}/disable", responses=ERRORS, summary="Disable User")
async def disable_user(user_id: UserId, auth: OwnerDep) -> Response:
    """Disables a user: their sessions end now, they cannot sign in again, and the API keys
    they created are revoked (`revoked_api_keys` says how many)."""
    return json_response(
        await auth.database.write(
            service.disable_user,
            auth.caller.organization_id,
            resource_id(user_id, "user"),
            auth.caller,
        )
    )
