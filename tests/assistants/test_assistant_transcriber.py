"""An assistant's transcriber: a document like its voice, kept as sent, merged by a merge patch,
cleared by null, and carried through its versions, the list and a restore."""

from __future__ import annotations

from typing import Any

import pytest

from support import Api, assert_error

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
DEEPGRAM = {"provider": "deepgram", "model": "nova-2", "language": "en-US", "smartFormat": True}


def _versions(api: Api, assistant_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/v1/assistant/{assistant_id}/versions")
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()
    return records


def test_the_transcriber_is_kept_as_sent_and_shown_everywhere(api: Api) -> None:
    created = api.create_assistant(transcriber=DEEPGRAM)
    path = f"/v1/assistant/{created['id']}"

    assert created["transcriber"] == DEEPGRAM
    assert api.get(path).json()["transcriber"] == DEEPGRAM
    assert api.get("/v1/assistant").json()[0]["transcriber"] == DEEPGRAM
    record = _versions(api, created["id"])[0]
    assert record["configuration"]["transcriber"] == DEEPGRAM
    assert "transcriber" in record["changed_fields"]


def test_a_patch_replaces_it_and_null_clears_it(api: Api) -> None:
    created = api.create_assistant(transcriber=DEEPGRAM)
    path = f"/v1/assistant/{created['id']}"

    replaced = api.patch(path, json={"transcriber": {"provider": "local"}})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["transcriber"] == {"provider": "local"}

    cleared = api.patch(path, json={"transcriber": None})
    assert cleared.status_code == 200, cleared.text
    assert "transcriber" not in cleared.json()
    assert "transcriber" not in api.get(path).json()
    assert [r["changed_fields"] for r in _versions(api, created["id"])[:2]] == [
        ["transcriber"],
        ["transcriber"],
    ]


def test_a_merge_patch_merges_it_key_by_key(api: Api) -> None:
    created = api.create_assistant(transcriber=DEEPGRAM)
    path = f"/v1/assistant/{created['id']}"

    response = api.patch(
        path,
        json={"transcriber": {"language": "fr", "smartFormat": None}},
        headers=MERGE_PATCH,
    )

    assert response.status_code == 200, response.text
    assert response.json()["transcriber"] == {
        "provider": "deepgram",
        "model": "nova-2",
        "language": "fr",
    }
    removed = api.patch(path, json={"transcriber": None}, headers=MERGE_PATCH)
    assert "transcriber" not in removed.json()


def test_a_restore_brings_the_old_transcriber_back(api: Api) -> None:
    created = api.create_assistant(transcriber=DEEPGRAM)
    path = f"/v1/assistant/{created['id']}"
    api.patch(path, json={"transcriber": {"provider": "openai", "language": "de"}})

    response = api.post(f"{path}/versions/1/restore")

    assert response.status_code == 200, response.text
    assert response.json()["transcriber"] == DEEPGRAM
    assert _versions(api, created["id"])[0]["changed_fields"] == ["transcriber"]


@pytest.mark.parametrize(
    ("transcriber", "named"),
    [
        ("deepgram", "transcriber"),
        ({"provider": ""}, "transcriber.provider"),
        ({"provider": 7}, "transcriber.provider"),
        ({"model": ""}, "transcriber.model"),
        ({"language": "en" * 18}, "transcriber.language"),
        ({"language": None}, "transcriber.language"),
    ],
)
def test_a_transcriber_that_is_not_one_is_a_400(api: Api, transcriber: Any, named: str) -> None:
    assert_error(
        api.post("/v1/assistant", json={"name": "x", "transcriber": transcriber}), 400, named
    )
    assert api.get("/v1/assistant").json() == []


def test_any_provider_is_kept_on_the_assistant(api: Api) -> None:
    # Calls check what they can hear with; the assistant keeps what its client configures.
    created = api.create_assistant(transcriber={"provider": "assemblyai", "language": "fr"})
    assert created["transcriber"] == {"provider": "assemblyai", "language": "fr"}
