"""Filling a call's placeholders keeps every text within its field's limit (10,000 characters
for the first and voicemail messages, 100,000 for the model's messages and the analysis
prompts): a call that would go over is a 400 naming the field and the variable, and nothing
is made. A malformed placeholder, in an override or in an assistant saved before they were
refused, is a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from calls_support import CallsApi, model_of
from clarion.assistants.configs import MESSAGE_MAX, PROMPT_MAX
from clarion.assistants.models import ASSISTANTS
from fake_providers import Reply
from support import assert_error


def _no_calls(api: CallsApi) -> None:
    response = api.http.get("/v1/call")
    assert response.status_code == 200, response.text
    assert response.json() == []


def test_a_first_message_that_filling_would_multiply_is_a_400_and_makes_no_call(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    first_message = "{{v}}" * 1990
    assistant = api.assistant_on(fake, first_message=first_message)

    response = api.create_call(assistant["id"], task_parameters={"v": "x" * 100_000})

    assert_error(
        response,
        400,
        "first_message: filled with task_parameters.v it would be 199,000,000 characters, "
        "over its limit of 10,000",
    )
    assert "xxxx" not in response.text
    _no_calls(api)


def test_the_variable_named_is_the_one_that_adds_the_most(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="{{short}} {{long}} {{twice}}{{twice}}")
    values = {"short": "a" * 10, "long": "b" * 5_000, "twice": "c" * 3_000}

    response = api.create_call(assistant["id"], task_parameters=values)

    assert_error(response, 400, "first_message: filled with task_parameters.twice", "11,012")
    _no_calls(api)


def test_the_texts_together_are_held_to_the_body_limit(served: Any, tenant: Any, fake: Any) -> None:
    # Each message well under its own limit, but a thousand of them would fill to 100 MB.
    api = served(tenant)
    many = [{"role": "system", "content": "Note {{v}}."} for _ in range(1000)]
    assistant = api.assistant_on(fake, model=model_of(messages=many))

    response = api.create_call(assistant["id"], task_parameters={"v": "x" * 99_000})

    assert_error(
        response,
        400,
        "task_parameters: filled with task_parameters.v the call's texts would be "
        "99,006,000 characters together, over the limit of 1,048,576 for one call "
        "(CLARION_MAX_BODY_BYTES)",
    )
    _no_calls(api)
    fits = api.create_call(assistant["id"], task_parameters={"v": "x" * 1_000})
    assert fits.status_code == 201, fits.text


THIRD_MESSAGE = [
    {"role": "system", "content": "Be brief."},
    {"role": "system", "content": "Speak plainly."},
    {"role": "user", "content": "About {{v}}."},
]


@pytest.mark.parametrize(
    ("fields", "where", "limit"),
    [
        ({"voicemail_message": "Please call {{v}}."}, "voicemail_message", MESSAGE_MAX),
        ({"model": {"messages": THIRD_MESSAGE}}, "model.messages[2].content", PROMPT_MAX),
        (
            {"analysis_plan": {"summaryPrompt": "Summarize {{v}}."}},
            "analysis_plan.summaryPrompt",
            PROMPT_MAX,
        ),
        (
            {"analysis_plan": {"structuredDataPrompt": "Extract {{v}}."}},
            "analysis_plan.structuredDataPrompt",
            PROMPT_MAX,
        ),
        (
            {"analysis_plan": {"successEvaluationPrompt": "Judge {{v}}."}},
            "analysis_plan.successEvaluationPrompt",
            PROMPT_MAX,
        ),
    ],
)
def test_every_filled_text_is_held_to_its_fields_limit(
    served: Any, tenant: Any, fake: Any, fields: dict[str, Any], where: str, limit: int
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, **fields)
    # One character more than the limit, once "{{v}}" has become the value.
    text = _text_at(assistant, where)
    value = "v" * (limit - len(text) + len("{{v}}") + 1)

    response = api.create_call(assistant["id"], task_parameters={"v": value})

    assert_error(
        response,
        400,
        f"{where}: filled with task_parameters.v it would be {limit + 1:,} characters, "
        f"over its limit of {limit:,}",
    )
    _no_calls(api)
    # One fewer fits.
    assert api.start_call(assistant["id"], task_parameters={"v": value[1:]})["id"] > 0


def _text_at(assistant: dict[str, Any], where: str) -> str:
    if where.startswith("model.messages"):
        return str(assistant["model"]["messages"][2]["content"])
    if where.startswith("analysis_plan."):
        return str(assistant["analysis_plan"][where.split(".")[1]])
    return str(assistant[where])


def test_an_override_is_held_to_the_same_limit(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello.")

    response = api.create_call(
        assistant["id"], task_parameters={"first_message": "{{v}}{{v}}", "v": "x" * 6_000}
    )

    assert_error(response, 400, "first_message: filled with task_parameters.v", "12,000")
    _no_calls(api)


def test_texts_filled_exactly_to_their_limits_are_said_and_sent_whole(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(
        fake,
        first_message="Hello {{patient}}.",
        model={"messages": [{"role": "system", "content": "Remind {{notes}}."}]},
        analysis_plan={"summaryPrompt": "Summarize {{topic}}."},
    )
    patient = "p" * (MESSAGE_MAX - len("Hello ."))
    notes = "n" * (PROMPT_MAX - len("Remind ."))
    topic = "t" * (PROMPT_MAX - len("Summarize ."))
    created = api.start_call(
        assistant["id"], task_parameters={"patient": patient, "notes": notes, "topic": topic}
    )
    fake.reply_in_turn(Reply("See you then."), Reply("The patient will come."))

    with api.join(created["web_call_url"]) as call:
        assert call.next()["type"] == "call-started"
        first = call.next()
        call.say("Will do.")
        call.until("assistant-message")
        call.hang_up()
        call.until("call-ended")

    assert first == {"type": "assistant-message", "text": f"Hello {patient}."}
    assert len(first["text"]) == MESSAGE_MAX
    system = fake.received[0].json["messages"][0]["content"]
    assert system == f"Remind {notes}."
    assert len(system) == PROMPT_MAX
    api.wait_for_call(created["id"], "the summary", lambda c: "summary" in c)
    summarizing = fake.received[1].json["messages"][0]["content"]
    assert summarizing == f"Summarize {topic}."
    assert len(summarizing) == PROMPT_MAX


def test_a_value_holding_a_placeholder_is_said_as_it_is(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello {{patient}}.")
    created = api.start_call(
        assistant["id"], task_parameters={"patient": "{{patient}}{{patient}} {{x", "x": "y"}
    )

    with api.join(created["web_call_url"]) as call:
        assert call.next()["type"] == "call-started"
        assert call.next() == {
            "type": "assistant-message",
            "text": "Hello {{patient}}{{patient}} {{x.",
        }
        call.hang_up()
        call.until("call-ended")


HOW = "write {{name}} with a name of letters, digits, _, . or -, starting with a letter or _"


@pytest.mark.parametrize(
    ("override", "where"),
    [
        ({"first_message": "Hello {{patient"}, "first_message"),
        ({"voicemail_message": "Hello {{patient"}, "voicemail_message"),
        (
            {"model": model_of(messages=[{"role": "system", "content": "Hello {{patient"}])},
            "model.messages[0].content",
        ),
        ({"analysis_plan": {"summaryPrompt": "Hello {{patient"}}, "analysis_plan.summaryPrompt"),
    ],
)
def test_a_malformed_placeholder_in_an_override_is_a_400(
    served: Any, tenant: Any, fake: Any, override: dict[str, Any], where: str
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello {{patient}}.")

    response = api.create_call(assistant["id"], task_parameters={"patient": "Ada", **override})

    assert_error(
        response,
        400,
        f'task_parameters.{where}: "{{{{patient" opens a placeholder that is not closed: {HOW}',
    )
    _no_calls(api)


def test_a_malformed_placeholder_saved_before_the_rule_is_a_400_when_a_call_is_made(
    served: Any, tenant: Any, fake: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(fake, first_message="Hello {{patient}}.")
    with api.serving.services.database.unit(write=True) as unit:
        unit.session.execute(
            update(ASSISTANTS)
            .where(ASSISTANTS.c.id == assistant["id"])
            .values(first_message="Hello {{ 1abc }}, this is the clinic.")
        )

    response = api.create_call(assistant["id"], task_parameters={"patient": "Ada"})

    assert_error(response, 400, 'first_message: "{{ 1abc }}" is not a well-formed placeholder')
    _no_calls(api)
    # An override that replaces the text makes the call.
    fixed = api.start_call(
        assistant["id"], task_parameters={"patient": "Ada", "first_message": "Hello {{patient}}."}
    )
    assert fixed["call_status"] == "queued"
