"""The floor: a bare ASGI app that does only the SQLite work a GET or a PATCH of one assistant
cannot skip (bench/floor.py runs it).

No framework, no authentication, no validation, no access line, no rendering: it answers
with the ceiling's fixed body once the request's statements have run.

- GET /v1/assistant/{id}: the one SELECT of the assistant by id and organization;
- PATCH /v1/assistant/{id}: the write transaction of an update: BEGIN IMMEDIATE, that
  SELECT, the UPDATE of the changed columns with the version, the INSERT of the version
  record, COMMIT. With ``FLOOR_GROUP_COMMIT=1``, the PATCHes that arrive in one turn of the
  event loop share one BEGIN IMMEDIATE and COMMIT, each inside a SAVEPOINT, as
  clarion.database.group_commit runs them.

The database is the bench's (``FLOOR_DATABASE``), in WAL mode with synchronous=NORMAL, its
log copied back by clarion's own checkpoint thread, as `clarion serve` runs it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import orjson
from ceiling import _HEADERS, ASSISTANT_SIZED_BODY

from clarion.database.checkpoints import WalCheckpointer, restart_log

T = TypeVar("T")

DATABASE = os.environ.get("FLOOR_DATABASE", "")
ORGANIZATION_ID = int(os.environ.get("FLOOR_ORGANIZATION_ID", "1"))
GROUP_COMMIT = os.environ.get("FLOOR_GROUP_COMMIT") == "1"
connection = sqlite3.connect(DATABASE, isolation_level=None, check_same_thread=False)
for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
    connection.execute(f"PRAGMA {pragma}")
connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread does it
cursor = connection.cursor()

_SELECT = "SELECT * FROM assistants WHERE id = ? AND organization_id = ?"
_UPDATE = (
    "UPDATE assistants SET first_message = ?, model = ?, updated_at = ?, version = ? "
    "WHERE id = ? AND organization_id = ?"
)
_INSERT_VERSION = (
    "INSERT INTO assistant_versions (organization_id, assistant_id, version, action, "
    "configuration, changed_fields, created_at) VALUES (?, ?, ?, 'updated', ?, ?, ?)"
)


def _get(assistant_id: int, _body: bytes) -> None:
    cursor.execute(_SELECT, (assistant_id, ORGANIZATION_ID)).fetchall()


def _patch(assistant_id: int, body: bytes) -> None:
    cursor.execute("BEGIN IMMEDIATE")
    _update(assistant_id, body)
    cursor.execute("COMMIT")


def _update(assistant_id: int, body: bytes) -> None:
    changes = orjson.loads(body)
    now = dt.datetime.now(dt.UTC).isoformat(" ", "microseconds")[:26]
    row = cursor.execute(_SELECT, (assistant_id, ORGANIZATION_ID)).fetchall()[0]
    version = row[-1] + 1
    model = orjson.dumps(changes["model"]).decode()
    cursor.execute(
        _UPDATE,
        (changes["first_message"], model, now, version, assistant_id, ORGANIZATION_ID),
    )
    configuration = {"name": row[2], **changes}
    cursor.execute(
        _INSERT_VERSION,
        (
            ORGANIZATION_ID,
            assistant_id,
            version,
            orjson.dumps(configuration).decode(),
            '["first_message","model"]',
            now,
        ),
    )


_WORK = {"GET": _get, "PATCH": _patch}
_queued: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []


async def grouped(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in the one transaction of this loop turn's writes, in a savepoint of its
    own: if it raises, its changes are undone and its caller gets the error."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    _queued.append((work, args, done))
    if len(_queued) == 1:
        loop.call_soon(_commit_queued)
    return await done


def _commit_queued() -> None:
    units = list(_queued)
    _queued.clear()
    outcomes: list[tuple[asyncio.Future[Any], Any, Exception | None]] = []
    cursor.execute("BEGIN IMMEDIATE")
    for work, args, done in units:
        cursor.execute("SAVEPOINT unit")
        try:
            outcomes.append((done, work(*args), None))
        except Exception as exc:
            cursor.execute("ROLLBACK TO unit")
            outcomes.append((done, None, exc))
        cursor.execute("RELEASE unit")
    cursor.execute("COMMIT")
    for done, result, error in outcomes:
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    assistant_id, body = int(scope["path"].rsplit("/", 1)[1]), b"".join(chunks)
    if GROUP_COMMIT and scope["method"] == "PATCH":
        await grouped(_update, assistant_id, body)
    else:
        _WORK[scope["method"]](assistant_id, body)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": ASSISTANT_SIZED_BODY})


async def lifespan(receive: Any, send: Any) -> None:
    loop = asyncio.get_running_loop()

    def restart() -> None:  # on the event loop, between requests, as clarion.db does it
        loop.call_soon_threadsafe(partial(restart_log, connection, wait=False))

    checkpoints = WalCheckpointer(DATABASE, restart=restart)
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            checkpoints.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            checkpoints.stop()
            connection.close()
            checkpoints.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
