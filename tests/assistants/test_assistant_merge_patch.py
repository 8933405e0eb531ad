"""PATCH with application/merge-patch+json applies RFC 7396 to the stored assistant."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from clarion.api.merge_patch import apply_merge_patch
from support import Api, assert_error

# RFC 7396, Appendix A: (original, patch, result).
RFC_7396_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_7396_EXAMPLES)
def test_the_rfc_examples(original: Any, patch: Any, result: Any) -> None:
    assert apply_merge_patch(original, patch) == result


def _merge(api: Api, assistant_id: int, patch: Any) -> Any:
    return api.patch(
        f"/v1/assistant/{assistant_id}",
        content=orjson.dumps(patch),
        headers={"Content-Type": "application/merge-patch+json"},
    )


OBJECT_EXAMPLES = [
    example
    for example in RFC_7396_EXAMPLES
    if isinstance(example[0], dict) and isinstance(example[2], dict)
]


@pytest.mark.parametrize(("original", "patch", "result"), OBJECT_EXAMPLES)
def test_the_rfc_examples_applied_to_model(
    api: Api, original: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]
) -> None:
    created = api.create_assistant(model=original, first_message="Untouched")

    response = _merge(api, created["id"], {"model": patch})

    assert response.status_code == 200, response.text
    assert response.json()["model"] == result
    assert response.json()["first_message"] == "Untouched"


def test_null_model_removes_it_and_a_scalar_model_is_refused(api: Api) -> None:
    created = api.create_assistant(model={"a": "foo"})

    assert_error(_merge(api, created["id"], {"model": "bar"}), 400, "model")
    assert_error(_merge(api, created["id"], {"model": ["c"]}), 400, "model")
    assert "model" not in _merge(api, created["id"], {"model": None}).json()


def test_nested_objects_merge_key_by_key(api: Api) -> None:
    created = api.create_assistant(
        model={
            "provider": "openai",
            "model": "gpt-4o",
            "temperature": 0.2,
            "messages": [{"role": "system", "content": "Be brief."}],
        },
        voice={"provider": "11labs", "voiceId": "rachel"},
        analysis_plan={"summaryPrompt": "Summarise", "successEvaluationRubric": "PassFail"},
        first_message="Hello",
    )
    response = _merge(
        api,
        created["id"],
        {
            "model": {
                "temperature": 0.7,
                "model": None,
                "messages": [{"role": "system", "content": "Be kind."}],
            },
            "voice": {"voiceId": "jennifer"},
            "analysis_plan": {"successEvaluationRubric": None},
            "first_message": None,
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == {
        "provider": "openai",
        "temperature": 0.7,
        "messages": [{"role": "system", "content": "Be kind."}],
    }
    assert body["voice"] == {"provider": "11labs", "voiceId": "jennifer"}
    assert body["analysis_plan"] == {"summaryPrompt": "Summarise"}
    assert "first_message" not in body


@pytest.mark.parametrize(
    ("patch", "named"),
    [
        ({"model": {"temperature": 3}}, "model.temperature"),
        ({"model": {"messages": [{"role": "robot", "content": "x"}]}}, "model.messages[0].role"),
        ({"analysis_plan": {"structuredDataSchema": {"type": 5}}}, "structuredDataSchema"),
        ({"name": None}, "name"),
        ({"id": 4}, "read-only"),
        ({"modle": {}}, "modle"),
        ({"max_duration_seconds": 5}, "max_duration_seconds"),
    ],
)
def test_the_merged_result_is_validated(api: Api, patch: dict[str, Any], named: str) -> None:
    created = api.create_assistant(model={"provider": "openai", "temperature": 0.2})

    assert_error(_merge(api, created["id"], patch), 400, named)
    assert api.get(f"/v1/assistant/{created['id']}").json() == created


def test_application_json_still_replaces_whole_objects(api: Api) -> None:
    created = api.create_assistant(model={"provider": "openai", "temperature": 0.2})
    response = api.patch(f"/v1/assistant/{created['id']}", json={"model": {"temperature": 0.5}})
    assert response.json()["model"] == {"temperature": 0.5}


def test_merge_patch_records_a_version_and_honours_if_match(api: Api) -> None:
    created = api.create_assistant(model={"provider": "openai"})
    path = f"/v1/assistant/{created['id']}"
    response = api.patch(
        path,
        content=b'{"model": {"temperature": 1}}',
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"v1"'},
    )
    assert response.status_code == 200
    assert api.get(f"{path}/versions").json()[0]["changed_fields"] == ["model"]
    stale = api.patch(
        path,
        content=b'{"model": {"temperature": 0}}',
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"v1"'},
    )
    assert_error(stale, 412)


def test_merge_patch_is_documented_with_examples(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    content = document["paths"]["/assistant/{assistantId}"]["patch"]["requestBody"]["content"]
    assert content["application/merge-patch+json"]["example"]
    assert content["application/json"]["example"]
    assert "AssistantMergePatch" in document["components"]["schemas"]
