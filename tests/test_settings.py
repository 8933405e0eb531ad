"""Settings read from the environment, under their names old and new."""

from __future__ import annotations

import ipaddress

import pytest

from clarion.config import Settings


@pytest.mark.parametrize("name", ["CLARION_ALLOWED_NETWORKS", "CLARION_WEBHOOK_ALLOWED_NETWORKS"])
def test_one_allow_list_for_every_outbound_connection_under_either_name(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "10.20.0.0/16, 127.0.0.0/8")

    assert Settings().allowed_networks == (
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("127.0.0.0/8"),
    )


def test_the_new_name_wins_over_the_old(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARION_WEBHOOK_ALLOWED_NETWORKS", "10.20.0.0/16")
    monkeypatch.setenv("CLARION_ALLOWED_NETWORKS", "127.0.0.0/8")

    assert Settings().allowed_networks == (ipaddress.ip_network("127.0.0.0/8"),)


def test_a_malformed_network_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARION_ALLOWED_NETWORKS", "10.20.0.0/99")

    with pytest.raises(ValueError, match=r"10\.20\.0\.0/99"):
        Settings()


@pytest.mark.parametrize(
    "value", ["clarion.example.org", "ftp://clarion.example.org", "https://x.org/?a=1", "https://"]
)
def test_a_public_url_that_cannot_prefix_a_web_call_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CLARION_PUBLIC_URL", value)

    with pytest.raises(ValueError, match="public_url"):
        Settings()


@pytest.mark.parametrize("value", ["https://clarion.example.org", "http://10.0.0.5:8000/voice"])
def test_a_public_url_is_taken_as_given(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CLARION_PUBLIC_URL", value)

    assert Settings().public_url == value
