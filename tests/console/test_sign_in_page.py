"""Signing in and out of the console in a browser: the form, the wrong password, the lock
after repeated failures, a session that expired while idle, and the keyboard alone."""

from __future__ import annotations

import datetime as dt

from console_support import Console, accessibility_findings, screenshot, sign_in, watched_of
from playwright.sync_api import Page, expect
from sqlalchemy import update

from clarion.database import Database
from clarion.people.models import ConsoleSessionRow
from clarion.people.sign_in import ACCOUNT_FAILURES


def test_a_person_signs_in_sees_the_console_for_their_role_and_signs_out(
    page: Page, console: Console
) -> None:
    page.goto(console.base + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert accessibility_findings(page) == []
    screenshot(page, "sign-in")

    sign_in(page, console, "owner")
    navigation = page.get_by_role("navigation", name="Console")
    for label in (
        "Assistants",
        "Calls",
        "Try an assistant",
        "Deliveries",
        "Credentials",
        "API keys",
        "Users",
        "Access log",
    ):
        expect(navigation.get_by_role("link", name=label)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    # The session ended on the server: reloading does not bring it back.
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.context.cookies() == [] or all(
        cookie["name"] != "clarion_session" for cookie in page.context.cookies()
    )


def test_a_viewer_sees_only_what_a_viewer_may_use(page: Page, console: Console) -> None:
    sign_in(page, console, "viewer")
    navigation = page.get_by_role("navigation", name="Console")
    for label in ("Assistants", "Calls", "Deliveries"):
        expect(navigation.get_by_role("link", name=label)).to_be_visible()
    for label in ("Try an assistant", "Credentials", "API keys", "Users", "Access log"):
        expect(navigation.get_by_role("link", name=label)).to_have_count(0)
    page.goto(console.base + "/#/users")
    expect(page.get_by_text("This page needs the owner role; yours is viewer.")).to_be_visible()


def test_a_wrong_password_is_refused_in_the_same_words_as_an_unknown_address(
    page: Page, console: Console
) -> None:
    page.goto(console.base + "/")
    page.get_by_label("Email").fill(console.people["editor"].email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    wrong = page.get_by_role("alert").filter(has_text="email or password is wrong")
    expect(wrong).to_be_visible()
    said_for_a_person = wrong.inner_text()

    page.get_by_label("Email").fill("nobody@northside.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(said_for_a_person)


def test_after_repeated_failures_even_the_right_password_is_refused_for_a_while(
    page: Page, console: Console
) -> None:
    editor = console.people["editor"]
    page.goto(console.base + "/")
    for _ in range(ACCOUNT_FAILURES):
        page.get_by_label("Email").fill(editor.email)
        page.get_by_label("Password").fill("guess-after-guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("wrong")
        page.get_by_role("alert").evaluate("node => node.remove()")
    page.get_by_label("Email").fill(editor.email)
    page.get_by_label("Password").fill(editor.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("too many failed sign-ins")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # Another account is not locked by this one's failures.
    sign_in(page, console, "viewer")


def test_a_session_left_idle_past_its_time_ends_and_the_page_asks_to_sign_in_again(
    page: Page, console: Console, database: Database
) -> None:
    sign_in(page, console, "owner")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with database.unit(write=True) as unit:
        unit.session.execute(update(ConsoleSessionRow).values(last_seen_at=long_ago))
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Calls").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("session expired")).to_be_visible()


def test_sign_in_works_from_the_keyboard_alone(page: Page, console: Console) -> None:
    person = console.people["editor"]
    page.goto(console.base + "/")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(person.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert watched_of(page).dialogs == []
