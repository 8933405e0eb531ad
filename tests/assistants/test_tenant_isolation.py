"""Another organization's assistant is indistinguishable from a missing one, everywhere."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support import Api, Tenant, assert_error


def test_every_endpoint_hides_other_organizations_assistants(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = Api(client, tenant)
    theirs = Api(client, other_tenant)
    assistant = theirs.create_assistant(name="Their assistant", first_message="Theirs")
    missing_id = assistant["id"] + 1000
    path = f"/v1/assistant/{assistant['id']}"

    # Same status and same message shape as an id that does not exist at all.
    for method, kwargs in [("GET", {}), ("PATCH", {"json": {"name": "Mine now"}}), ("DELETE", {})]:
        foreign = mine.request(method, path, **kwargs)
        absent = mine.request(method, f"/v1/assistant/{missing_id}", **kwargs)
        assert_error(foreign, 404)
        assert_error(absent, 404)
        assert foreign.json()["message"].replace(str(assistant["id"]), "N") == absent.json()[
            "message"
        ].replace(str(missing_id), "N")

    assert mine.get("/v1/assistant").json() == []
    assert mine.get("/v1/assistant", params={"limit": 1000}).json() == []
    # Creating in one organization never lands in the other.
    created = mine.create_assistant(name="Mine")
    assert created["organization_id"] == tenant.organization_id
    assert [a["id"] for a in theirs.get("/v1/assistant").json()] == [assistant["id"]]
    # And the other organization's assistant is untouched by all of the above.
    assert theirs.get(path).json() == assistant
