"""Helpers the tests share: a tenant, a client acting as it, and the Error body check."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clarion.config import Settings
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.webhooks import outbox
from clarion.webhooks.models import WebhookDeliveryRow


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


def enqueue_reports(
    database: Database, tenant: Tenant, url: str, count: int, due: dt.datetime | None = None
) -> set[str]:
    """``count`` end-of-call reports for ``url`` in the outbox, due at ``due`` (now when not
    given), as the server stores them; their webhook ids."""
    ids = set()
    with database.unit(write=True) as unit:
        for number in range(count):
            _delivery, event = outbox.enqueue(
                unit,
                organization_id=tenant.organization_id,
                assistant_id=1,
                url=url,
                secret_encrypted=None,
                event_type="end-of-call-report",
                body=b'{"id": %d, "assistant_id": 1, "call_status": "ended"}' % number,
                now=due or utcnow(),
            )
            ids.add(event.webhook_id)
    return ids


def unfinished_deliveries(database: Database) -> int:
    """How many deliveries are still pending or in flight."""
    with database.unit() as unit:
        statuses = WebhookDeliveryRow.status.in_(["pending", "in_flight"])
        return unit.session.scalar(select(func.count()).where(statuses)) or 0


def worker_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of a `clarion worker` process on the test's database, delivering to
    receivers on this machine."""
    assert settings.database_url is not None
    return {
        **os.environ,
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": settings.database_url,
        "CLARION_ALLOWED_NETWORKS": "127.0.0.0/8",
        **overrides,
    }
