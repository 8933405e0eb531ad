"""Fixtures for the console's browser tests: see console_support."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from console_support import PASSWORDS, Console, Person, watch
from playwright.sync_api import Browser, Page, sync_playwright

from browser_support import CHROMIUM, CHROMIUM_ARGS, require_chromium
from clarion.config import Settings
from clarion.database import Database
from clarion.people import service as people
from clarion.people.passwords import Passwords
from clarion.people.roles import Role
from fake_providers import FakeProviders, running_fake_providers
from served import clarion_serving
from support import Tenant, worker_env


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for a module's tests; each test gets a fresh context."""
    require_chromium("the console's browser tests")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with running_fake_providers() as providers:
        yield providers


def add_people(database: Database, settings: Settings, organization_id: int) -> dict[str, Person]:
    """One person of each role in the organization, with passwords of their own."""
    passwords = Passwords(settings.password_hash_memory_kib, settings.password_hash_iterations)
    people_by_role = {}
    for role in Role:
        email = f"{role.value}@northside.example"
        new = people.NewUser(
            email, role, passwords.hash(PASSWORDS[role.value]), must_change_password=False
        )
        with database.unit(write=True) as unit:
            shown = people.add_user(unit, organization_id, new)
        people_by_role[role.value] = Person(
            shown["user_id"], email, role.value, PASSWORDS[role.value]
        )
    return people_by_role


@pytest.fixture
def console_env(settings: Settings) -> Callable[..., dict[str, str]]:
    def env(**overrides: str) -> dict[str, str]:
        return worker_env(
            settings,
            CLARION_LOG_FORMAT="text",
            CLARION_PASSWORD_HASH_MEMORY_KIB=str(settings.password_hash_memory_kib),
            CLARION_PASSWORD_HASH_ITERATIONS=str(settings.password_hash_iterations),
            **overrides,
        )

    return env


@pytest.fixture
def console_settings() -> dict[str, str]:
    """Settings the served clarion takes besides the console's (CLARION_* variables): none,
    unless a test parametrizes this fixture."""
    return {}


@pytest.fixture
def console(
    settings: Settings,
    database: Database,
    tenant: Tenant,
    fake: FakeProviders,
    console_env: Callable[..., dict[str, str]],
    console_settings: dict[str, str],
) -> Iterator[Console]:
    """clarion serving the console, an organization with one person of each role, and a
    fake language model it may talk to."""
    people_by_role = add_people(database, settings, tenant.organization_id)
    with clarion_serving(console_env(**console_settings)) as served:
        yield Console(served.base, tenant, people_by_role, fake.openai_url)


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser page; when the test ends, it must not have fetched anything from
    another origin nor met a Content-Security-Policy refusal."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    watched = watch(opened)
    opened.watched = watched  # type: ignore[attr-defined]
    yield opened
    context.close()
    assert watched.foreign(console.base) == [], watched.foreign(console.base)
    assert watched.policy_violations() == [], watched.policy_violations()
