"""POST /v1/assistant with Idempotency-Key: retry-safe creation."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import orjson
from fastapi.testclient import TestClient
from sqlalchemy import update

from clarion.database import Database
from clarion.idempotency.models import IdempotentRequestRow
from support import Api, Tenant, assert_error

BODY = {"name": "Intake", "first_message": "Hello"}


def _create(api: Api, key: str, body: dict[str, Any] = BODY) -> Any:
    return api.post("/v1/assistant", json=body, headers={"Idempotency-Key": key})


def test_same_key_and_body_replays_the_first_response(api: Api) -> None:
    first = _create(api, "retry-1")
    again = _create(api, "retry-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert first.headers["idempotent-replayed"] == "false"
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.get("/v1/assistant").json()) == 1


def test_replay_is_the_first_response_even_after_later_changes(api: Api) -> None:
    first = _create(api, "retry-2")
    api.patch(f"/v1/assistant/{first.json()['id']}", json={"first_message": "Changed"})
    assert _create(api, "retry-2").json() == first.json()


def test_same_key_with_another_body_is_409(api: Api) -> None:
    _create(api, "retry-3")
    response = _create(api, "retry-3", {**BODY, "first_message": "Different"})

    assert_error(response, 409, "Idempotency-Key")
    assert len(api.get("/v1/assistant").json()) == 1


def test_keys_are_scoped_to_the_organization(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = Api(client, tenant), Api(client, other_tenant)
    a = _create(mine, "shared-key")
    b = _create(theirs, "shared-key")

    assert a.json()["id"] != b.json()["id"]
    assert b.json()["organization_id"] == other_tenant.organization_id
    assert b.headers["idempotent-replayed"] == "false"


def test_a_key_older_than_24_hours_creates_anew(api: Api, database: Database) -> None:
    first = _create(api, "retry-4")
    with database.unit(write=True) as unit:
        session = unit.session
        session.execute(
            update(IdempotentRequestRow).values(
                created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
            )
        )
    again = _create(api, "retry-4")

    assert again.headers["idempotent-replayed"] == "false"
    assert again.json()["id"] != first.json()["id"]


def test_invalid_body_is_not_remembered(api: Api) -> None:
    assert_error(_create(api, "retry-5", {"first_message": "no name"}), 400, "name")
    assert _create(api, "retry-5").status_code == 201


def test_malformed_key_is_400(api: Api) -> None:
    assert_error(_create(api, "x" * 256), 400, "Idempotency-Key")
    assert_error(_create(api, "has space"), 400, "Idempotency-Key")


async def _simultaneous(app: Any, headers: dict[str, str], count: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://clarion") as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/v1/assistant",
                    content=orjson.dumps(BODY),
                    headers={
                        **headers,
                        "Idempotency-Key": "race",
                        "Content-Type": "application/json",
                    },
                )
                for _ in range(count)
            )
        )


def test_simultaneous_requests_with_one_key_create_one_assistant(app: Any, api: Api) -> None:
    responses = asyncio.run(_simultaneous(app, api.tenant.headers, 12))

    assert all(response.status_code == 201 for response in responses), [
        response.text for response in responses
    ]
    assert len({response.content for response in responses}) == 1
    assert len(api.get("/v1/assistant").json()) == 1
    replayed = [response.headers["idempotent-replayed"] for response in responses]
    assert replayed.count("false") == 1
