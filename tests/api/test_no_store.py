"""No browser or proxy cache keeps an answer of the API: transcripts, one-time passwords, new
API keys and CSRF tokens come in them. Every /v1 answer, from the routes or the fast lane,
success or error, says ``Cache-Control: no-store`` once; the pages keep their own caching, and
an ETag still guards an edit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from clarion.people.roles import Role
from people_support import add_person, sign_in
from support import Api, assert_error


def _not_stored(response: Any) -> None:
    assert response.headers.get_list("cache-control") == ["no-store"], response.headers


def test_every_kind_of_api_answer_is_not_stored(app: Any, client: TestClient, api: Api) -> None:
    created = api.post("/v1/assistant", json={"name": "Reminders"})
    assert created.status_code == 201, created.text
    path = f"/v1/assistant/{created.json()['id']}"
    listed = api.get("/v1/call")  # a list, through the routes
    assert listed.status_code == 200 and listed.json() == []
    read = api.get(path)  # the fast lane
    assert read.status_code == 200 and read.headers["etag"] == created.headers["etag"]
    assistants = api.get("/v1/assistant?limit=5")  # the fast lane's list
    assert [found["id"] for found in assistants.json()] == [created.json()["id"]]
    missing = api.get("/v1/assistant/4242")  # the fast lane's error
    assert_error(missing, 404)
    no_route = api.get("/v1/nothing-here")
    assert_error(no_route, 404)
    unauthenticated = client.get("/v1/call")
    assert_error(unauthenticated, 401)
    key = api.post("/v1/api-key")
    assert key.status_code == 201 and key.json()["api_key"]
    session = sign_in(app, add_person(app, api.tenant.organization_id, Role.OWNER))
    signed_in = session.get("/v1/session")
    assert signed_in.status_code == 200 and signed_in.json()["csrf_token"]

    for response in (
        created,
        listed,
        read,
        assistants,
        missing,
        no_route,
        unauthenticated,
        key,
        signed_in,
    ):
        _not_stored(response)


def test_an_etag_still_guards_an_edit(api: Api) -> None:
    created = api.post("/v1/assistant", json={"name": "Shared"})
    path = f"/v1/assistant/{created.json()['id']}"
    tag = created.headers["etag"]

    edited = api.patch(path, json={"first_message": "Hello"}, headers={"If-Match": tag})
    assert edited.status_code == 200, edited.text
    stale = api.patch(path, json={"first_message": "Mine"}, headers={"If-Match": tag})
    assert_error(stale, 412, "If-Match")
    for response in (edited, stale):
        _not_stored(response)
        assert response.headers["x-request-id"]


def test_the_pages_keep_their_own_caching(client: TestClient) -> None:
    assert client.get("/docs").headers.get_list("cache-control") == ["no-cache"]
    assert client.get("/").headers.get_list("cache-control") == ["no-store"]
    assert "cache-control" not in client.get("/openapi.json").headers
