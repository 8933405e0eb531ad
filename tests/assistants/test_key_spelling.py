"""A key of ``model`` or ``analysis_plan`` that is a near miss of one clarion reads is a 400
that names the key it is close to, on every way in; every other key is kept as sent."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from calls_support import CallsApi, model_of
from clarion.assistants.key_spelling import READ_KEYS, edit_distance, near_miss
from support import Api, assert_error

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}

# (field, key sent, the key clarion reads that the message suggests)
NEAR_MISSES = [
    ("analysis_plan", "summary_prompt", "summaryPrompt"),
    ("analysis_plan", "SummaryPrompt", "summaryPrompt"),
    ("analysis_plan", "structuredDataPromt", "structuredDataPrompt"),
    ("analysis_plan", "structured-data-schema", "structuredDataSchema"),
    ("analysis_plan", "successEvalutionPrompt", "successEvaluationPrompt"),
    ("analysis_plan", "successEvaluationRubirc", "successEvaluationRubric"),
    ("model", "temprature", "temperature"),
    ("model", "maxTokens", "max_tokens"),
    ("model", "credentialId", "credential_id"),
    ("model", "provder", "provider"),
    ("model", "Model", "model"),
    ("model", "message", "messages"),
]

# Keys clarion does not read and that are close to none it does: kept as sent.
FREE_KEYS = {
    "analysis_plan": {
        "clinicNotes": "Ask about the follow-up.",
        "x_custom": {"summary_prompt": "nested keys are not checked"},
        "summaryPlan": {"enabled": True},
    },
    "model": {
        "clinicNotes": ["front desk"],
        "x_custom": 1,
        "topP": 0.9,
        "seed": None,
        "fallbackModels": ["gpt-4o-mini"],
    },
}


@pytest.fixture
def assistant(api: Api) -> dict[str, Any]:
    return api.create_assistant(
        model={"provider": "openai", "temperature": 0.3},
        analysis_plan={"summaryPrompt": "Summarise the call."},
    )


def _unchanged(api: Api, assistant: dict[str, Any]) -> None:
    path = f"/v1/assistant/{assistant['id']}"
    assert api.get(path).json() == assistant
    assert [item["id"] for item in api.get("/v1/assistant").json()] == [assistant["id"]]
    assert len(api.get(f"{path}/versions").json()) == 1


@pytest.mark.parametrize(("field", "key", "meant"), NEAR_MISSES)
def test_a_near_miss_is_refused_with_the_key_it_is_close_to(
    api: Api, assistant: dict[str, Any], field: str, key: str, meant: str
) -> None:
    sent = {**assistant[field], key: "x"}
    message = f"{field}.{key}: not a key clarion reads; did you mean `{meant}`?"
    path = f"/v1/assistant/{assistant['id']}"

    assert_error(api.post("/v1/assistant", json={"name": "Other", field: sent}), 400, message)
    assert_error(api.patch(path, json={"first_message": "New", field: sent}), 400, message)
    merged = orjson.dumps({"first_message": "New", field: {key: "x"}})
    assert_error(api.patch(path, content=merged, headers=MERGE_PATCH), 400, message)
    _unchanged(api, assistant)


def test_every_key_clarion_reads_is_accepted_as_it_is_spelled(
    api: Api, assistant: dict[str, Any]
) -> None:
    model = {
        "provider": "openai",
        "model": "gpt-4o",
        "temperature": 0.5,
        "max_tokens": 300,
        "messages": [{"role": "system", "content": "Be brief.", "Content": "kept"}],
        "credential_id": 1,
    }
    plan = {
        "summaryPrompt": "Summarise.",
        "structuredDataPrompt": "Extract.",
        "structuredDataSchema": {"type": "object", "propertys": {}},
        "successEvaluationPrompt": "Did it go well?",
        "successEvaluationRubric": "PassFail",
    }
    assert set(model) == set(READ_KEYS["model"])
    assert set(plan) == set(READ_KEYS["analysis_plan"])

    created = api.create_assistant(model=model, analysis_plan=plan)
    assert (created["model"], created["analysis_plan"]) == (model, plan)
    response = api.patch(
        f"/v1/assistant/{assistant['id']}", json={"model": model, "analysis_plan": plan}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["model"], response.json()["analysis_plan"]) == (model, plan)


@pytest.mark.parametrize("field", sorted(FREE_KEYS))
def test_keys_close_to_none_clarion_reads_are_kept_as_sent(
    api: Api, assistant: dict[str, Any], field: str
) -> None:
    sent = {**assistant[field], **FREE_KEYS[field]}
    path = f"/v1/assistant/{assistant['id']}"

    created = api.create_assistant(**{field: sent})
    assert created[field] == sent
    assert api.get(f"/v1/assistant/{created['id']}").json()[field] == sent

    response = api.patch(path, json={field: sent})
    assert response.status_code == 200, response.text
    assert api.get(path).json()[field] == sent

    extra = {"clinicNotes_v2": "merged in"}
    merged = api.patch(path, content=orjson.dumps({field: extra}), headers=MERGE_PATCH)
    assert merged.status_code == 200, merged.text
    assert api.get(path).json()[field] == {**sent, **extra}


def test_a_merge_patch_may_remove_a_near_miss(api: Api, assistant: dict[str, Any]) -> None:
    # Set to null, a key is taken away: how one stored before near misses were refused goes.
    patch = {"model": {"maxTokens": None}, "analysis_plan": {"summary_prompt": None}}
    path = f"/v1/assistant/{assistant['id']}"
    response = api.patch(path, content=orjson.dumps(patch), headers=MERGE_PATCH)
    assert response.status_code == 200, response.text
    assert api.get(path).json() == assistant


def test_a_near_miss_in_a_calls_overrides_is_refused(served: Any, tenant: Any, fake: Any) -> None:
    api: CallsApi = served(tenant)
    assistant = api.assistant_on(fake)
    overrides = [
        ({"model": model_of(temprature=0.2)}, "task_parameters.model.temprature", "temperature"),
        (
            {"analysis_plan": {"summary_prompt": "Summarise."}},
            "task_parameters.analysis_plan.summary_prompt",
            "summaryPrompt",
        ),
    ]
    for task_parameters, where, meant in overrides:
        response = api.create_call(assistant["id"], task_parameters=task_parameters)
        assert_error(response, 400, where, f"did you mean `{meant}`?")
    assert api.http.get("/v1/call").json() == []

    kept = {"model": model_of(clinicNotes="front desk"), "analysis_plan": {"x_custom": 1}}
    api.start_call(assistant["id"], task_parameters=kept)


@pytest.mark.parametrize(
    ("key", "read", "meant"),
    [
        ("summaryPrompt", READ_KEYS["analysis_plan"], None),
        ("SUMMARY_PROMPT", READ_KEYS["analysis_plan"], "summaryPrompt"),
        ("sumaryPromt", READ_KEYS["analysis_plan"], "summaryPrompt"),
        ("sumryPrompt", READ_KEYS["analysis_plan"], "summaryPrompt"),
        ("smuamryPrompt", READ_KEYS["analysis_plan"], "summaryPrompt"),
        ("summaryPlan", READ_KEYS["analysis_plan"], None),
        ("structuredDataSchemas", READ_KEYS["analysis_plan"], "structuredDataSchema"),
        ("tmeperature", READ_KEYS["model"], "temperature"),
        ("temp", READ_KEYS["model"], None),
        ("models", READ_KEYS["model"], "model"),
        ("modle", READ_KEYS["model"], "model"),
        ("mdl", READ_KEYS["model"], None),
        ("mod", READ_KEYS["model"], None),
        ("", READ_KEYS["model"], None),
        ("x" * 100_000, READ_KEYS["model"], None),
    ],
)
def test_near_miss(key: str, read: tuple[str, ...], meant: str | None) -> None:
    assert near_miss(key, read) == meant


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("model", "model", 0),
        ("", "abc", 3),
        ("ab", "ba", 1),
        ("kitten", "sitting", 3),
        ("ca", "abc", 3),  # no part edited twice: not the unrestricted distance, 2
        ("temperature", "tmeperatuer", 2),
        ("abcdef", "badcfe", 3),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    for limit in range(5):
        assert edit_distance(a, b, limit) == min(distance, limit + 1)
        assert edit_distance(b, a, limit) == min(distance, limit + 1)
