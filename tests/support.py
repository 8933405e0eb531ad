"""Helpers the tests share: a tenant, a client acting as it, and the Error body check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient


@dataclass
class Tenant:
    """An organization and a key to act as it."""

    organization_id: int
    api_key: str
    key_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


class Api:
    """A client that authenticates as one tenant and speaks JSON."""

    def __init__(self, client: TestClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.tenant.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def create_assistant(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/v1/assistant", json={"name": "Reminders", **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def assert_error(response: Any, status: int, *mentions: str) -> None:
    """The response is the Error body with this status, and its message names ``mentions``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == status
    assert isinstance(body["message"], str) and body["message"]
    for mention in mentions:
        assert mention in body["message"], (mention, body["message"])
