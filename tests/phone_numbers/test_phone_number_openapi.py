"""The served OpenAPI document describes the phone number operations as they answer."""

from __future__ import annotations

from typing import Any

import pytest

from support import Api


@pytest.fixture
def document(api: Api) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def test_the_paths_and_their_operations_are_listed(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths["/phone-number"]) == {"get", "post"}
    assert set(paths["/phone-number/{phoneNumberId}"]) == {"get", "patch", "delete"}
    for operation in paths["/phone-number/{phoneNumberId}"].values():
        (parameter,) = [p for p in operation["parameters"] if p["in"] == "path"]
        assert parameter["name"] == "phoneNumberId" and parameter["required"] is True


def test_the_request_and_response_models_are_named_for_the_api(document: dict[str, Any]) -> None:
    paths = document["paths"]
    create = paths["/phone-number"]["post"]
    update = paths["/phone-number/{phoneNumberId}"]["patch"]
    body_of = {"post": create, "patch": update}
    titles = {
        method: operation["requestBody"]["content"]["application/json"]["schema"]["title"]
        for method, operation in body_of.items()
    }
    assert titles == {"post": "CreatePhoneNumber", "patch": "UpdatePhoneNumber"}
    created = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/PhoneNumber"}
    listed = paths["/phone-number"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"]["items"] == {"$ref": "#/components/schemas/PhoneNumber"}
    required = create["requestBody"]["content"]["application/json"]["schema"]["required"]
    assert set(required) == {"number", "provider", "twilio_account_sid", "twilio_auth_token"}


def test_a_number_already_held_is_documented_where_it_can_happen(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    assert "409" in paths["/phone-number"]["post"]["responses"]
    assert "409" in paths["/phone-number/{phoneNumberId}"]["patch"]["responses"]
    assert "409" not in paths["/phone-number/{phoneNumberId}"]["delete"]["responses"]


def test_the_list_takes_the_assistant_lists_parameters(document: dict[str, Any]) -> None:
    def query(path: str) -> dict[str, Any]:
        parameters = document["paths"][path]["get"]["parameters"]
        return {
            p["name"]: {k: v for k, v in p["schema"].items() if k != "description"}
            for p in parameters
            if p["in"] == "query"
        }

    assert query("/phone-number") == query("/assistant")
