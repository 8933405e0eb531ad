"""The console's Users, Credentials, API keys and Access log pages in a browser: a person
invited, signing in with a one-time password and disabled; provider keys that never come back
to the page; API keys shown once, working until revoked, with who created them (disabling an
owner revokes theirs); the access log of who read which call;
each page refused to the roles that may not use it, in the page and by a direct request."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from console_support import Console, accessibility_findings, screenshot, sign_in, watch
from playwright.sync_api import Browser, Page, expect

from clarion.auth.keys import display_prefix

PROVIDER_KEY = "sk-northside-0123456789abcdWXYZ"
REVOKED_WITHIN_SECONDS = 10.0  # the server's key cache forgets a key within a second

# A request made from the page itself, as the page's own scripts would make it: the session
# cookie goes along, and the CSRF token from GET /v1/session when `with_token` says so.
_FETCH = """async ([method, path, body, withToken]) => {
    const session = await fetch("/v1/session");
    const headers = { "Content-Type": "application/json" };
    if (withToken && session.ok) headers["X-CSRF-Token"] = (await session.json()).csrf_token;
    const response = await fetch(path, {
        method, headers, body: body === null ? undefined : JSON.stringify(body),
    });
    return response.status;
}"""


def status_from(
    page: Page, method: str, path: str, body: Any = None, *, with_token: bool = True
) -> int:
    """The status of a request the signed-in page makes directly, past anything it shows."""
    status: int = page.evaluate(_FETCH, [method, path, body, with_token])
    return status


@contextmanager
def another_person(browser: Browser, console: Console) -> Iterator[Page]:
    """A page in a browser context of its own (its own cookies: another person at another
    desk), held to the same rules as the ``page`` fixture's."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    watched = watch(opened)
    try:
        yield opened
    finally:
        context.close()
    assert watched.foreign(console.base) == [], watched.foreign(console.base)
    assert watched.policy_violations() == [], watched.policy_violations()


def open_page(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", level=1, name=label)).to_be_visible()


def refused_page(page: Page, console: Console, path: str, role: str, needed: str = "owner") -> None:
    """The page at ``path``, reached by its address by someone of ``role``, says which role it
    needs instead of showing anything."""
    page.goto(f"{console.base}/#/{path}")
    expect(page.get_by_text(f"This page needs the {needed} role; yours is {role}.")).to_be_visible()


def acting_with(console: Console, key: str) -> httpx.Client:
    """A client acting with ``key``."""
    return httpx.Client(base_url=console.base, headers={"Authorization": f"Bearer {key}"})


def test_an_owner_invites_a_viewer_who_chooses_a_password_and_is_then_disabled(
    page: Page, console: Console, browser: Browser
) -> None:
    owner = sign_in(page, console, "owner")
    open_page(page, "Users")
    people = page.get_by_role("table", name="Console users")
    expect(people.locator("tbody tr")).to_have_count(3)
    # No one disables themselves: the owner's own row offers no Disable.
    own_row = people.get_by_role("row").filter(has_text=owner.email)
    expect(own_row).to_contain_text("(you)")
    expect(own_row.get_by_role("button")).to_have_count(0)

    email = "nurse.kim@northside.example"
    invite = page.get_by_role("form", name="Invite a person")
    invite.get_by_label("Email").fill(email)
    invite.get_by_label("Role").select_option("viewer")
    invite.get_by_role("button", name="Invite").click()
    shown_once = page.get_by_role("region", name=f"One-time password for {email}")
    expect(shown_once).to_be_focused()
    expect(shown_once).to_contain_text("choose their own at first sign-in")
    expect(shown_once).to_contain_text("It will not be shown again.")
    one_time_password = shown_once.locator(".secret").inner_text()
    assert len(one_time_password) >= 12
    new_row = people.get_by_role("row").filter(has_text=email)
    expect(new_row).to_contain_text("viewer")
    expect(new_row.get_by_role("cell").nth(4)).to_have_text("Yes")  # must change password
    assert accessibility_findings(page) == []

    with another_person(browser, console) as theirs:
        theirs.goto(console.base + "/")
        theirs.get_by_label("Email").fill(email)
        theirs.get_by_label("Password").fill(one_time_password)
        theirs.get_by_role("button", name="Sign in").click()
        expect(theirs.get_by_role("heading", name="Choose your password")).to_be_visible()
        theirs.get_by_label("Current password").fill(one_time_password)
        theirs.get_by_label("New password").fill("kim-chose-this-one-5678")
        theirs.get_by_role("button", name="Save").click()
        expect(theirs.get_by_text(f"{email} · viewer")).to_be_visible()
        their_navigation = theirs.get_by_role("navigation", name="Console")
        expect(their_navigation.get_by_role("link", name="Calls")).to_be_visible()
        expect(their_navigation.get_by_role("link", name="Users")).to_have_count(0)
        refused_page(theirs, console, "users", "viewer")
        invitation = {"email": "someone@northside.example", "role": "owner"}
        assert status_from(theirs, "POST", "/v1/user", invitation) == 403

        page.reload()
        expect(new_row.get_by_role("cell").nth(4)).to_have_text("No")
        expect(page.get_by_text(one_time_password)).to_have_count(0)  # shown once only
        new_row.get_by_role("button", name="Disable").click()
        expect(new_row.get_by_role("group")).to_contain_text(f"Disable {email}?")
        expect(new_row.get_by_role("group")).to_contain_text(
            "the API keys they created are revoked too"
        )
        new_row.get_by_role("button", name="Disable user").click()
        expect(new_row.get_by_role("cell").nth(3)).to_contain_text("Disabled")
        expect(new_row.get_by_role("button")).to_have_count(0)

        # Their session ended with the account: the next page they open asks them to sign in.
        theirs.reload()
        expect(theirs.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(theirs.get_by_role("button", name="Sign out")).to_have_count(0)

    expect(page.get_by_role("status").filter(has_text=f"Disabled {email}.")).to_be_visible()
    screenshot(page, "users")
    assert accessibility_findings(page) == []


def test_an_editor_adds_a_provider_key_that_is_never_shown_back(
    page: Page, console: Console, browser: Browser
) -> None:
    sign_in(page, console, "editor")
    open_page(page, "Credentials")
    expect(page.get_by_role("heading", name="Add your first provider key")).to_be_visible()
    add = page.get_by_role("form", name="Add a credential")

    add.get_by_label("Provider").select_option("openai")
    add.get_by_label("Base URL").fill("http://169.254.169.254/")
    add.get_by_label("API key").fill(PROVIDER_KEY)
    add.get_by_role("button", name="Add credential").click()
    base_url = add.get_by_label("Base URL")
    expect(base_url).to_have_attribute("aria-invalid", "true")
    expect(base_url).to_have_accessible_description(re.compile(r"base_url: 169\.254\.169\.254"))
    expect(base_url).to_be_focused()
    api = console.api()
    assert api.get("/v1/credential").json() == []

    add.get_by_label("Name").fill("Clinic model server")
    base_url.fill(str(console.fake_url))
    add.get_by_role("button", name="Add credential").click()
    credentials = page.get_by_role("table", name="Provider credentials")
    row = credentials.get_by_role("row").filter(has_text="Clinic model server")
    expect(row).to_contain_text("set · …WXYZ")
    expect(row).to_contain_text(str(console.fake_url))
    expect(base_url).not_to_have_attribute("aria-invalid", "true")
    expect(add.get_by_label("API key")).to_have_value("")
    assert PROVIDER_KEY not in page.content()
    values = page.evaluate("() => [...document.querySelectorAll('input')].map((i) => i.value)")
    assert PROVIDER_KEY not in values
    listed = api.get("/v1/credential")
    assert PROVIDER_KEY not in listed.text
    [credential] = listed.json()
    assert credential["api_key_hint"] == "…WXYZ"
    assert credential["is_api_key_set"] is True
    assert "api_key" not in credential
    screenshot(page, "credentials")
    assert accessibility_findings(page) == []

    # Editing with the key left empty keeps the key; a key typed replaces it.
    row.get_by_role("button", name="Edit").click()
    edit = page.get_by_role("form", name=re.compile("Edit the OpenAI credential"))
    expect(edit.get_by_label("Name")).to_be_focused()
    expect(edit.get_by_label("New API key")).to_have_value("")
    edit.get_by_label("Name").fill("Model server")
    edit.get_by_role("button", name="Save").click()
    expect(credentials).not_to_contain_text("Clinic model server")  # saved and drawn again
    row = credentials.get_by_role("row").filter(has_text="Model server")
    expect(row).to_contain_text("set · …WXYZ")
    kept = api.get(f"/v1/credential/{credential['id']}").json()
    assert (kept["name"], kept["api_key_hint"]) == ("Model server", "…WXYZ")
    row.get_by_role("button", name="Edit").click()
    edit.get_by_label("New API key").fill("sk-northside-9876543210zyxwABCD")
    edit.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("set · …ABCD")
    assert api.get(f"/v1/credential/{credential['id']}").json()["api_key_hint"] == "…ABCD"

    # Deleting asks first, in the page; Cancel leaves the credential as it was.
    row.get_by_role("button", name="Delete").click()
    expect(row.get_by_role("group")).to_contain_text("Delete the OpenAI credential “Model server”?")
    assert accessibility_findings(page) == []
    row.get_by_role("button", name="Cancel").click()
    expect(row.get_by_role("button", name="Delete")).to_be_focused()
    assert len(api.get("/v1/credential").json()) == 1
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Delete credential").click()
    expect(page.get_by_role("heading", name="Add your first provider key")).to_be_visible()
    assert api.get("/v1/credential").json() == []

    with another_person(browser, console) as viewer:
        sign_in(viewer, console, "viewer")
        navigation = viewer.get_by_role("navigation", name="Console")
        expect(navigation.get_by_role("link", name="Credentials")).to_have_count(0)
        refused_page(viewer, console, "credentials", "viewer", needed="editor")
        assert status_from(viewer, "GET", "/v1/credential") == 403
        new = {"provider": "openai", "api_key": PROVIDER_KEY}
        assert status_from(viewer, "POST", "/v1/credential", new) == 403
    assert api.get("/v1/credential").json() == []


def refused_soon(key: str, console: Console) -> int:
    """The status of a request made with ``key`` once it is refused (a revoked key is
    forgotten by every server within a second), or of the last try."""
    deadline = time.monotonic() + REVOKED_WITHIN_SECONDS
    with acting_with(console, key) as http:
        while True:
            status = http.get("/v1/assistant").status_code
            if status == 401 or time.monotonic() > deadline:
                return status
            time.sleep(0.1)


def test_an_owner_creates_an_api_key_shown_once_that_works_until_revoked(
    page: Page, console: Console, browser: Browser
) -> None:
    owner = sign_in(page, console, "owner")
    open_page(page, "API keys")
    keys = page.get_by_role("table", name="API keys")
    expect(keys.locator("tbody tr")).to_have_count(1)  # the organization's own key
    expect(keys.locator("tbody tr")).to_contain_text("command line / API key")

    page.get_by_role("button", name="Create API key").click()
    shown_once = page.get_by_role("region", name="Your new API key")
    expect(shown_once).to_be_focused()
    expect(shown_once).to_contain_text("it will not be shown again")
    new_key = shown_once.locator(".secret").inner_text()
    expect(keys.locator("tbody tr")).to_have_count(2)
    with acting_with(console, new_key) as http:
        assert http.get("/v1/assistant").status_code == 200
    assert accessibility_findings(page) == []

    page.reload()
    expect(keys.locator("tbody tr")).to_have_count(2)
    assert new_key not in page.content()
    row = keys.get_by_role("row").filter(has_text=display_prefix(new_key))
    expect(row).to_contain_text("In use")
    expect(row).to_contain_text(f"{owner.email} (you)")
    row.get_by_role("button", name="Revoke").click()
    expect(row.get_by_role("group")).to_contain_text("Programs using it are refused")
    row.get_by_role("button", name="Revoke key").click()
    expect(row).not_to_contain_text("In use")
    expect(row.get_by_role("button")).to_have_count(0)
    assert refused_soon(new_key, console) == 401
    assert console.api().get("/v1/assistant").status_code == 200  # the other key still works
    screenshot(page, "api-keys")
    assert accessibility_findings(page) == []

    # Even an owner's page is refused a change that does not carry the session's CSRF token.
    assert status_from(page, "POST", "/v1/api-key", with_token=False) == 403
    assert len(console.api().get("/v1/api-key").json()) == 2

    with another_person(browser, console) as editor:
        sign_in(editor, console, "editor")
        navigation = editor.get_by_role("navigation", name="Console")
        expect(navigation.get_by_role("link", name="Credentials")).to_be_visible()
        expect(navigation.get_by_role("link", name="API keys")).to_have_count(0)
        refused_page(editor, console, "api-keys", "editor")
        assert status_from(editor, "POST", "/v1/api-key") == 403
        assert status_from(editor, "GET", "/v1/api-key") == 403
    assert len(console.api().get("/v1/api-key").json()) == 2


def an_owner_with_a_key(console: Console, email: str) -> str:
    """Another owner, invited and signed in as a person would be, and the API key they
    created from their session."""
    invited = console.api().post("/v1/user", json={"email": email, "role": "owner"})
    assert invited.status_code == 201, invited.text
    one_time, chosen = invited.json()["password"], "lee-chose-this-one-5678"
    with httpx.Client(base_url=console.base) as theirs:
        opened = theirs.post("/v1/session", json={"email": email, "password": one_time})
        assert opened.status_code == 201, opened.text
        token = {"X-CSRF-Token": opened.json()["csrf_token"]}
        changed = theirs.post(
            "/v1/session/password",
            json={"current_password": one_time, "new_password": chosen},
            headers=token,
        )
        assert changed.status_code == 200, changed.text
        created = theirs.post("/v1/api-key", headers=token)
        assert created.status_code == 201, created.text
    key: str = created.json()["api_key"]
    return key


def test_disabling_an_owner_revokes_the_api_keys_the_page_shows_they_created(
    page: Page, console: Console
) -> None:
    email = "lee.locum@northside.example"
    their_key = an_owner_with_a_key(console, email)
    with acting_with(console, their_key) as http:
        assert http.get("/v1/assistant").status_code == 200
    sign_in(page, console, "owner")
    open_page(page, "API keys")
    keys = page.get_by_role("table", name="API keys")
    theirs = keys.get_by_role("row").filter(has_text=display_prefix(their_key))
    expect(theirs).to_contain_text(email)
    expect(theirs).to_contain_text("In use")

    open_page(page, "Users")
    row = page.get_by_role("table", name="Console users").get_by_role("row").filter(has_text=email)
    row.get_by_role("button", name="Disable").click()
    expect(row.get_by_role("group")).to_contain_text("the API keys they created are revoked too")
    row.get_by_role("button", name="Disable user").click()
    expect(
        page.get_by_role("status").filter(
            has_text=f"Disabled {email}. Revoked the API key they created."
        )
    ).to_be_visible()
    assert refused_soon(their_key, console) == 401
    assert console.api().get("/v1/assistant").status_code == 200  # the organization's own key

    open_page(page, "API keys")
    expect(theirs).to_contain_text(email)
    expect(theirs).not_to_contain_text("In use")
    expect(theirs.get_by_role("button")).to_have_count(0)
    assert accessibility_findings(page) == []


def calls_of_an_assistant(console: Console, count: int) -> list[int]:
    """``count`` new web calls of an assistant whose model is the fake one."""
    api = console.api()
    credential = {"provider": "openai", "api_key": "sk-test", "base_url": console.fake_url}
    assert api.post("/v1/credential", json=credential).status_code == 201
    assistant = api.post(
        "/v1/assistant",
        json={"name": "Reminders", "model": {"provider": "openai", "model": "gpt-4o"}},
    )
    assert assistant.status_code == 201, assistant.text
    ids = []
    for _ in range(count):
        created = api.post("/v1/call", json={"assistant_id": assistant.json()["id"]})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


# One read of the calls list is one entry per call, all at one moment: with more of them than
# the page's fifty rows, the log's first page ends inside that moment.
LISTED_CALLS = 51


@pytest.mark.parametrize(
    "console_settings",
    [{"CLARION_MAX_LIVE_CALLS_PER_ORGANIZATION": str(LISTED_CALLS)}],
)
def test_the_access_log_shows_who_read_which_call_newest_first(
    page: Page, console: Console, browser: Browser
) -> None:
    calls = calls_of_an_assistant(console, LISTED_CALLS)
    first, second, third = calls[:3]
    sign_in(page, console, "owner")
    api = console.api()
    listed = api.get("/v1/call", params={"limit": LISTED_CALLS})
    assert len(listed.json()) == LISTED_CALLS
    assert api.get(f"/v1/call/{first}").status_code == 200
    viewer_email = console.people["viewer"].email
    with another_person(browser, console) as viewer:
        sign_in(viewer, console, "viewer")
        assert status_from(viewer, "GET", f"/v1/call/{second}") == 200
        assert status_from(viewer, "GET", "/v1/access-log") == 403
    with another_person(browser, console) as editor:
        sign_in(editor, console, "editor")
        assert status_from(editor, "GET", "/v1/access-log") == 403
        refused_page(editor, console, "access-log", "editor")
    logged = api.get("/v1/access-log", params={"limit": 1000}).json()
    assert len(logged) == LISTED_CALLS + 2

    open_page(page, "Access log")
    rows = page.get_by_role("table", name="Reads of call transcripts, newest first").locator(
        "tbody tr"
    )
    expect(rows).to_have_count(50)
    expect(rows.nth(0)).to_contain_text(f"Call {second}")
    expect(rows.nth(0)).to_contain_text(viewer_email)
    expect(rows.nth(0)).to_contain_text("127.0.0.1")
    expect(rows.nth(1)).to_contain_text(f"Call {first}")
    expect(rows.nth(1)).to_contain_text(f"API key {console.tenant.key_id}")
    expect(rows.nth(0).locator("time")).to_have_attribute("datetime", logged[0]["at"])
    expect(rows.nth(0).get_by_role("link", name=f"Call {second}")).to_have_attribute(
        "href", f"#/calls/{second}"
    )
    screenshot(page, "access-log")
    assert accessibility_findings(page) == []

    page.get_by_role("button", name="Show more").click()
    expect(rows).to_have_count(len(logged))
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)
    expect(rows.nth(50).get_by_role("link")).to_be_focused()
    # Every entry once, in the log's order, though the first page ended inside a moment.
    shown = rows.evaluate_all(
        "rows => rows.map((row) => [row.querySelector('time').getAttribute('datetime'),"
        " row.cells[1].textContent])"
    )
    assert shown == [[entry["at"], f"Call {entry['call_id']}"] for entry in logged]

    page.get_by_label("Call", exact=True).fill(str(first))
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)  # in the list, and alone
    expect(rows.filter(has_text=f"Call {first}")).to_have_count(2)
    page.get_by_label("Call", exact=True).fill("")
    page.get_by_label("Who").select_option(label=viewer_email)
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(f"Call {second}")
    page.get_by_label("Call", exact=True).fill(str(third))
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="No reads match")).to_be_visible()  # not by them


def test_each_page_passes_the_accessibility_scan_in_a_new_organization(
    page: Page, console: Console
) -> None:
    sign_in(page, console, "owner")
    open_page(page, "Credentials")
    expect(page.get_by_role("heading", name="Add your first provider key")).to_be_visible()
    expect(page.get_by_role("form", name="Add a credential")).to_be_visible()
    assert accessibility_findings(page) == []
    open_page(page, "API keys")
    expect(page.get_by_role("table", name="API keys").locator("tbody tr")).to_have_count(1)
    assert accessibility_findings(page) == []
    open_page(page, "Users")
    expect(page.get_by_role("table", name="Console users").locator("tbody tr")).to_have_count(3)
    assert accessibility_findings(page) == []
    open_page(page, "Access log")
    expect(page.get_by_role("heading", name="No reads yet")).to_be_visible()
    assert accessibility_findings(page) == []


def test_a_credential_is_added_and_deleted_from_the_keyboard_alone(
    page: Page, console: Console
) -> None:
    sign_in(page, console, "editor")
    page.goto(f"{console.base}/#/credentials")
    expect(page.get_by_role("heading", name="Add your first provider key")).to_be_visible()
    add = page.get_by_role("form", name="Add a credential")
    page.keyboard.press("Tab")
    expect(add.get_by_label("Provider")).to_be_focused()
    page.keyboard.press("Tab")
    expect(add.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Front desk")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(add.get_by_label("API key")).to_be_focused()
    page.keyboard.type(PROVIDER_KEY)
    page.keyboard.press("Enter")
    row = page.get_by_role("row").filter(has_text="Front desk")
    expect(row).to_contain_text("set · …WXYZ")

    for _ in range(4):  # back past the form's fields to the new row
        page.keyboard.press("Shift+Tab")
    expect(row.get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Enter")
    cancel = row.get_by_role("button", name="Cancel")
    expect(cancel).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(row.get_by_role("button", name="Delete credential")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Add your first provider key")).to_be_visible()
    assert console.api().get("/v1/credential").json() == []
