"""The bearer-token dependency every authenticated route declares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clarion.auth.service import Caller, authenticate
from clarion.db import Database
from clarion.errors import Unauthenticated

# scheme_name matches the contract's security scheme; auto_error off so that a missing header
# gets our Error body and a 401 rather than the framework's 403.
_bearer = HTTPBearer(scheme_name="bearerAuth", auto_error=False)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def current_caller(
    request: Request,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <API key>'")
    request_id = getattr(request.state, "request_id", None)
    caller = await database.read(authenticate, credentials.credentials, request_id)
    if caller is None:
        raise Unauthenticated("invalid or revoked API key")
    request.state.organization_id = caller.organization_id  # for the access log line
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
