"""Request ids on every response, and one structured access line per request."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.api.access_log import (
    AccessLog,
    JsonFormatter,
    TextFormatter,
    request_id_var,
    stderr_access_log,
)
from clarion.app import create_app
from clarion.config import Settings
from clarion.runtime.supervision import LoopStatus
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
    assert client.get("/v1/assistant/1").headers["x-request-id"]


def _lines(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_access_line_per_request_with_its_fields(
    api: Api, access_stream: io.BytesIO, caplog: pytest.LogCaptureFixture
) -> None:
    created = api.create_assistant(webhook_secret="whsec-not-in-logs")
    access_stream.seek(0)
    access_stream.truncate()
    api.patch(
        f"/v1/assistant/{created['id']}",
        json={"first_message": "secret-ish body"},
        headers={"X-Request-Id": "req-log-1"},
    )

    (line,) = _lines(access_stream)
    assert line["method"] == "PATCH"
    assert line["route"] == "/v1/assistant/{assistantId}"
    assert line["status"] == 200
    assert line["organization_id"] == api.tenant.organization_id
    assert line["request_id"] == "req-log-1"
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info" and line["logger"] == "clarion.access"
    assert line["time"].endswith("Z") and line["time"][10] == "T"
    text = access_stream.getvalue().decode() + caplog.text
    assert "secret-ish body" not in text and "whsec-not-in-logs" not in text
    assert api.tenant.api_key not in text


def test_routes_served_by_the_framework_are_logged_too(api: Api, access_stream: io.BytesIO) -> None:
    created = api.create_assistant()
    api.get(f"/v1/assistant/{created['id']}/versions", headers={"X-Request-Id": "req-log-2"})
    line = _lines(access_stream)[-1]
    assert line["route"] == "/v1/assistant/{assistantId}/versions"
    assert line["request_id"] == "req-log-2"
    assert line["organization_id"] == api.tenant.organization_id


def test_unmatched_routes_and_failures(client: TestClient, access_stream: io.BytesIO) -> None:
    client.get("/v1/nowhere?token=abc")
    client.get("/v1/assistant/1")
    unmatched, unauthenticated = _lines(access_stream)
    assert unmatched["route"] == "unmatched" and unmatched["status"] == 404
    assert unauthenticated["status"] == 401 and unauthenticated["organization_id"] is None
    assert b"token=abc" not in access_stream.getvalue()


def test_text_format(settings: Settings) -> None:
    stream = io.BytesIO()
    with TestClient(create_app(settings, access_log=AccessLog(stream, "text"))) as client:
        client.get("/v1/nowhere?token=abc", headers={"X-Request-Id": "req-log-3"})
    line = stream.getvalue().decode()
    assert " INFO clarion.access: GET /v1/nowhere 404 route=unmatched " in line
    assert line.endswith(" org=None request_id=req-log-3\n")
    assert "token=abc" not in line


def test_other_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("clarion.test", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("req-log-4")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello" and line["request_id"] == "req-log-4"


SAID = "Maria Okafor, chest pain since Tuesday"


def _failing_on_words() -> BaseException:
    try:
        try:
            raise KeyError(SAID)
        except KeyError as inner:
            raise ValueError(f"could not store {inner}") from inner
    except ValueError as outer:
        return outer


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()], ids=["json", "text"])
def test_a_logged_exception_shows_where_it_was_raised_never_its_message(
    formatter: logging.Formatter,
) -> None:
    error = _failing_on_words()
    record = logging.LogRecord(
        "clarion.test",
        logging.ERROR,
        __file__,
        1,
        "step failed",
        None,
        (type(error), error, error.__traceback__),
    )

    line = formatter.format(record)

    assert "Maria" not in line and "chest" not in line
    assert "builtins.ValueError" in line and "builtins.KeyError" in line
    assert "_failing_on_words" in line  # the frames are kept


def test_health_names_a_failed_steps_error_by_its_type_only() -> None:
    status = LoopStatus("call-reports")

    status.failed(_failing_on_words())

    assert status.last_error == "ValueError"


def test_served_access_lines_reach_stderr_together_once_per_turn_of_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    # Built as Python builds stderr: text over an unbuffered file, no buffer between them.
    stderr = io.TextIOWrapper(io.FileIO(write_end, "w", closefd=False), write_through=True)
    monkeypatch.setattr(sys, "stderr", stderr)
    access_log = stderr_access_log("json")

    def pending() -> bytes:
        try:
            return os.read(read_end, 65536)
        except BlockingIOError:
            return b""

    async def one_turn() -> tuple[bytes, bytes]:
        for number in range(3):
            access_log.write("GET", "/v1/health", "/v1/health", 200, 0.1, None, f"id-{number}")
        during = pending()  # still in this turn of the loop: nothing written yet
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return during, pending()

    try:
        during, after = asyncio.run(one_turn())
    finally:
        os.close(read_end)
        os.close(write_end)
    assert during == b""
    assert [json.loads(line)["request_id"] for line in after.splitlines()] == [
        "id-0",
        "id-1",
        "id-2",
    ]
