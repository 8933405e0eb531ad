"""The Assistants pages in a browser: the first steps of an empty organization, the form with
every field and the server's errors beside them, the history with its side-by-side diff and
restore, an edit meeting a colleague's newer version, the keyboard alone, the viewer's
read-only view, and names that look like HTML shown as text."""

from __future__ import annotations

import re
from typing import Any

from console_support import Console, accessibility_findings, screenshot, sign_in, watched_of
from playwright.sync_api import Locator, Page, expect

# A name that would run script if it were ever read as HTML.
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def create_assistant(console: Console, **fields: Any) -> dict[str, Any]:
    """An assistant made through the API, with the organization's key."""
    with console.api() as api:
        response = api.post("/v1/assistant", json=fields)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def change_assistant(console: Console, assistant_id: int, **fields: Any) -> None:
    with console.api() as api:
        response = api.patch(f"/v1/assistant/{assistant_id}", json=fields)
    assert response.status_code == 200, response.text


def assistant_now(console: Console, assistant_id: int) -> dict[str, Any]:
    with console.api() as api:
        response = api.get(f"/v1/assistant/{assistant_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def versions_of(console: Console, assistant_id: int) -> list[dict[str, Any]]:
    """The assistant's version records, newest first."""
    with console.api() as api:
        response = api.get(f"/v1/assistant/{assistant_id}/versions")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def only_assistant(console: Console) -> dict[str, Any]:
    with console.api() as api:
        listed = api.get("/v1/assistant").json()
    assert len(listed) == 1, listed
    found: dict[str, Any] = listed[0]
    return found


def model_group(page: Page) -> Locator:
    return page.get_by_role("group", name="Language model", exact=True)


def test_an_empty_organization_shows_what_to_do_first_in_the_words_of_each_role(
    page: Page, console: Console
) -> None:
    sign_in(page, console, "editor")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="No assistants yet")).to_be_visible()
    expect(main.get_by_role("table")).to_have_count(0)
    expect(main.get_by_role("listitem")).to_have_count(3)
    expect(main.get_by_role("link", name="Add a provider credential")).to_have_attribute(
        "href", "#/credentials"
    )
    expect(main.get_by_role("link", name="Try it")).to_have_attribute("href", "#/try")
    assert accessibility_findings(page) == []
    screenshot(page, "assistants-empty")
    main.get_by_role("button", name="New assistant").click()
    expect(page.get_by_role("heading", name="New assistant")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_be_focused()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, console, "viewer")
    expect(main.get_by_role("heading", name="No assistants yet")).to_be_visible()
    expect(main).to_contain_text("Ask an editor or owner of your organization")
    expect(main.get_by_role("button", name="New assistant")).to_have_count(0)
    expect(main.get_by_role("link", name="Add a provider credential")).to_have_count(0)
    assert accessibility_findings(page) == []


def test_an_editor_creates_an_assistant_fixes_what_the_server_refused_and_edits_it(
    page: Page, console: Console
) -> None:
    sign_in(page, console, "editor")
    page.get_by_role("button", name="New assistant").click()
    page.get_by_label("Name", exact=True).fill("Front desk")
    page.get_by_label("First message", exact=True).fill("Hello, this is Northside Clinic.")
    model = model_group(page)
    model.get_by_label("Provider", exact=True).select_option("openai")
    model.get_by_label("Model", exact=True).fill("gpt-4o-mini")
    temperature = page.get_by_label("Temperature", exact=True)
    temperature.fill("7")
    page.get_by_label("System prompt", exact=True).fill("You book appointments.")
    page.get_by_label("Success evaluation rubric", exact=True).select_option("PassFail")
    page.get_by_role("button", name="Save").click()

    # The server's message names model.temperature: it is said beside Temperature.
    expect(temperature).to_have_attribute("aria-invalid", "true")
    expect(temperature).to_have_accessible_description(re.compile(r"^model\.temperature: .*2"))
    expect(temperature).to_be_focused()
    expect(page.get_by_role("alert").filter(has_text="Not saved")).to_contain_text(
        "Language model · Temperature"
    )
    with console.api() as api:
        assert api.get("/v1/assistant").json() == []

    # A schema that is not JSON is caught before anything is sent.
    schema = page.get_by_label("Structured data schema", exact=True)
    schema.fill('{"type": "object",')
    temperature.fill("0.4")
    page.get_by_role("button", name="Save").click()
    expect(schema).to_have_accessible_description(re.compile("not valid JSON"))
    schema.fill('{"type": "object", "properties": {"reason": {"type": "string"}}}')
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Created “Front desk”: version 1.")).to_be_visible()
    expect(temperature).not_to_have_attribute("aria-invalid", "true")
    created = only_assistant(console)
    assert created["model"] == {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "temperature": 0.4,
        "messages": [{"role": "system", "content": "You book appointments."}],
    }
    assert created["analysis_plan"] == {
        "structuredDataSchema": {"type": "object", "properties": {"reason": {"type": "string"}}},
        "successEvaluationRubric": "PassFail",
    }

    page.get_by_label("First message", exact=True).fill("Good morning, Northside Clinic.")
    page.get_by_label("System prompt", exact=True).fill("You book and move appointments.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: this is version 2.")).to_be_visible()
    now = assistant_now(console, created["id"])
    assert now["first_message"] == "Good morning, Northside Clinic."
    assert now["model"]["messages"] == [
        {"role": "system", "content": "You book and move appointments."}
    ]
    assert now["model"]["temperature"] == 0.4
    assert versions_of(console, created["id"])[0]["changed_fields"] == ["model", "first_message"]
    assert accessibility_findings(page) == []
    screenshot(page, "assistant-form")


def test_every_field_round_trips_and_keys_the_form_does_not_know_are_kept(
    page: Page, console: Console
) -> None:
    model = {
        "provider": "openai",
        "model": "gpt-4o",
        "top_p": 0.9,
        "messages": [
            {"role": "user", "content": "Can I book for Tuesday?"},
            {"role": "system", "content": "You book appointments.\r\nBe brief.", "name": "desk"},
            {"role": "assistant", "content": "Tuesday at nine is free."},
        ],
    }
    fields = {
        "name": "Front desk",
        "first_message": "Hello, {{ patient_name }}.",
        "voicemail_message": "Please call us back.",
        "model": model,
        "voice": {"provider": "11labs", "voiceId": "rachel", "stability": 0.5},
        "transcriber": {"provider": "deepgram", "model": "nova-2", "language": "en-US"},
        "max_duration_seconds": 600,
        "silence_timeout_seconds": 45,
        "analysis_plan": {
            "summaryPrompt": "Summarize the call.",
            "structuredDataSchema": {"type": "object", "properties": {}},
            "successEvaluationRubric": "NumericScale",
        },
        "webhook_url": "https://example.com/reports",
        "webhook_secret": "a-secret-of-the-clinic",
    }
    assistant = create_assistant(console, **fields)
    sign_in(page, console, "editor")
    page.goto(f"{console.base}/#/assistants/{assistant['id']}")
    expect(page.get_by_label("System prompt", exact=True)).to_have_value(
        "You book appointments.\nBe brief."
    )
    expect(page.get_by_text("Webhook secret: set")).to_be_visible()
    group = model_group(page)
    first = group.get_by_role("group", name="Message 1")
    expect(first.get_by_label("Role")).to_have_value("user")
    expect(first.get_by_label("Text")).to_have_value("Can I book for Tuesday?")
    expect(group.get_by_role("heading", name="Other settings")).to_be_visible()
    expect(group.locator("pre")).to_contain_text('"top_p": 0.9')
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Nothing to save: no field was changed.")).to_be_visible()

    page.get_by_label("Temperature", exact=True).fill("0.2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: this is version 2.")).to_be_visible()
    now = assistant_now(console, assistant["id"])
    assert now["model"] == {**model, "temperature": 0.2}
    for name in ("voice", "transcriber", "analysis_plan", "first_message", "webhook_url"):
        assert now[name] == fields[name]
    assert now["is_webhook_secret_set"] is True
    assert versions_of(console, assistant["id"])[0]["changed_fields"] == ["model"]

    # Messages are added and removed in place; the system prompt stays first.
    group.get_by_role("button", name="Add message").click()
    added = group.get_by_role("group", name="Message 3")
    expect(added.get_by_label("Role")).to_be_focused()
    added.get_by_label("Role").select_option("assistant")
    added.get_by_label("Text").fill("Anything else?")
    group.get_by_role("button", name="Remove message 1").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: this is version 3.")).to_be_visible()
    assert assistant_now(console, assistant["id"])["model"]["messages"] == [
        {"role": "system", "content": "You book appointments.\nBe brief.", "name": "desk"},
        {"role": "assistant", "content": "Tuesday at nine is free."},
        {"role": "assistant", "content": "Anything else?"},
    ]


def test_the_history_compares_two_versions_side_by_side_and_restores_one(
    page: Page, console: Console
) -> None:
    assistant = create_assistant(console, name="Front desk", first_message="Hello from one.")
    change_assistant(console, assistant["id"], first_message="Hello from two.")
    sign_in(page, console, "editor")
    page.goto(f"{console.base}/#/assistants/{assistant['id']}")
    page.get_by_role("button", name="History").click()
    expect(page.get_by_role("heading", name="History of “Front desk”")).to_be_visible()
    versions = page.get_by_role("table").get_by_role("row")
    expect(versions).to_have_count(3)  # the header and two versions
    expect(versions.nth(1)).to_contain_text("Updated")
    expect(versions.nth(1)).to_contain_text("First message")
    expect(versions.nth(1)).to_contain_text(f"API key #{console.tenant.key_id}")

    page.get_by_label("From version").select_option("1")
    page.get_by_label("To version").select_option("2")
    page.get_by_role("button", name="Compare").click()
    diff = page.locator(".diff")
    changed = diff.locator(".name.changed")
    expect(changed).to_have_text(["First message — changed"])
    expect(changed.locator("+ div")).to_have_text("Version 1: Hello from one.")
    expect(changed.locator("+ div + div")).to_have_text("Version 2: Hello from two.")
    expect(diff.locator(".name.same")).to_contain_text(["Name"])
    assert accessibility_findings(page) == []
    screenshot(page, "assistant-history")

    row = versions.filter(has=page.get_by_role("cell", name="1", exact=True))
    row.get_by_role("button", name="Restore").click()
    expect(row.get_by_text("Make version 1 current again")).to_be_visible()
    row.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_text("Version 1 restored")).to_be_visible()
    expect(versions).to_have_count(4)
    expect(versions.nth(1)).to_contain_text("3")
    expect(versions.nth(1)).to_contain_text("Restored")
    expect(versions.nth(1)).to_contain_text("current")
    assert assistant_now(console, assistant["id"])["first_message"] == "Hello from one."
    assert watched_of(page).dialogs == []


def test_an_editor_deletes_an_assistant_after_confirming_and_its_history_brings_it_back(
    page: Page, console: Console
) -> None:
    assistant = create_assistant(console, name="Front desk", first_message="Hello.")
    sign_in(page, console, "editor")
    page.get_by_role("link", name="Front desk").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("Delete “Front desk”?")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    assert assistant_now(console, assistant["id"])["name"] == "Front desk"
    page.get_by_role("button", name="Delete assistant").click()
    expect(page.get_by_text("Deleted “Front desk”.")).to_be_visible()
    expect(page.get_by_role("heading", name="No assistants yet")).to_be_visible()
    with console.api() as api:
        assert api.get(f"/v1/assistant/{assistant['id']}").status_code == 404

    page.goto(f"{console.base}/#/assistants/{assistant['id']}/history")
    expect(page.get_by_text("This assistant is deleted.")).to_be_visible()
    versions = page.get_by_role("table").get_by_role("row")
    expect(versions).to_have_count(3)
    expect(versions.nth(1)).to_contain_text("Deleted")
    row = versions.filter(has=page.get_by_role("cell", name="1", exact=True))
    row.get_by_role("button", name="Restore").click()
    row.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_text("Version 1 restored")).to_be_visible()
    assert assistant_now(console, assistant["id"])["first_message"] == "Hello."
    assert watched_of(page).dialogs == []


def test_an_edit_that_meets_a_colleagues_newer_version_says_so_and_loses_neither(
    page: Page, console: Console
) -> None:
    assistant = create_assistant(
        console, name="Front desk", first_message="Hello.", voicemail_message="Call us back."
    )
    sign_in(page, console, "editor")
    page.goto(f"{console.base}/#/assistants/{assistant['id']}")
    first_message = page.get_by_label("First message", exact=True)
    expect(first_message).to_have_value("Hello.")

    # A colleague saves through the API while the form is open.
    change_assistant(
        console,
        assistant["id"],
        first_message="Good morning, Northside.",
        voicemail_message="We will call you back today.",
    )
    first_message.fill("Hello, this is the front desk.")
    page.get_by_role("button", name="Save").click()

    notice = page.locator(".conflict")
    expect(
        notice.get_by_role("heading", name="Someone else saved version 2 while you were editing")
    ).to_be_focused()
    expect(notice).to_contain_text(f"API key #{console.tenant.key_id}")
    expect(notice).to_contain_text("Voicemail message")  # taken into the form
    theirs = notice.locator(".name.changed")
    expect(theirs).to_have_text(["First message — changed"])
    expect(theirs.locator("+ div")).to_have_text("Version 2 (theirs): Good morning, Northside.")
    expect(theirs.locator("+ div + div")).to_have_text(
        "Yours (in the form): Hello, this is the front desk."
    )
    expect(first_message).to_have_value("Hello, this is the front desk.")
    expect(page.get_by_label("Voicemail message", exact=True)).to_have_value(
        "We will call you back today."
    )
    assert assistant_now(console, assistant["id"])["first_message"] == "Good morning, Northside."
    assert accessibility_findings(page) == []
    screenshot(page, "assistant-conflict")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: this is version 3.")).to_be_visible()
    now = assistant_now(console, assistant["id"])
    assert now["first_message"] == "Hello, this is the front desk."
    assert now["voicemail_message"] == "We will call you back today."
    history = versions_of(console, assistant["id"])
    assert [record["version"] for record in history] == [3, 2, 1]
    assert history[0]["changed_fields"] == ["first_message"]
    assert history[0]["user_id"] == console.people["editor"].user_id
    assert history[1]["changed_fields"] == ["first_message", "voicemail_message"]
    assert history[1]["api_key_id"] == console.tenant.key_id


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus."""
    for _ in range(60):
        page.keyboard.press("Tab")
        if target.evaluate("node => node === document.activeElement"):
            return
    raise AssertionError("Tab never reached the control")


def test_a_new_assistant_is_made_with_the_keyboard_alone(page: Page, console: Console) -> None:
    editor = console.people["editor"]
    page.goto(console.base + "/")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(editor.email)
    page.keyboard.press("Tab")
    page.keyboard.type(editor.password)
    page.keyboard.press("Enter")
    new = page.get_by_role("main").get_by_role("button", name="New assistant")
    expect(new).to_be_visible()
    tab_to(page, new)
    page.keyboard.press("Enter")

    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    page.keyboard.type("Night line")
    page.keyboard.press("Tab")
    expect(page.get_by_label("First message", exact=True)).to_be_focused()
    page.keyboard.type("Northside Clinic, night line.")
    provider = model_group(page).get_by_label("Provider", exact=True)
    tab_to(page, provider)
    page.keyboard.press("ArrowDown")
    expect(provider).to_have_value("openai")
    page.keyboard.press("Tab")
    expect(model_group(page).get_by_label("Model", exact=True)).to_be_focused()
    page.keyboard.type("gpt-4o-mini")
    tab_to(page, page.get_by_label("Temperature", exact=True))
    page.keyboard.type("0.3")
    tab_to(page, page.get_by_label("System prompt", exact=True))
    page.keyboard.type("You answer after hours.")
    tab_to(page, page.get_by_role("button", name="Save"))
    page.keyboard.press("Space")

    expect(page.get_by_text("Created “Night line”: version 1.")).to_be_visible()
    created = only_assistant(console)
    assert created["name"] == "Night line"
    assert created["first_message"] == "Northside Clinic, night line."
    assert created["model"] == {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "temperature": 0.3,
        "messages": [{"role": "system", "content": "You answer after hours."}],
    }
    assert watched_of(page).dialogs == []


def test_a_viewer_reads_the_form_but_may_not_change_it_in_the_page_or_by_request(
    page: Page, console: Console
) -> None:
    assistant = create_assistant(console, name="Front desk", first_message="Hello.")
    change_assistant(console, assistant["id"], first_message="Hello again.")
    sign_in(page, console, "viewer")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Front desk")).to_be_visible()
    expect(main.get_by_role("button", name="New assistant")).to_have_count(0)
    main.get_by_role("link", name="Front desk").click()

    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_value("Front desk")
    expect(name).not_to_be_editable()
    expect(page.get_by_label("First message", exact=True)).not_to_be_editable()
    expect(model_group(page).get_by_label("Provider", exact=True)).to_be_disabled()
    for action in ("Save", "Delete", "Add message"):
        expect(page.get_by_role("button", name=action)).to_have_count(0)
    expect(page.get_by_label("New webhook secret")).to_have_count(0)

    page.get_by_role("button", name="History").click()
    expect(page.get_by_role("heading", name="History of “Front desk”")).to_be_visible()
    expect(page.get_by_role("button", name="Restore")).to_have_count(0)
    page.goto(f"{console.base}/#/assistants/new")
    expect(page.get_by_text("Creating an assistant needs the editor role.")).to_be_visible()

    refused = page.evaluate(
        """async (id) => {
            const session = await (await fetch("/v1/session")).json();
            const response = await fetch(`/v1/assistant/${id}`, {
                method: "PATCH",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": session.csrf_token},
                body: JSON.stringify({first_message: "Changed by a viewer"}),
            });
            return [response.status, await response.json()];
        }""",
        assistant["id"],
    )
    assert refused[0] == 403, refused
    assert assistant_now(console, assistant["id"])["first_message"] == "Hello again."


def test_a_name_that_looks_like_html_is_shown_as_text_everywhere(
    page: Page, console: Console
) -> None:
    assistant = create_assistant(console, name=HOSTILE, first_message=HOSTILE)
    change_assistant(console, assistant["id"], voicemail_message="Call us back.")
    sign_in(page, console, "editor")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=HOSTILE, exact=True)).to_be_visible()
    expect(main.get_by_role("cell", name=HOSTILE, exact=True)).to_have_count(2)
    main.get_by_role("link", name=HOSTILE, exact=True).click()
    expect(page.get_by_role("heading", name=HOSTILE, exact=True)).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value(HOSTILE)

    page.get_by_role("button", name="History").click()
    expect(page.get_by_role("heading", name=f"History of “{HOSTILE}”")).to_be_visible()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".diff")).to_contain_text(f"Version 1: {HOSTILE}")

    expect(page.locator("main img, main script")).to_have_count(0)
    assert page.evaluate("() => window.__pwned") is None
    assert not [url for url in watched_of(page).requests if url.endswith("/x")]
