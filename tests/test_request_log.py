"""Request ids on every response, and one structured log line per request."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from clarion.request_log import JsonFormatter, TextFormatter
from support import Api


def test_a_sane_client_request_id_is_echoed(api: Api) -> None:
    response = api.get("/v1/assistant", headers={"X-Request-Id": "dashboard-7f3a:1"})
    assert response.headers["x-request-id"] == "dashboard-7f3a:1"


@pytest.mark.parametrize("sent", [None, "", "has spaces", "x" * 200, "<script>"])
def test_otherwise_a_new_one_is_made(client: TestClient, sent: str | None) -> None:
    headers = {} if sent is None else {"X-Request-Id": sent}
    response = client.get("/v1/health", headers=headers)
    request_id = response.headers["x-request-id"]
    assert request_id != sent and len(request_id) == 32


def test_errors_carry_a_request_id_too(client: TestClient) -> None:
    assert client.get("/v1/nowhere").headers["x-request-id"]
    assert client.get("/v1/assistant").headers["x-request-id"]


def _access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "clarion.access"]


def test_one_access_line_per_request_with_its_fields(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    created = api.create_assistant(webhook_secret="whsec-not-in-logs")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="clarion.access"):
        api.patch(
            f"/v1/assistant/{created['id']}",
            json={"first_message": "secret-ish body"},
            headers={"X-Request-Id": "req-log-1"},
        )

    (record,) = _access_records(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "PATCH"
    assert line["route"] == "/v1/assistant/{assistantId}"
    assert line["status"] == 200
    assert line["organization_id"] == api.tenant.organization_id
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info" and line["time"].endswith("Z")
    text = caplog.text + json.dumps(line)
    assert "secret-ish body" not in text and "whsec-not-in-logs" not in text
    assert api.tenant.api_key not in text


def test_request_id_is_in_the_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    formatter = JsonFormatter()
    lines: list[dict[str, object]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(formatter.format(record)))

    handler = Collect()
    logger = logging.getLogger("clarion.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        api.get("/v1/assistant", headers={"X-Request-Id": "req-log-2"})
    finally:
        logger.removeHandler(handler)
    assert lines[-1]["request_id"] == "req-log-2"
    assert lines[-1]["route"] == "/v1/assistant"


def test_unmatched_routes_and_text_format(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clarion.access"):
        client.get("/v1/nowhere?token=abc")
    (record,) = _access_records(caplog)
    assert json.loads(JsonFormatter().format(record))["route"] == "unmatched"
    text = TextFormatter("%(levelname)s %(message)s").format(record)
    assert "GET /v1/nowhere 404" in text and "token=abc" not in text
