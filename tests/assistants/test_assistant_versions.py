"""Version history: one immutable record per change, scoped to the organization."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from support import Api, Tenant, assert_error

SECRET = "whsec-history-must-not-keep-me"


def _versions(api: Api, assistant_id: int, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/v1/assistant/{assistant_id}/versions", params=params)
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()
    return records


def test_each_change_writes_a_version_with_its_changed_fields(api: Api) -> None:
    created = api.create_assistant(first_message="Hello", model={"provider": "openai"})
    path = f"/v1/assistant/{created['id']}"
    api.patch(path, json={"first_message": "Hi", "voicemail_message": "Call back"})
    api.patch(path, json={"first_message": "Hi"})  # same value: no change, no version
    api.patch(path, json={})  # no-op: no version
    api.patch(path, json={"model": None, "name": "Renamed"})

    records = _versions(api, created["id"])

    assert [r["version"] for r in records] == [3, 2, 1]
    assert [r["action"] for r in records] == ["updated", "updated", "created"]
    assert records[2]["changed_fields"] == ["name", "model", "first_message"]
    assert records[1]["changed_fields"] == ["first_message", "voicemail_message"]
    assert records[0]["changed_fields"] == ["name", "model"]
    assert records[0]["configuration"] == {
        "name": "Renamed",
        "first_message": "Hi",
        "voicemail_message": "Call back",
        "is_webhook_secret_set": False,
    }
    for record in records:
        assert record["assistant_id"] == created["id"]
        assert record["organization_id"] == api.tenant.organization_id
        assert record["api_key_id"] == api.tenant.key_id
        assert record["created_at"].endswith("Z")


def test_version_records_carry_the_request_id(api: Api) -> None:
    response = api.post(
        "/v1/assistant", json={"name": "Traced"}, headers={"X-Request-Id": "req-42"}
    )
    record = _versions(api, response.json()["id"])[0]
    assert record["request_id"] == "req-42"


def test_the_secret_appears_only_as_set_changed_cleared(api: Api) -> None:
    created = api.create_assistant(webhook_secret=SECRET)
    path = f"/v1/assistant/{created['id']}"
    api.patch(path, json={"webhook_secret": SECRET + "-rotated"})
    api.patch(path, json={"webhook_secret": None})
    api.patch(path, json={"webhook_secret": None})  # already clear: no change

    response = api.get(f"{path}/versions")

    assert SECRET not in response.text
    records = response.json()
    assert [r.get("webhook_secret") for r in records] == ["cleared", "changed", "set"]
    assert all("webhook_secret" in r["changed_fields"] for r in records)
    assert [r["configuration"]["is_webhook_secret_set"] for r in records] == [False, True, True]


def test_get_one_version_and_limit(api: Api) -> None:
    created = api.create_assistant(first_message="v1")
    for number in range(2, 6):
        api.patch(f"/v1/assistant/{created['id']}", json={"first_message": f"v{number}"})

    assert [r["version"] for r in _versions(api, created["id"], limit=2)] == [5, 4]
    second = api.get(f"/v1/assistant/{created['id']}/versions/2")
    assert second.status_code == 200
    assert second.json()["configuration"]["first_message"] == "v2"
    assert_error(api.get(f"/v1/assistant/{created['id']}/versions/9"), 404, "version 9")
    assert_error(api.get(f"/v1/assistant/{created['id']}/versions/zero"), 404)
    assert_error(
        api.get(f"/v1/assistant/{created['id']}/versions", params={"limit": 0}), 400, "limit"
    )


def test_history_outlives_deletion(api: Api) -> None:
    created = api.create_assistant(first_message="Hello")
    api.delete(f"/v1/assistant/{created['id']}")

    records = _versions(api, created["id"])

    assert [(r["version"], r["action"]) for r in records] == [(2, "deleted"), (1, "created")]
    assert records[0]["configuration"]["first_message"] == "Hello"


def test_restore_makes_an_old_configuration_current_as_a_new_version(api: Api) -> None:
    created = api.create_assistant(
        first_message="Original",
        webhook_secret=SECRET,
        model={"provider": "openai", "temperature": 0.2},
    )
    path = f"/v1/assistant/{created['id']}"
    api.patch(path, json={"first_message": "Edited", "model": None, "max_duration_seconds": 60})

    response = api.post(f"{path}/versions/1/restore")

    assert response.status_code == 200, response.text
    restored = response.json()
    assert restored["first_message"] == "Original"
    assert restored["model"] == {"provider": "openai", "temperature": 0.2}
    assert "max_duration_seconds" not in restored
    assert restored["is_webhook_secret_set"] is True  # the secret is never rolled back
    assert response.headers["etag"] == '"v3"'
    latest = _versions(api, created["id"])[0]
    assert latest["action"] == "restored" and latest["version"] == 3
    assert latest["changed_fields"] == ["model", "first_message", "max_duration_seconds"]
    assert api.get(path).json() == restored


def test_restoring_a_deleted_assistant_brings_it_back(api: Api) -> None:
    created = api.create_assistant(first_message="Keep me", webhook_secret=SECRET)
    path = f"/v1/assistant/{created['id']}"
    api.delete(path)

    response = api.post(f"{path}/versions/1/restore")

    assert response.status_code == 200, response.text
    back = response.json()
    assert back["id"] == created["id"]
    assert back["created_at"] == created["created_at"]
    assert back["first_message"] == "Keep me"
    assert back["is_webhook_secret_set"] is False
    restored, deleted, first = _versions(api, created["id"])
    assert [r["action"] for r in (restored, deleted, first)] == ["restored", "deleted", "created"]
    # The secret went with the deletion, and the records say so, never silently.
    assert deleted["webhook_secret"] == "cleared"
    assert restored["webhook_secret"] == "dropped"
    assert "webhook_secret" in restored["changed_fields"]
    assert restored["configuration"]["is_webhook_secret_set"] is False
    assert api.get(path).status_code == 200


def test_restoring_a_deleted_assistant_without_a_secret_says_nothing_of_one(api: Api) -> None:
    created = api.create_assistant(first_message="Keep me")
    path = f"/v1/assistant/{created['id']}"
    api.delete(path)
    assert api.post(f"{path}/versions/1/restore").status_code == 200
    restored, deleted, _first = _versions(api, created["id"])
    assert "webhook_secret" not in deleted and "webhook_secret" not in restored
    assert deleted["changed_fields"] == []


def test_history_is_scoped_to_the_organization(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = Api(client, other_tenant)
    mine = Api(client, tenant)
    created = theirs.create_assistant(first_message="Private")
    base = f"/v1/assistant/{created['id']}/versions"

    assert_error(mine.get(base), 404)
    assert_error(mine.get(f"{base}/1"), 404)
    assert_error(mine.post(f"{base}/1/restore"), 404)
    theirs.delete(f"/v1/assistant/{created['id']}")
    assert_error(mine.get(base), 404)
    assert_error(mine.post(f"{base}/1/restore"), 404)
    assert len(theirs.get(base).json()) == 2
