"""The minimal compliant handler: the floor plus the least that any handler meeting the API's
standards does on every request (bench/floor.py runs it).

Written out in one function per call, with nothing of clarion's but the contract's field list
and validation model (pydantic), it answers GET and PATCH of one assistant over the floor's
connection:

- both: the request id (the client's when sane, else a new one) and X-Request-Id; the bearer
  key's shape, SHA-256 digest and a one-second cache of known digests (the database on a
  miss); the assistant's id from the path; the organization in every statement; 401 and 404
  in the API's error body; the Assistant representation (timestamps in UTC, stored documents
  as they are) and its ETag; one JSON access line per request, flushed once per loop turn;
- PATCH: the content type, the body size limit, the body parsed and checked against
  UpdateAssistant, If-Match, and the write as clarion makes it: the PATCHes of one loop turn
  share one BEGIN IMMEDIATE and COMMIT, each in a savepoint, reading the row, writing the
  columns that changed with the next version, and inserting the version record.

What it leaves out is structure: no routing table, service or repository layers, no
compiled-statement cache, no shared error handling beyond one try. A handler with any of
that, clarion included, can only fall below its figures.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
import secrets
import sys
import time
from typing import Any

import orjson
from floor_app import cursor, grouped, lifespan
from pydantic import ValidationError

from clarion.assistants.fields import CONFIGURABLE_FIELDS
from clarion.assistants.schemas import UpdateAssistant

PREFIX = "/v1/assistant/"
ROUTE = "/v1/assistant/{assistantId}"
MAX_BODY_BYTES = 1 << 20
KEY_PREFIX = "clarion_sk_"
KEY_LENGTH = len(KEY_PREFIX) + 43
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
ID = re.compile(r"[1-9][0-9]{0,17}")
JSON_OPTIONS = orjson.OPT_UTC_Z

FIELDS = CONFIGURABLE_FIELDS  # name, model, voice, ..., analysis_plan: SELECT's order below
DOCUMENTS = frozenset(("model", "voice", "analysis_plan"))
COLUMNS = ", ".join(("id", "organization_id", *FIELDS, "webhook_secret_encrypted IS NOT NULL"))
SELECT = (
    f"SELECT {COLUMNS}, created_at, updated_at, version FROM assistants "
    "WHERE id = ? AND organization_id = ?"
)
FIND_KEY = "SELECT id, organization_id FROM api_keys WHERE digest = ? AND revoked_at IS NULL"
INSERT_VERSION = (
    "INSERT INTO assistant_versions (organization_id, assistant_id, version, action, "
    "configuration, changed_fields, created_at, api_key_id, request_id) "
    "VALUES (?, ?, ?, 'updated', ?, ?, ?, ?, ?)"
)
# Row positions: id, organization_id, the FIELDS, secret set, created_at, updated_at, version.
SECRET_SET, CREATED, UPDATED, VERSION = 10, 11, 12, 13

known_keys: dict[str, tuple[float, int, int]] = {}
fresh_ids: list[str] = []
access_lines = open(sys.stderr.fileno(), "wb", closefd=False)
flush_pending = False
second = (-1, "")  # the current second's text: formatting a date is the costly part
updates: dict[tuple[str, ...], str] = {}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    started = time.perf_counter()
    headers = dict(scope["headers"])
    request_id = headers.get(b"x-request-id", b"").decode("latin-1")
    if not SANE_REQUEST_ID.fullmatch(request_id):
        request_id = new_request_id()
    organization_id = None
    extra: list[tuple[bytes, bytes]] = []
    try:
        path = scope["path"]
        if not path.startswith(PREFIX) or not ID.fullmatch(path, len(PREFIX)):
            raise Refused(404, f"no route for {path}")
        key_id, organization_id = authenticate(headers.get(b"authorization"))
        assistant_id = int(path[len(PREFIX) :])
        if scope["method"] == "GET":
            row = read(assistant_id, organization_id)
        elif scope["method"] == "PATCH":
            unit = (assistant_id, organization_id, key_id, request_id)
            row = await update(receive, headers, unit)
        else:
            raise Refused(405, f"method {scope['method']} is not allowed here")
        if row is None:
            raise Refused(404, f"assistant {assistant_id} not found")
        body = orjson.dumps(representation(row), option=JSON_OPTIONS)
        status = 200
        extra.append((b"etag", b'"v%d"' % row[VERSION]))
    except Refused as refused:
        status = refused.status
        body = orjson.dumps({"error": status, "message": refused.message})
    except Exception:
        logging.getLogger("minimal").exception("unhandled error")
        status, body = 500, b'{"error":500,"message":"internal server error"}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
                (b"x-request-id", request_id.encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    write_access_line(scope["method"], status, started, organization_id, request_id)


def authenticate(authorization: bytes | None) -> tuple[int, int]:
    scheme, _, token = (authorization or b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or len(token) != KEY_LENGTH or not token.startswith(KEY_PREFIX):
        raise Refused(401, "invalid or revoked API key")
    digest = hashlib.sha256(token.encode()).hexdigest()
    now = time.monotonic()
    known = known_keys.get(digest)
    if known is None or known[0] < now:
        found = cursor.execute(FIND_KEY, (digest,)).fetchall()
        if not found:
            raise Refused(401, "invalid or revoked API key")
        known = known_keys[digest] = (now + 1.0, *found[0])
    return known[1], known[2]


def read(assistant_id: int, organization_id: int) -> list[Any] | None:
    rows = cursor.execute(SELECT, (assistant_id, organization_id)).fetchall()
    if not rows:
        return None
    row = list(rows[0])
    for position in (3, 4, 9):  # model, voice, analysis_plan: written out as stored
        if row[position] is not None:
            row[position] = orjson.Fragment(row[position])
    return row


async def update(
    receive: Any, headers: dict[bytes, bytes], unit: tuple[int, int, int, str]
) -> list[Any] | None:
    if headers.get(b"content-type", b"application/json") != b"application/json":
        raise Refused(415, "Content-Type: send application/json")
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, "request body is larger than the limit")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    try:
        changes = orjson.loads(b"".join(chunks))
        UpdateAssistant.model_validate(changes)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, f"request body is not valid JSON: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Refused(400, f"{'.'.join(map(str, error['loc']))}: {error['msg']}") from None
    return await grouped(write, *unit, headers.get(b"if-match"), changes)


def write(
    assistant_id: int,
    organization_id: int,
    key_id: int,
    request_id: str,
    if_match: bytes | None,
    changes: dict[str, Any],
) -> list[Any] | None:
    rows = cursor.execute(SELECT, (assistant_id, organization_id)).fetchall()
    if not rows:
        return None
    row = list(rows[0])
    if if_match is not None and if_match not in (b"*", b'"v%d"' % row[VERSION]):
        raise Refused(412, "If-Match does not match the assistant's current ETag")
    for position in (3, 4, 9):
        if row[position] is not None:
            row[position] = orjson.loads(row[position])
    changed = []
    for position, field in enumerate(FIELDS, start=2):
        if field in changes and row[position] != changes[field]:
            row[position] = changes[field]
            changed.append(field)
    if not changed:
        return row
    now = dt.datetime.now(dt.UTC).isoformat(" ", "microseconds")[:26]
    row[UPDATED], row[VERSION] = now, row[VERSION] + 1
    columns = tuple(changed)
    statement = updates.get(columns)
    if statement is None:
        assignments = "".join(f"{name} = ?, " for name in columns)
        statement = updates[columns] = (
            f"UPDATE assistants SET {assignments}updated_at = ?, version = ? "
            "WHERE id = ? AND organization_id = ?"
        )
    values = [
        orjson.dumps(changes[name]).decode() if name in DOCUMENTS else changes[name]
        for name in columns
    ]
    cursor.execute(statement, (*values, now, row[VERSION], assistant_id, organization_id))
    configuration = {
        field: row[position]
        for position, field in enumerate(FIELDS, start=2)
        if row[position] is not None
    }
    configuration["is_webhook_secret_set"] = bool(row[SECRET_SET])
    cursor.execute(
        INSERT_VERSION,
        (
            organization_id,
            assistant_id,
            row[VERSION],
            orjson.dumps(configuration).decode(),
            orjson.dumps(changed).decode(),
            now,
            key_id,
            request_id,
        ),
    )
    return row


def representation(row: list[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row[0],
        "organization_id": row[1],
        "created_at": dt.datetime.fromisoformat(row[CREATED] + "+00:00"),
        "updated_at": dt.datetime.fromisoformat(row[UPDATED] + "+00:00"),
        "name": row[2],
    }
    for position, field in enumerate(FIELDS[1:], start=3):
        if row[position] is not None:
            body[field] = row[position]
    body["is_webhook_secret_set"] = bool(row[SECRET_SET])
    return body


def new_request_id() -> str:
    if not fresh_ids:
        pool = secrets.token_hex(16 * 256)
        fresh_ids.extend(pool[start : start + 32] for start in range(0, len(pool), 32))
    return fresh_ids.pop()


def write_access_line(
    method: str, status: int, started: float, organization_id: int | None, request_id: str
) -> None:
    global flush_pending, second
    now = time.time()
    if int(now) != second[0]:
        second = (int(now), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)))
    access_lines.write(
        orjson.dumps(
            {
                "time": f"{second[1]}.{int(now % 1 * 1000):03d}Z",
                "level": "info",
                "logger": "clarion.access",
                "method": method,
                "route": ROUTE,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "organization_id": organization_id,
                "request_id": request_id,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
    )
    if not flush_pending:
        flush_pending = True
        asyncio.get_running_loop().call_soon(flush_access_lines)


def flush_access_lines() -> None:
    global flush_pending
    flush_pending = False
    access_lines.flush()
