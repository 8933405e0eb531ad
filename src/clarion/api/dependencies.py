"""What routes declare they need, as typed ``Annotated`` aliases.

The application keeps one :class:`~clarion.services.Services` (made in clarion.app, kept in
``app.state.services``). Routes take what they need from it through the aliases below; fast
lanes take the same pieces directly. The caller is read from the request's headers by
:func:`caller_from`, the one place both do it: an API key in ``Authorization``, or a console
session's cookie with its CSRF token on anything that changes something. Every route says
which role it needs (:data:`ViewerDep`, :data:`EditorDep`, :data:`OwnerDep`), so the server
refuses what a role may not do whatever the page shows.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import cookie_parser
from starlette.types import Scope

from clarion.api.requests import header, json_media_type
from clarion.auth.service import Caller, authenticate
from clarion.database import Database
from clarion.errors import Forbidden, Unauthenticated
from clarion.people.roles import Role
from clarion.people.sign_in import SessionUser, csrf_matches, session_user

if TYPE_CHECKING:
    from clarion.services import Services

MISSING_CREDENTIALS = (
    "missing bearer token: send 'Authorization: Bearer <API key>', or sign in to the console"
)
SESSION_COOKIE = "clarion_session"
CSRF_HEADER = b"x-csrf-token"
# Sent by the console on the requests it makes by itself (keeping a list up to date): they do
# not keep the session from going idle.
BACKGROUND_HEADER = b"x-clarion-background"
MISSING_CSRF = "missing or wrong X-CSRF-Token header: reload the console page"
FIRST_CHANGE_NEEDED = (
    "password: the one-time password must be changed first (POST /v1/session/password)"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


# The Services are the wiring above this package (the engines, the after-call work), so only
# the type checker imports them: FastAPI injects through Depends alone, never by the type.
if TYPE_CHECKING:
    ServicesDep = Annotated[Services, Depends(_services)]
else:
    ServicesDep = Annotated[Any, Depends(_services)]


def bearer_token(authorization: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, parsed as HTTPBearer does."""
    if authorization is None:
        return None
    scheme, token = get_authorization_scheme_param(authorization.decode("latin-1"))
    if not (scheme and token) or scheme.lower() != "bearer":
        return None
    return token


def client_address(scope: Scope) -> str | None:
    """The address a request came from (the proxy's client, when uvicorn trusts the proxy);
    None when it is not an IP address (a forwarded header can say anything)."""
    client = scope.get("client")
    if not client:
        return None
    try:
        return str(ipaddress.ip_address(client[0]))
    except ValueError:
        return None


def session_token(scope: Scope) -> str | None:
    """The console session token in a request's cookie, if it carries one."""
    cookies = header(scope, b"cookie")
    if cookies is None:
        return None
    return cookie_parser(cookies.decode("latin-1")).get(SESSION_COOKIE) or None


async def caller_from(scope: Scope, services: Services, needed: Role) -> Caller:
    """The authenticated caller of a request, if their role may do what ``needed`` may; also
    noted for the request's access line."""
    caller = await _caller_of(scope, services)
    if not caller.role.may(needed):
        raise Forbidden(f"this needs the {needed} role; yours is {caller.role}")
    return caller


async def _caller_of(scope: Scope, services: Services) -> Caller:
    state = scope["state"]
    token = bearer_token(header(scope, b"authorization"))
    if token is not None:
        caller = await authenticate(
            services.database,
            services.key_cache,
            token,
            state.get("request_id"),
            client_address(scope),
        )
    else:
        user = await signed_in(scope, services)
        if user.must_change_password:
            raise Forbidden(FIRST_CHANGE_NEEDED)
        caller = user_caller(scope, user)
    state["organization_id"] = caller.organization_id
    return caller


async def signed_in(scope: Scope, services: Services) -> SessionUser:
    """The console session a request's cookie names, its CSRF token checked on a request
    that changes something; 401 without one, 403 without the token."""
    token = session_token(scope)
    if token is None:
        raise Unauthenticated(MISSING_CREDENTIALS)
    settings = services.settings
    user = await session_user(
        services.database,
        token,
        settings.session_idle,
        settings.session_touch_after,
        person_present=header(scope, BACKGROUND_HEADER) is None,
    )
    if scope.get("method", "GET") not in SAFE_METHODS:
        presented = header(scope, CSRF_HEADER)
        if not csrf_matches(user, None if presented is None else presented.decode("latin-1")):
            raise Forbidden(MISSING_CSRF)
    return user


def user_caller(scope: Scope, user: SessionUser) -> Caller:
    """The caller a console session makes."""
    return Caller(
        organization_id=user.organization_id,
        api_key_id=None,
        request_id=scope["state"].get("request_id"),
        role=user.role,
        user_id=user.user_id,
        address=client_address(scope),
    )


# Declared only so that the OpenAPI document names the contract's security scheme.
_bearer = HTTPBearer(scheme_name="bearerAuth", auto_error=False)


@dataclass(frozen=True, slots=True)
class Authorized:
    """An authenticated request: who is calling, and the services that serve them."""

    caller: Caller
    services: Services

    @property
    def database(self) -> Database:
        """The services' database."""
        return self.services.database


def _authorized_as(needed: Role) -> Any:
    async def authorized(
        request: Request,
        services: ServicesDep,
        _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Authorized:
        return Authorized(await caller_from(request.scope, services, needed), services)

    return Depends(authorized)


ViewerDep = Annotated[Authorized, _authorized_as(Role.VIEWER)]
"""An operation any role may do (reading): the caller, and the services to act for them."""
EditorDep = Annotated[Authorized, _authorized_as(Role.EDITOR)]
"""An operation for editors and owners: changing assistants and credentials, starting web
calls and ending calls."""
OwnerDep = Annotated[Authorized, _authorized_as(Role.OWNER)]
"""An operation for owners: users, API keys, phone numbers, deleting calls, the access log."""


async def _json_body(request: Request, services: ServicesDep) -> bytes:
    json_media_type(request.scope)
    return await services.body_limit.read(request.scope, request.receive)


JsonBody = Annotated[bytes, Depends(_json_body)]
"""The raw body of a request that must be JSON, within the size limit."""
