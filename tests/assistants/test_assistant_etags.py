"""Optimistic concurrency: ETag on responses, If-Match on PATCH, DELETE and restore."""

from __future__ import annotations

from support import Api, assert_error


def test_etag_is_strong_and_changes_with_every_version(api: Api) -> None:
    created = api.post("/v1/assistant", json={"name": "Tagged"})
    path = f"/v1/assistant/{created.json()['id']}"
    first = created.headers["etag"]

    assert first.startswith('"') and not first.startswith("W/")
    assert api.get(path).headers["etag"] == first
    assert api.patch(path, json={}).headers["etag"] == first  # nothing changed
    second = api.patch(path, json={"first_message": "Hi"}).headers["etag"]
    assert second != first
    assert api.get(path).headers["etag"] == second


def test_stale_if_match_is_412_and_changes_nothing(api: Api) -> None:
    created = api.post("/v1/assistant", json={"name": "Shared"})
    path = f"/v1/assistant/{created.json()['id']}"
    stale = created.headers["etag"]
    api.patch(path, json={"first_message": "A colleague's edit"})
    current = api.get(path)

    response = api.patch(path, json={"first_message": "Mine"}, headers={"If-Match": stale})

    assert_error(response, 412, "If-Match")
    assert api.get(path).json() == current.json()
    assert len(api.get(f"{path}/versions").json()) == 2
    assert_error(api.delete(path, headers={"If-Match": stale}), 412)
    assert_error(api.post(f"{path}/versions/1/restore", headers={"If-Match": stale}), 412)
    assert api.get(path).json() == current.json()


def test_matching_if_match_applies(api: Api) -> None:
    created = api.post("/v1/assistant", json={"name": "Shared"})
    path = f"/v1/assistant/{created.json()['id']}"
    tag = created.headers["etag"]

    updated = api.patch(path, json={"first_message": "Mine"}, headers={"If-Match": f'"x", {tag}'})
    assert updated.status_code == 200
    assert api.patch(path, json={"name": "Any"}, headers={"If-Match": "*"}).status_code == 200
    latest = api.get(path).headers["etag"]
    assert api.delete(path, headers={"If-Match": latest}).status_code == 200


def test_if_match_on_a_missing_assistant_is_404(api: Api) -> None:
    assert_error(api.patch("/v1/assistant/999", json={}, headers={"If-Match": '"v1"'}), 404)


def test_a_stale_if_match_names_the_current_etag(api: Api) -> None:
    assistant = api.create_assistant()
    path = f"/v1/assistant/{assistant['id']}"
    api.patch(path, json={"first_message": "Changed"})

    response = api.patch(path, json={"first_message": "Late"}, headers={"If-Match": '"v1"'})

    assert_error(response, 412, 'current ETag "v2"')
