"""What routes declare they need, as typed ``Annotated`` aliases.

The application keeps one :class:`~clarion.services.Services` (made in clarion.app, kept in
``app.state.services``). Routes take what they need from it through the aliases below; fast
lanes take the same pieces directly. The caller is read from the request's headers by
:func:`caller_from`, the one place both do it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Scope

from clarion.api.requests import header, json_media_type
from clarion.auth.service import Caller, authenticate
from clarion.database import Database
from clarion.errors import Unauthenticated

if TYPE_CHECKING:
    from clarion.services import Services

MISSING_CREDENTIALS = "missing bearer token: send 'Authorization: Bearer <API key>'"


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


async def caller_from(scope: Scope, services: Services) -> Caller:
    """The authenticated caller of a request, also noted for its access line."""
    token = bearer_token(header(scope, b"authorization"))
    if token is None:
        raise Unauthenticated(MISSING_CREDENTIALS)
    state = scope["state"]
    caller = await authenticate(
        services.database, services.key_cache, token, state.get("request_id")
    )
    state["organization_id"] = caller.organization_id
    return caller


# Declared only so that the OpenAPI document names the contract's security scheme.
_bearer = HTTPBearer(scheme_name="bearerAuth", auto_error=False)


async def _caller(
    request: Request,
    services: ServicesDep,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return await caller_from(request.scope, services)


CallerDep = Annotated[Caller, Depends(_caller)]


@dataclass(frozen=True, slots=True)
class Authorized:
    """An authenticated request: who is calling, and the services that serve them."""

    caller: Caller
    services: Services

    @property
    def database(self) -> Database:
        """The services' database."""
        return self.services.database


async def _authorized(caller: CallerDep, services: ServicesDep) -> Authorized:
    return Authorized(caller, services)


AuthorizedDep = Annotated[Authorized, Depends(_authorized)]
"""What most operations need: the caller, and the services to act for them."""


async def _json_body(request: Request, services: ServicesDep) -> bytes:
    json_media_type(request.scope)
    return await services.body_limit.read(request.scope, request.receive)


JsonBody = Annotated[bytes, Depends(_json_body)]
"""The raw body of a request that must be JSON, within the size limit."""
