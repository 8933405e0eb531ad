"""The bearer-token dependency every authenticated route declares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from clarion.auth.cache import KeyCache
from clarion.auth.keys import key_digest, looks_like_key
from clarion.auth.service import Caller, find_key
from clarion.db import Database
from clarion.errors import Unauthenticated

# scheme_name matches the contract's security scheme; auto_error off so that a missing header
# gets our Error body and a 401 rather than the framework's 403.
_bearer = HTTPBearer(scheme_name="bearerAuth", auto_error=False)


MISSING_CREDENTIALS = "missing bearer token: send 'Authorization: Bearer <API key>'"


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def current_caller(
    request: Request,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise Unauthenticated(MISSING_CREDENTIALS)
    caller = await authenticate(
        database, request.app.state.key_cache, credentials.credentials, request.state.request_id
    )
    request.state.organization_id = caller.organization_id  # for the access log line
    return caller


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, parsed as HTTPBearer does."""
    scheme, token = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and token) or scheme.lower() != "bearer":
        return None
    return token


async def authenticate(
    database: Database, cache: KeyCache, presented_key: str, request_id: str | None
) -> Caller:
    """The caller a presented key belongs to; 401 for an unknown or revoked key."""
    if not looks_like_key(presented_key):
        raise Unauthenticated("invalid or revoked API key")
    digest = key_digest(presented_key)
    found = cache.get(digest)
    if found is None:
        found = await database.read(find_key, digest)
        if found is None:
            raise Unauthenticated("invalid or revoked API key")
        cache.put(digest, *found)
    return Caller(api_key_id=found[0], organization_id=found[1], request_id=request_id)


CallerDep = Annotated[Caller, Depends(current_caller)]
