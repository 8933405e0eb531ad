"""The console in a real browser: a served clarion with an organization and one person of each
role, headless Chromium (Debian's, driven by Playwright) that records every request a page
makes, and the checks every console test shares: signing in, nothing fetched from another
origin, no Content-Security-Policy violation, the accessibility scan, screenshots.

Without /usr/bin/chromium these tests skip, unless CLARION_REQUIRE_BROWSER=1 (CI) says the
browser must be there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, expect

from support import Tenant

PASSWORDS = {
    "owner": "owner-password-1234",
    "editor": "editor-password-1234",
    "viewer": "viewer-password-1234",
}
# Where the test run keeps its screenshots for the README, when asked to.
SCREENSHOTS = os.environ.get("CLARION_SCREENSHOTS")


@dataclass
class Person:
    """A console user the test can sign in as."""

    user_id: int
    email: str
    role: str
    password: str


@dataclass
class Console:
    """A served clarion, its organization's API key, and one person of each role."""

    base: str
    tenant: Tenant
    people: dict[str, Person]
    fake_url: str | None = None

    def api(self) -> httpx.Client:
        """A client acting with the organization's API key."""
        return httpx.Client(base_url=self.base, headers=self.tenant.headers, timeout=30)


@dataclass
class Watched:
    """What a page did: every URL it requested, and what its console said."""

    requests: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def foreign(self, base: str) -> list[str]:
        """The requests that left clarion's origin."""
        origin = urlsplit(base)
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "blob:", "about:"))
            and urlsplit(url)[:2] != origin[:2]
            and urlsplit(url).netloc.replace("ws", "http") != origin.netloc
        ]

    def policy_violations(self) -> list[str]:
        """What the Content-Security-Policy refused."""
        return [text for text in self.messages if "Content Security Policy" in text]


def watch(page: Page) -> Watched:
    """Record every request ``page`` makes (WebSockets too) and what its console says."""
    watched = Watched()
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("websocket", lambda socket: watched.requests.append(socket.url))
    page.on("console", lambda message: watched.messages.append(message.text))

    def dismissed(dialog: Any) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismissed)
    return watched


def sign_in(page: Page, console: Console, role: str) -> Person:
    """Sign in through the sign-in form, as a person would."""
    person = console.people[role]
    page.goto(console.base + "/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return person


_AXE = files("axe_playwright_python") / "axe.min.js"


def accessibility_findings(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.evaluate(_AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const results = await axe.run(document, {
                runOnly: {
                    type: "tag",
                    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
                },
            });
            return results.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                               targets: v.nodes.map((n) => n.target.join(" ")) }));
        }"""
    )
    return found


def screenshot(page: Page, name: str) -> None:
    """Keep a screenshot for the README when the run is asked to (CLARION_SCREENSHOTS)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def watched_of(page: Page) -> Watched:
    """What the ``page`` fixture's page did so far."""
    found: Watched = page.watched  # type: ignore[attr-defined]
    return found
