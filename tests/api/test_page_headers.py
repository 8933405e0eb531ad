"""The security headers of the pages clarion serves to a browser: what each policy allows, and
that every page carries them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from clarion.api.page_headers import (
    DOCS_POLICY,
    console_policy,
    page_headers,
    talk_policy,
)
from clarion.app import create_app
from clarion.config import Settings

POLICIES = {"console": console_policy(), "docs": DOCS_POLICY, "talk": talk_policy()}


def _directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        assert name not in directives, policy
        directives[name] = sources
    return directives


@pytest.mark.parametrize("page", sorted(POLICIES))
def test_each_policy_lets_a_page_load_only_from_clarion_and_never_be_framed(page: str) -> None:
    directives = _directives(POLICIES[page])
    assert directives["default-src"] == ["'self'"]
    for closed in ("frame-ancestors", "object-src", "base-uri"):
        assert directives[closed] == ["'none'"], closed
    for name, sources in directives.items():
        # No other origin, nothing inline, nothing evaluated.
        assert set(sources) <= {"'self'", "'none'", "data:"}, (name, sources)


def test_the_talk_page_may_reach_the_public_url_and_no_other_host() -> None:
    directives = _directives(talk_policy("wss://clarion.clinic.example"))
    assert directives["connect-src"] == ["'self'", "wss://clarion.clinic.example"]


@pytest.mark.parametrize("page", sorted(POLICIES))
def test_a_page_refuses_framing_sniffing_and_referers(page: str) -> None:
    headers = page_headers(POLICIES[page])
    assert headers == {
        "Content-Security-Policy": POLICIES[page],
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    headers["Cache-Control"] = "no-store"  # a page adds its own to a dict of its own
    assert "Cache-Control" not in page_headers(POLICIES[page])


# Every page clarion serves to a browser: the console, the API docs, the talk page.
PAGES = ["/", "/docs", "/talk"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_clarion_serves_carries_the_pages_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert policy in POLICIES.values()
    for name, value in page_headers(policy).items():
        assert response.headers[name] == value, name


def test_behind_a_public_url_the_console_may_join_its_calls_there_and_nowhere_else(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"public_url": "https://clarion.clinic.example"}))
    with TestClient(app) as client:
        for path in ("/", "/console/main.js"):
            policy = _directives(client.get(path).headers["content-security-policy"])
            assert policy["connect-src"] == ["'self'", "wss://clarion.clinic.example"], path
            assert policy["script-src"] == ["'self'"]
