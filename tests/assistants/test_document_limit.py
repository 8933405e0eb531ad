"""An assistant's configuration stays within the body limit whatever the number of changes.

The body limit bounds one request; these tests grow an assistant through several requests,
each well under it, and check that the change that would take the stored configuration past
the limit is refused with 413 and changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from clarion.config import Settings
from support import Api, assert_error

LIMIT = 16 * 1024
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": LIMIT})


def _state(api: Api, assistant_id: int) -> tuple[Any, str, Any]:
    """What a refused change must leave as it was: the assistant, its ETag, its history."""
    response = api.get(f"/v1/assistant/{assistant_id}")
    versions = api.get(f"/v1/assistant/{assistant_id}/versions").json()
    return response.json(), response.headers["etag"], versions


def _schema_slice(number: int) -> dict[str, Any]:
    """Ten properties of a structured-data schema, about 3,000 bytes of JSON."""
    return {
        f"field_{number}_{index}": {"type": "string", "description": "d" * 270}
        for index in range(10)
    }


def test_merge_patches_cannot_grow_the_assistant_past_the_limit(api: Api) -> None:
    created = api.create_assistant(analysis_plan={"structuredDataSchema": {"type": "object"}})
    path = f"/v1/assistant/{created['id']}"
    for number in range(5):
        patch = {"analysis_plan": {"structuredDataSchema": {"properties": _schema_slice(number)}}}
        response = api.patch(path, content=orjson.dumps(patch), headers=MERGE)
        assert response.status_code == 200, response.text
    grown = response.json()
    assert len(grown["analysis_plan"]["structuredDataSchema"]["properties"]) == 50
    before = _state(api, created["id"])

    patch = {"analysis_plan": {"structuredDataSchema": {"properties": _schema_slice(5)}}}
    body = orjson.dumps(patch)
    assert len(body) < LIMIT / 5  # the request alone is far under the limit
    response = api.patch(path, content=body, headers=MERGE)

    assert_error(response, 413, "analysis_plan", "16,384", "CLARION_MAX_BODY_BYTES")
    assert _state(api, created["id"]) == before
    assert len(before[2]) == 6  # created, then five merges: the refused one left no record


def test_plain_patches_of_different_fields_cannot_grow_it_past_the_limit(api: Api) -> None:
    created = api.create_assistant()
    path = f"/v1/assistant/{created['id']}"
    for change in (
        {"first_message": "f" * 5000},
        {"voicemail_message": "v" * 5000},
        {"model": {"messages": [{"role": "system", "content": "m" * 5000}]}},
    ):
        response = api.patch(path, json=change)
        assert response.status_code == 200, response.text
    before = _state(api, created["id"])

    response = api.patch(path, json={"analysis_plan": {"summaryPrompt": "s" * 6000}})

    assert_error(response, 413, "analysis_plan:", "over the limit of 16,384")
    assert _state(api, created["id"]) == before
    assert len(before[2]) == 4


def test_a_change_that_keeps_it_at_the_limit_passes(api: Api) -> None:
    created = api.create_assistant()
    path = f"/v1/assistant/{created['id']}"
    empty = orjson.dumps({"name": created["name"], "analysis_plan": {"summaryPrompt": ""}})
    room = LIMIT - len(empty)

    over = api.patch(path, json={"analysis_plan": {"summaryPrompt": "s" * (room + 1)}})
    assert_error(over, 413, "analysis_plan", f"{LIMIT + 1:,} bytes")

    response = api.patch(path, json={"analysis_plan": {"summaryPrompt": "s" * room}})
    assert response.status_code == 200, response.text
    assert response.json()["analysis_plan"]["summaryPrompt"] == "s" * room
    assert response.headers["etag"] == '"v2"'


def test_a_body_within_the_limit_that_is_stored_larger_is_refused_on_create(api: Api) -> None:
    # 1E9 is three characters sent and twelve stored (1000000000.0).
    body = orjson.dumps({"name": "Reminders"})[:-1] + b', "model": {"scale": [%s]}}' % (
        b",".join([b"1E9"] * 3000)
    )
    assert len(body) < LIMIT

    assert_error(api.post("/v1/assistant", content=body, headers={}), 413, "model")
    assert api.get("/v1/assistant").json() == []
