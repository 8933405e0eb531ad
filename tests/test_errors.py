"""Every failure, from our code or the framework's, is the Error body."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clarion import errors
from clarion.api.errors import STATUSES, headers_of, status_of
from clarion.assistants import service
from support import Api, assert_error


def test_unknown_route_is_404(client: TestClient) -> None:
    assert_error(client.get("/v1/nowhere"), 404, "/v1/nowhere")
    assert_error(client.get("/nowhere"), 404, "/nowhere")


def test_wrong_method_is_405(api: Api) -> None:
    response = api.request("PUT", "/v1/assistant/1", json={})
    assert_error(response, 405, "PUT")
    assert "PATCH" in response.headers["allow"]
    assert_error(api.request("DELETE", "/v1/assistant"), 405, "DELETE")


def test_declared_oversized_body_is_413(api: Api) -> None:
    assistant = api.create_assistant()
    body = b'{"first_message": "' + b"x" * (1024 * 1024) + b'"}'

    assert_error(
        api.patch(
            f"/v1/assistant/{assistant['id']}",
            content=body,
            headers={"Content-Type": "application/json"},
        ),
        413,
        "1048576",
    )
    assert_error(
        api.post("/v1/assistant", content=body, headers={"Content-Type": "application/json"}), 413
    )
    assert api.get(f"/v1/assistant/{assistant['id']}").json() == assistant


def test_streamed_oversized_body_is_413(api: Api) -> None:
    assistant = api.create_assistant()

    def chunks() -> Iterator[bytes]:
        yield b'{"first_message": "'
        for _ in range(40):
            yield b"x" * 32 * 1024
        yield b'"}'

    response = api.patch(
        f"/v1/assistant/{assistant['id']}",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 413)
    assert api.get(f"/v1/assistant/{assistant['id']}").json() == assistant


def test_unexpected_failure_is_500_without_internals(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> object:
        raise RuntimeError("SELECT secret_column FROM internals")

    monkeypatch.setattr(service, "list_current_versions", broken)
    with caplog.at_level(logging.ERROR):
        response = api.get("/v1/assistant")

    assert_error(response, 500)
    assert response.json()["message"] == "internal server error"
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" in caplog.text  # the server's own log keeps the details


def test_every_domain_error_has_its_own_status() -> None:
    # One left out of the mapping would be reported as its base's 400 without anyone deciding so.
    kinds = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.DomainError)
    ]
    assert len(kinds) == 11
    assert set(kinds) == set(STATUSES)
    assert status_of(service.StaleVersion(3)) == 412  # a subclass is reported as its base
    assert headers_of(errors.Unavailable("shutting down")) == {"Retry-After": "5"}
    assert headers_of(errors.NotFound("assistant 1 not found")) == {}
