"""Our served OpenAPI document is a superset of the contract we were given, field by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

SEED = Path(__file__).resolve().parents[1] / "contract" / "update-assistant.openapi.yaml"


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SEED.read_text())
    return document


@pytest.fixture
def served(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _types(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema admits, other than null."""
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return set().union(*(_types(document, option) for option in schema["anyOf"]))
    kind = schema.get("type")
    if kind is None:
        return set()
    kinds = {kind} if isinstance(kind, str) else set(kind)
    return kinds - {"null"}


def test_server_path_and_security(seed: dict[str, Any], served: dict[str, Any]) -> None:
    assert served["servers"][0]["url"] == "/v1"
    assert seed["servers"][0]["url"].endswith("/v1")
    for path, item in seed["paths"].items():
        assert path in served["paths"]
        for method in item:
            assert method in served["paths"][path]
    assert served["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_update_operation_matches(seed: dict[str, Any], served: dict[str, Any]) -> None:
    ours = served["paths"]["/assistant/{assistantId}"]["patch"]
    theirs = seed["paths"]["/assistant/{assistantId}"]["patch"]

    assert ours["description"].startswith(theirs["description"])
    assert ours["security"] == [{"bearerAuth": []}]
    (parameter,) = [p for p in ours["parameters"] if p["in"] == "path"]
    assert parameter["name"] == "assistantId" and parameter["in"] == "path"
    assert parameter["required"] is True and parameter["schema"]["type"] == "string"
    body = ours["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UpdateAssistant"
    }
    for status, response in theirs["responses"].items():
        expected = response["content"]["application/json"]["schema"]["$ref"]
        assert (
            ours["responses"][status]["content"]["application/json"]["schema"]["$ref"] == expected
        )


@pytest.mark.parametrize("name", ["UpdateAssistant", "Assistant", "Error"])
def test_schemas_keep_the_contracts_fields_and_types(
    seed: dict[str, Any], served: dict[str, Any], name: str
) -> None:
    theirs = seed["components"]["schemas"][name]
    ours = served["components"]["schemas"][name]

    assert ours["type"] == theirs["type"] == "object"
    assert set(theirs.get("required", [])) <= set(ours.get("required", []))
    for field, field_schema in theirs["properties"].items():
        assert field in ours["properties"], f"{name}.{field} is missing"
        assert _types(served, ours["properties"][field]) == {field_schema["type"]}, (
            f"{name}.{field}"
        )
        if "format" in field_schema:
            assert _resolve(served, ours["properties"][field])["format"] == field_schema["format"]


def test_every_operation_documents_its_errors(served: dict[str, Any]) -> None:
    for path, item in served["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            if path in ("/health", "/webhook-signing-key"):
                continue  # public and without input: nothing of the client's can be wrong
            for status in ("400", "401", "404"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text


def test_our_copy_of_the_contract_is_the_one_we_were_given() -> None:
    given = SEED.parents[2] / "shared" / "seed" / SEED.name
    if not given.exists():
        pytest.skip("the shared contract is not beside this checkout")
    assert SEED.read_bytes() == given.read_bytes()
