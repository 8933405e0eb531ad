"""A text with a ``{{`` that does not begin a well-formed placeholder is a 400 naming the
field, whichever way the assistant is saved; a lone ``}}`` and well-formed placeholders are
kept as they were sent."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from support import Api, assert_error

HOW = "write {{name}} with a name of letters, digits, _, . or -, starting with a letter or _"

MALFORMED = [
    ("Hello {{patient, this is the clinic.", '"{{patient" opens a placeholder that is not closed'),
    ("Hello {{patient", '"{{patient" opens a placeholder that is not closed'),
    ("Hello {{patient and {{day}}", '"{{patient and" opens a placeholder that is not closed'),
    ("Dear {{ 1abc }}", '"{{ 1abc }}" is not a well-formed placeholder'),
    ("Dear {{first name}}", '"{{first name}}" is not a well-formed placeholder'),
    ("Dear {{}}", '"{{}}" is a placeholder without a name'),
    ("Dear {{{patient}}}", '"{{{patient}}}" has more braces than a placeholder'),
    ("Dear {{patient}}, see you {{", '"{{" opens a placeholder that is not closed'),
]


def _body(where: str, text: str) -> dict[str, Any]:
    """An assistant body with ``text`` at ``where`` (a field path as error messages name it)."""
    if where.startswith("model."):
        messages = [
            {"role": "system", "content": "You remind {{patient}} of appointments."},
            {"role": "user", "content": text},
        ]
        return {"model": {"provider": "openai", "messages": messages}}
    if where.startswith("analysis_plan."):
        return {"analysis_plan": {"summaryPrompt": "Summarize.", where.split(".")[1]: text}}
    return {where: text}


FIELDS = [
    "first_message",
    "voicemail_message",
    "model.messages[1].content",
    "analysis_plan.summaryPrompt",
    "analysis_plan.structuredDataPrompt",
    "analysis_plan.successEvaluationPrompt",
]


@pytest.fixture
def assistant(api: Api) -> dict[str, Any]:
    return api.create_assistant(
        first_message="Hello {{patient}}.",
        model={"provider": "openai", "messages": [{"role": "system", "content": "Be brief."}]},
        analysis_plan={"summaryPrompt": "Summarize the call with {{patient}}."},
    )


def _merge(api: Api, assistant_id: int, patch: dict[str, Any]) -> Any:
    return api.patch(
        f"/v1/assistant/{assistant_id}",
        content=orjson.dumps(patch),
        headers={"Content-Type": "application/merge-patch+json"},
    )


@pytest.mark.parametrize("where", FIELDS)
@pytest.mark.parametrize(("text", "problem"), MALFORMED)
def test_a_malformed_placeholder_is_refused_on_create(
    api: Api, assistant: dict[str, Any], where: str, text: str, problem: str
) -> None:
    response = api.post("/v1/assistant", json={"name": "Reminders", **_body(where, text)})

    assert_error(response, 400, f"{where}: {problem}: {HOW}")
    assert [item["id"] for item in api.get("/v1/assistant").json()] == [assistant["id"]]


@pytest.mark.parametrize("where", FIELDS)
def test_a_malformed_placeholder_is_refused_on_patch_and_changes_nothing(
    api: Api, assistant: dict[str, Any], where: str
) -> None:
    path = f"/v1/assistant/{assistant['id']}"
    body = _body(where, "Hello {{patient")

    assert_error(api.patch(path, json=body), 400, where, '"{{patient" opens a placeholder')
    assert_error(_merge(api, assistant["id"], body), 400, where, '"{{patient" opens')
    assert api.get(path).json() == assistant


def test_a_merge_patch_is_checked_after_merging(api: Api, assistant: dict[str, Any]) -> None:
    # Only one key of the stored analysis plan changes; the merged plan is what is checked.
    response = _merge(api, assistant["id"], {"analysis_plan": {"successEvaluationPrompt": "{{}}"}})

    assert_error(response, 400, 'analysis_plan.successEvaluationPrompt: "{{}}" is a placeholder')
    assert api.get(f"/v1/assistant/{assistant['id']}").json() == assistant


WELL_FORMED = [
    "Hello {{patient}}, {{ day }} at {{hour}}.",
    "Hello {{customer.name}} ({{visit-type}}, {{_id}}, {{  spaced  }}).",
    'Answer as JSON: {"confirmed": true}}',
    "Close braces alone: }} and }}} and a single { brace.",
    "Hello {{patient}}}",
    "No placeholders at all.",
    "",
]


@pytest.mark.parametrize("text", WELL_FORMED)
def test_well_formed_placeholders_and_lone_closing_braces_are_kept(
    api: Api, assistant: dict[str, Any], text: str
) -> None:
    created = api.create_assistant(**_body("first_message", text))
    assert created["first_message"] == text
    for where in FIELDS[1:]:
        patched = api.patch(f"/v1/assistant/{assistant['id']}", json=_body(where, text))
        assert patched.status_code == 200, patched.text
        merged = _merge(api, assistant["id"], _body(where, text))
        assert merged.status_code == 200, merged.text

    shown = api.get(f"/v1/assistant/{assistant['id']}").json()
    assert shown["model"]["messages"][1]["content"] == text
    assert shown["analysis_plan"]["successEvaluationPrompt"] == text
