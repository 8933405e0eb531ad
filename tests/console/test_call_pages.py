"""The console's Calls, Try an assistant and Deliveries pages in a browser: a web call held in
the page, live calls showing up and ending without a reload, the reads noted in the access
log, what was said kept as text, each role's limits, the list's filters, and a failed report
delivery sent again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from console_support import Console, accessibility_findings, screenshot, sign_in, watched_of
from playwright.sync_api import Locator, Page, expect
from websockets.sync.client import ClientConnection, connect

from clarion.calls.endings import EndedReason
from fake_providers import FakeProviders, Reply
from served import frames_until
from webhook_receiver import Answer, Receiver, eventually

FIRST_MESSAGE = "Hello, this is Northside Clinic."
ASKED = "Can I come on Thursday?"
ANSWER = "Thursday at nine works. See you then."
SUMMARY_PROMPT = "Summarize the call in one sentence."
SUMMARY = "The patient booked Thursday at nine."
STRUCTURED_PROMPT = "Which day did the patient book?"
SUCCESS_PROMPT = "Did the patient book a visit?"
ANALYSIS_PLAN = {
    "summaryPrompt": SUMMARY_PROMPT,
    "structuredDataPrompt": STRUCTURED_PROMPT,
    "structuredDataSchema": {
        "type": "object",
        "properties": {"day": {"type": "string"}, "booked": {"type": "boolean"}},
        "required": ["day", "booked"],
    },
    "successEvaluationPrompt": SUCCESS_PROMPT,
    "successEvaluationRubric": "PassFail",
}
MARKUP = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def prepare_credential(console: Console) -> None:
    """The organization's credential for the fake model."""
    credential = {"provider": "openai", "api_key": "sk-test", "base_url": console.fake_url}
    with console.api() as http:
        response = http.post("/v1/credential", json=credential)
        assert response.status_code == 201, response.text


def new_assistant(console: Console, **fields: Any) -> dict[str, Any]:
    """An assistant on the fake model (``fields`` add to its own)."""
    body = {
        "name": "Reminders",
        "model": {"provider": "openai", "model": "gpt-4o"},
        "first_message": FIRST_MESSAGE,
        **fields,
    }
    with console.api() as http:
        response = http.post("/v1/assistant", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def new_call(console: Console, assistant_id: int) -> dict[str, Any]:
    """A web call of the assistant, created through the API."""
    with console.api() as http:
        response = http.post("/v1/call", json={"assistant_id": assistant_id})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@contextmanager
def joined(call: dict[str, Any]) -> Iterator[ClientConnection]:
    """The call joined by a caller with a WebSocket, once its first message is said."""
    with connect(call["web_call_url"], open_timeout=10) as connection:
        frames_until(connection, "assistant-message")
        yield connection


def say(connection: ClientConnection, text: str) -> None:
    """The caller says ``text`` and hears the reply."""
    connection.send(orjson.dumps({"type": "user-message", "text": text}).decode())
    frames_until(connection, "assistant-message")


def hang_up(connection: ClientConnection) -> dict[str, Any]:
    """The caller hangs up; the call-ended frame."""
    connection.send(orjson.dumps({"type": "hangup"}).decode())
    return frames_until(connection, "call-ended")[-1]


def model_answer(request: dict[str, Any]) -> Reply:
    """The fake model's answer: the analysis plan's parts, or the assistant's turn."""
    system = " ".join(
        str(message.get("content"))
        for message in request["messages"]
        if message["role"] == "system"
    )
    if SUMMARY_PROMPT in system:
        return Reply(SUMMARY)
    if STRUCTURED_PROMPT in system:
        return Reply('{"day": "Thursday", "booked": true}')
    if SUCCESS_PROMPT in system:
        return Reply('{"result": true}')
    return Reply(ANSWER)


def row_of(page: Page, call_id: int) -> Locator:
    """The Calls list's row of one call."""
    return page.get_by_role("row").filter(
        has=page.get_by_role("link", name=f"Call {call_id}", exact=True)
    )


def go_to(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", name=label, level=1)).to_be_visible()


def call_of(console: Console, call_id: int) -> dict[str, Any]:
    with console.api() as http:
        response = http.get(f"/v1/call/{call_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


def test_an_editor_holds_a_call_with_an_assistant_in_the_page_and_finds_it_under_calls(
    page: Page, console: Console, fake: FakeProviders
) -> None:
    prepare_credential(console)
    new_assistant(console, analysis_plan=ANALYSIS_PLAN)
    fake.script = model_answer
    sign_in(page, console, "editor")

    go_to(page, "Try an assistant")
    expect(page.get_by_label("Assistant")).to_have_value(re.compile(r"\d+"))
    page.get_by_role("button", name="Start call").click()
    conversation = page.get_by_role("log", name="Conversation")
    expect(conversation.get_by_role("listitem")).to_have_count(1)
    expect(conversation).to_contain_text(FIRST_MESSAGE)
    page.get_by_label("Message").fill(ASKED)
    page.get_by_role("button", name="Send").click()
    expect(conversation.get_by_role("listitem")).to_have_count(3)
    expect(conversation.get_by_role("listitem").nth(1)).to_contain_text(ASKED)
    expect(conversation.get_by_role("listitem").nth(2)).to_contain_text(ANSWER)
    expect(page.get_by_label("Message")).to_be_focused()
    screenshot(page, "try-call")
    assert accessibility_findings(page) == []

    page.get_by_role("button", name="End call").click()
    expect(page.get_by_text("The call ended: the caller hung up (customer-ended).")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    call_link = page.get_by_role("link", name="The call's page")
    call_id = int(call_link.get_attribute("href").rsplit("/", 1)[1])  # type: ignore[union-attr]

    go_to(page, "Calls")
    row = row_of(page, call_id)
    expect(row).to_contain_text("ended")
    expect(row).to_contain_text("customer-ended")
    expect(row).to_contain_text("Reminders")
    expect(row).not_to_contain_text("live")
    assert accessibility_findings(page) == []

    row.get_by_role("link", name=f"Call {call_id}").click()
    expect(page.get_by_role("heading", name=f"Call {call_id}")).to_be_visible()
    messages = page.get_by_role("list", name="What was said").get_by_role("listitem")
    expect(messages).to_have_count(3)
    expect(messages.nth(0)).to_contain_text(FIRST_MESSAGE)
    expect(messages.nth(1)).to_contain_text(ASKED)
    expect(messages.nth(1)).to_contain_text("Caller")
    expect(messages.nth(2)).to_contain_text(ANSWER)
    expect(messages.nth(2)).to_contain_text("Assistant")
    # The page looks again after the call's end until its analysis is kept.
    expect(page.get_by_text(SUMMARY)).to_be_visible()
    structured = page.get_by_role("heading", name="Structured data").locator("+ dl")
    expect(structured.get_by_role("term")).to_have_text(["day", "booked"])
    expect(structured.get_by_role("definition")).to_have_text(["Thursday", "true"])
    success = page.get_by_role("heading", name="Success evaluation").locator("+ p")
    expect(success).to_have_text("true")
    expect(page.get_by_role("button", name="End call")).to_be_hidden()
    screenshot(page, "call-page")
    assert accessibility_findings(page) == []


def test_an_editor_tries_an_assistant_from_the_keyboard_alone(
    page: Page, console: Console, fake: FakeProviders
) -> None:
    prepare_credential(console)
    new_assistant(console)
    fake.script = lambda _request: Reply(ANSWER)
    sign_in(page, console, "editor")
    page.goto(console.base + "/#/try")
    expect(page.get_by_role("heading", name="Try an assistant")).to_be_visible()
    expect(page.get_by_label("Assistant")).to_be_visible()  # the assistants are read first

    page.keyboard.press("Tab")
    expect(page.get_by_label("Assistant")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Type in this page")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Start call")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message")).to_be_focused()
    page.keyboard.type(ASKED)
    page.keyboard.press("Enter")
    conversation = page.get_by_role("log", name="Conversation")
    expect(conversation.get_by_role("listitem").nth(2)).to_contain_text(ANSWER)
    expect(page.get_by_label("Message")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="End call")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("customer-ended")).to_be_visible()
    expect(page.get_by_role("link", name="The call's page")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("list", name="What was said")).to_contain_text(ANSWER)
    assert watched_of(page).dialogs == []

    # To speak instead, the call is made and the voice page's link given, to open at will.
    go_to(page, "Try an assistant")
    page.get_by_label("Speak, on the voice page").check()
    page.get_by_role("button", name="Start call").click()
    voice_page = page.get_by_role("link", name="Open the voice page")
    expect(voice_page).to_have_attribute(
        "href", re.compile(rf"^{re.escape(console.base)}/talk#ws://.+/v1/call/\d+/web\?token=")
    )


def test_a_live_call_shows_up_and_changes_without_a_reload_and_an_editor_ends_it(
    page: Page, console: Console, fake: FakeProviders
) -> None:
    prepare_credential(console)
    assistant = new_assistant(console)
    fake.script = lambda _request: Reply(ANSWER)
    sign_in(page, console, "editor")
    go_to(page, "Calls")
    expect(page.get_by_role("heading", name="No calls yet")).to_be_visible()
    expect(page.get_by_role("link", name="Try an assistant").last).to_be_visible()
    assert accessibility_findings(page) == []
    page.evaluate("window.__sameDocument = true")

    hung_up = new_call(console, assistant["id"])
    with joined(hung_up) as connection:
        row = row_of(page, hung_up["id"])
        expect(row).to_contain_text("live")
        expect(row).to_contain_text("in-progress")
        hang_up(connection)
    expect(row).to_contain_text("customer-ended")
    expect(row).not_to_contain_text("live")

    ended_here = new_call(console, assistant["id"])
    with joined(ended_here) as connection:
        row = row_of(page, ended_here["id"])
        expect(row).to_contain_text("live")
        assert page.evaluate("window.__sameDocument") is True  # never reloaded

        row.get_by_role("link", name=f"Call {ended_here['id']}").click()
        expect(page.get_by_role("list", name="What was said")).to_contain_text(FIRST_MESSAGE)
        say(connection, ASKED)
        # The call's page looks again while the call is live.
        expect(
            page.get_by_role("list", name="What was said").get_by_role("listitem")
        ).to_have_count(3)
        page.get_by_role("button", name="End call").click()
        ended = frames_until(connection, "call-ended")[-1]
    assert ended["ended_reason"] == "manually-canceled"
    expect(
        page.get_by_text("The call ended: someone ended the call (manually-canceled).")
    ).to_be_visible()
    expect(page.get_by_role("button", name="End call")).to_be_hidden()
    assert call_of(console, ended_here["id"])["ended_reason"] == "manually-canceled"

    page.get_by_role("link", name="All calls").click()
    expect(row_of(page, ended_here["id"])).to_contain_text("manually-canceled")


def test_the_lists_polls_add_no_access_log_entries_and_the_calls_page_adds_the_users(
    page: Page, console: Console, fake: FakeProviders
) -> None:
    prepare_credential(console)
    assistant = new_assistant(console)
    fake.script = lambda _request: Reply(ANSWER)
    call = new_call(console, assistant["id"])
    with joined(call) as connection:
        say(connection, ASKED)
        hang_up(connection)

    def reads() -> list[dict[str, Any]]:
        with console.api() as http:
            response = http.get("/v1/access-log", params={"call_id": call["id"]})
            assert response.status_code == 200, response.text
            found: list[dict[str, Any]] = response.json()
            return [entry for entry in found if entry["actor_type"] == "user"]

    assert reads() == []
    editor = sign_in(page, console, "editor")
    go_to(page, "Calls")
    expect(row_of(page, call["id"])).to_contain_text("customer-ended")
    # The list carries no conversation, however often it looks again; and its looks again
    # are the page's own, which do not keep the session from going idle.
    for _ in range(2):
        with page.expect_response(lambda response: "/v1/call?" in response.url) as polled:
            pass
        assert polled.value.request.headers.get("x-clarion-background") == "1"
    assert reads() == []

    row_of(page, call["id"]).get_by_role("link").click()
    expect(page.get_by_role("list", name="What was said")).to_contain_text(ASKED)
    after = reads()
    assert after != []
    assert {(entry["actor_type"], entry["actor_id"]) for entry in after} == {
        ("user", editor.user_id)
    }


def test_what_was_said_and_the_assistants_name_show_as_text_never_as_markup(
    page: Page, console: Console, fake: FakeProviders
) -> None:
    prepare_credential(console)
    new_assistant(console, name=f"Front desk {MARKUP}")
    fake.script = lambda _request: Reply(f"You said {MARKUP}")
    sign_in(page, console, "editor")

    go_to(page, "Try an assistant")
    expect(page.get_by_label("Assistant").locator("option").first).to_have_text(
        f"Front desk {MARKUP}"
    )
    page.get_by_role("button", name="Start call").click()
    conversation = page.get_by_role("log", name="Conversation")
    expect(conversation).to_contain_text(FIRST_MESSAGE)
    page.get_by_label("Message").fill(MARKUP)
    page.get_by_role("button", name="Send").click()
    expect(conversation.get_by_role("listitem").nth(1)).to_contain_text(MARKUP)
    expect(conversation.get_by_role("listitem").nth(2)).to_contain_text(f"You said {MARKUP}")
    page.get_by_role("button", name="End call").click()
    expect(page.get_by_text("customer-ended")).to_be_visible()
    page.get_by_role("link", name="The call's page").click()

    messages = page.get_by_role("list", name="What was said").get_by_role("listitem")
    expect(messages).to_have_count(3)
    expect(messages.nth(1)).to_contain_text(MARKUP)
    expect(messages.nth(2)).to_contain_text(f"You said {MARKUP}")
    expect(page.get_by_text(f"Front desk {MARKUP}")).to_be_visible()
    go_to(page, "Calls")
    expect(page.get_by_role("row").nth(1)).to_contain_text(f"Front desk {MARKUP}")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main script, main img").count() == 0


def test_a_viewer_reads_calls_but_may_not_end_one_nor_try_an_assistant(
    page: Page, console: Console, fake: FakeProviders
) -> None:
    prepare_credential(console)
    assistant = new_assistant(console)
    fake.script = lambda _request: Reply(ANSWER)
    call = new_call(console, assistant["id"])
    with joined(call) as connection:
        sign_in(page, console, "viewer")
        navigation = page.get_by_role("navigation", name="Console")
        expect(navigation.get_by_role("link", name="Try an assistant")).to_have_count(0)
        go_to(page, "Calls")
        row = row_of(page, call["id"])
        expect(row).to_contain_text("live")
        row.get_by_role("link").click()
        expect(page.get_by_role("list", name="What was said")).to_contain_text(FIRST_MESSAGE)
        expect(page.get_by_role("button", name="End call")).to_have_count(0)
        assert accessibility_findings(page) == []

        status = page.evaluate(
            """async (id) => {
                const session = await (await fetch("/v1/session")).json();
                const response = await fetch(`/v1/call/${id}/end`, {
                    method: "POST", headers: { "X-CSRF-Token": session.csrf_token },
                });
                return response.status;
            }""",
            call["id"],
        )
        assert status == 403
        assert call_of(console, call["id"])["call_status"] == "in-progress"

        page.goto(console.base + "/#/try")
        expect(
            page.get_by_text("This page needs the editor role; yours is viewer.")
        ).to_be_visible()
        hang_up(connection)


def test_the_filters_show_only_the_calls_asked_for(page: Page, console: Console) -> None:
    prepare_credential(console)
    reminders = new_assistant(console, name="Reminders")
    intake = new_assistant(console, name="Intake")
    reminder_calls = [new_call(console, reminders["id"])["id"] for _ in range(2)]
    intake_call = new_call(console, intake["id"])["id"]
    sign_in(page, console, "viewer")
    go_to(page, "Calls")
    for call_id in [*reminder_calls, intake_call]:
        expect(row_of(page, call_id)).to_be_visible()
    # Queued calls are live: nobody has joined them yet.
    expect(row_of(page, intake_call)).to_contain_text("queued")
    expect(row_of(page, intake_call)).to_contain_text("live")
    with console.api() as http:
        assert http.post(f"/v1/call/{intake_call}/end").status_code == 200
    expect(row_of(page, intake_call)).to_contain_text("manually-canceled")

    page.get_by_label("Assistant").select_option(label="Intake")
    expect(row_of(page, intake_call)).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)

    page.get_by_label("Assistant").select_option(label="Reminders")
    for call_id in reminder_calls:
        expect(row_of(page, call_id)).to_be_visible()
    expect(row_of(page, intake_call)).to_have_count(0)

    page.get_by_label("Status").select_option("ended")
    expect(page.get_by_text("No calls match these filters.")).to_be_visible()
    page.get_by_label("Status").select_option("queued")
    for call_id in reminder_calls:
        expect(row_of(page, call_id)).to_be_visible()

    page.get_by_label("Assistant").select_option(label="All assistants")
    page.get_by_label("Status").select_option(label="Any status")
    page.get_by_label("To").fill("2000-01-01T00:00")
    expect(page.get_by_text("No calls match these filters.")).to_be_visible()
    page.get_by_label("To").fill("")
    page.get_by_label("From").fill("2000-01-01T00:00")
    for call_id in [*reminder_calls, intake_call]:
        expect(row_of(page, call_id)).to_be_visible()

    reasons = page.get_by_label("Ended reason").locator("option")
    assert reasons.all_inner_texts()[1:] == [reason.value for reason in EndedReason]
    page.get_by_label("Ended reason").select_option("manually-canceled")
    expect(row_of(page, intake_call)).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)
    page.get_by_label("Ended reason").select_option("customer-did-not-answer")
    expect(page.get_by_text("No calls match these filters.")).to_be_visible()
    assert accessibility_findings(page) == []


@pytest.mark.parametrize(
    "console_settings", [{"CLARION_WEBHOOK_RETRY_SCHEDULE": "0"}], ids=["one-attempt"]
)
def test_a_failed_report_delivery_shows_its_error_and_an_editor_sends_it_again(
    page: Page, console: Console, fake: FakeProviders, receiver: Receiver
) -> None:
    refused = f"down for maintenance {MARKUP}".encode()
    webhook_url = receiver.on(
        "/report", lambda earlier: Answer(500, body=refused) if earlier == 0 else Answer()
    )
    prepare_credential(console)
    assistant = new_assistant(console, webhook_url=webhook_url)
    fake.script = lambda _request: Reply(ANSWER)
    call = new_call(console, assistant["id"])
    with joined(call) as connection:
        say(connection, ASKED)
        hang_up(connection)
    receiver.wait_for("/report", 1)

    def deliveries() -> list[dict[str, Any]]:
        with console.api() as http:
            found: list[dict[str, Any]] = http.get("/v1/webhook-deliveries").json()
            return found

    eventually(lambda: [d["status"] for d in deliveries()] == ["failed"], "the delivery failed")
    delivery_id = deliveries()[0]["id"]

    sign_in(page, console, "editor")
    go_to(page, "Deliveries")
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=f"Delivery {delivery_id}")
    )
    expect(row).to_contain_text("failed")
    expect(row).to_contain_text("500")
    expect(row).to_contain_text("receiver answered 500")
    assert accessibility_findings(page) == []

    page.get_by_label("Status").select_option("succeeded")
    expect(page.get_by_text("No deliveries match these filters.")).to_be_visible()
    page.get_by_label("Status").select_option("failed")
    expect(row).to_be_visible()

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Delivery {delivery_id}")).to_be_visible()
    attempts = page.get_by_role("table", name=f"Attempts of delivery {delivery_id}")
    expect(attempts).to_contain_text("receiver answered 500")
    expect(attempts).to_contain_text(refused.decode())
    expect(page.locator("pre").last).to_contain_text(f'"id": {call["id"]}')
    expect(page.locator("pre").last).to_contain_text(ASKED)
    assert accessibility_findings(page) == []

    page.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text("Queued to be sent again now.")).to_be_visible()
    receiver.wait_for("/report", 2)
    expect(page.get_by_role("definition").filter(has_text="succeeded")).to_be_visible()
    expect(attempts.get_by_role("row")).to_have_count(3)
    assert page.evaluate("window.__pwned") is None

    # The call's page finds its report's delivery, attempts and all.
    page.get_by_role("link", name=f"Call {call['id']}").click()
    expect(page.get_by_role("link", name=f"Delivery {delivery_id}")).to_be_visible()
    expect(page.get_by_role("table", name=f"Attempts of delivery {delivery_id}")).to_contain_text(
        "receiver answered 500"
    )

    # A viewer reads the delivery but may not send it again, in the page or directly.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, console, "viewer")
    page.goto(f"{console.base}/#/deliveries/{delivery_id}")
    expect(page.get_by_role("heading", name=f"Delivery {delivery_id}")).to_be_visible()
    expect(page.get_by_role("table", name=f"Attempts of delivery {delivery_id}")).to_be_visible()
    expect(page.get_by_role("button", name="Redeliver")).to_have_count(0)
    status = page.evaluate(
        """async (id) => {
            const session = await (await fetch("/v1/session")).json();
            const response = await fetch(`/v1/webhook-deliveries/${id}/redeliver`, {
                method: "POST", headers: { "X-CSRF-Token": session.csrf_token },
            });
            return response.status;
        }""",
        delivery_id,
    )
    assert status == 403
    assert len(receiver.to("/report")) == 2
