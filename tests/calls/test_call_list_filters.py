"""The calls list's filters over real HTTP: by ended reason, and every filter with the others,
each organization seeing only its own calls."""

from __future__ import annotations

from typing import Any

import pytest

from calls_support import CallsApi, model_of
from clarion.calls.endings import EndedReason
from support import assert_error


def _names(api: CallsApi, **params: Any) -> list[str]:
    response = api.http.get("/v1/call", params=params)
    assert response.status_code == 200, response.text
    return [call["name"] for call in response.json()]


def _hung_up(api: CallsApi, assistant_id: int, name: str) -> dict[str, Any]:
    """A call joined, greeted and hung up on by its caller (customer-ended), once its
    messages are stored."""
    created = api.start_call(assistant_id, name=name)
    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        call.hang_up()
        call.until("call-ended")
    return api.wait_for_call(
        created["id"], "its end and its messages", lambda c: "ended_reason" in c and c["messages"]
    )


def _canceled(api: CallsApi, assistant_id: int, name: str) -> dict[str, Any]:
    """A call ended by a request before anyone joined it (manually-canceled)."""
    created = api.start_call(assistant_id, name=name)
    response = api.http.post(f"/v1/call/{created['id']}/end")
    assert response.status_code == 200, response.text
    ended: dict[str, Any] = response.json()
    return ended


@pytest.fixture
def calls(served: Any, tenant: Any, fake: Any) -> tuple[CallsApi, dict[str, dict[str, Any]]]:
    """Five calls of two assistants, oldest first: a (first, canceled), b (first, hung up),
    c (second, hung up), d (second, canceled), e (first, still queued)."""
    api = served(tenant)
    first = api.assistant_on(fake, first_message="Hello, this is Northside Clinic.")
    second = api.assistant(name="Follow-ups", model=model_of(), first_message="Hello again.")
    made = {
        "a": _canceled(api, first["id"], "a"),
        "b": _hung_up(api, first["id"], "b"),
        "c": _hung_up(api, second["id"], "c"),
        "d": _canceled(api, second["id"], "d"),
        "e": api.start_call(first["id"], name="e"),
    }
    assert [made[name].get("ended_reason") for name in "abcde"] == [
        "manually-canceled",
        "customer-ended",
        "customer-ended",
        "manually-canceled",
        None,
    ]
    return api, made


def test_the_list_filters_by_ended_reason(calls: tuple[CallsApi, dict[str, Any]]) -> None:
    api, made = calls
    assert _names(api) == ["e", "d", "c", "b", "a"]
    assert _names(api, ended_reason="customer-ended") == ["c", "b"]
    assert _names(api, ended_reason="manually-canceled") == ["d", "a"]
    assert _names(api, ended_reason="voicemail") == []
    assert _names(api, ended_reason="customer-ended", limit=1) == ["c"]

    # The calls come with what was said in them, as each call's own page shows it.
    listed = api.http.get("/v1/call", params={"ended_reason": "customer-ended"}).json()
    for shown in listed:
        assert shown["messages"], shown
        assert shown == api.call(shown["id"])
    assert [call["id"] for call in listed] == [made["c"]["id"], made["b"]["id"]]
    params = {"ended_reason": "customer-ended", "assistant_id": made["b"]["assistant_id"]}
    assert api.http.get("/v1/call", params={**params, "limit": 1}).json() == [
        api.call(made["b"]["id"])
    ]


def test_the_filters_combine(calls: tuple[CallsApi, dict[str, Any]]) -> None:
    api, made = calls
    first, second = made["a"]["assistant_id"], made["c"]["assistant_id"]
    b_at, c_at, d_at = (made[name]["created_at"] for name in "bcd")
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"assistant_id": first, "ended_reason": "customer-ended"}, ["b"]),
        ({"assistant_id": second, "ended_reason": "manually-canceled"}, ["d"]),
        ({"call_status": "ended", "ended_reason": "customer-ended"}, ["c", "b"]),
        ({"call_status": "queued", "ended_reason": "customer-ended"}, []),
        ({"call_status": "in-progress", "ended_reason": "manually-canceled"}, []),
        (
            {"assistant_id": first, "call_status": "ended", "ended_reason": "manually-canceled"},
            ["a"],
        ),
        ({"assistant_id": first, "call_status": "queued", "ended_reason": "customer-ended"}, []),
        ({"assistant_id": first, "call_status": "ended"}, ["b", "a"]),
        ({"assistant_id": first, "call_status": "queued"}, ["e"]),
        ({"assistant_id": second, "call_status": "queued"}, []),
        ({"createdAtGe": c_at, "ended_reason": "customer-ended"}, ["c"]),
        ({"createdAtLe": b_at, "ended_reason": "customer-ended"}, ["b"]),
        ({"createdAtGe": b_at, "createdAtLe": d_at, "ended_reason": "manually-canceled"}, ["d"]),
        ({"createdAtGe": b_at, "createdAtLe": d_at, "call_status": "ended"}, ["d", "c", "b"]),
        ({"createdAtGe": b_at, "assistant_id": first, "call_status": "ended"}, ["b"]),
        ({"created_at_le": c_at, "assistant_id": second, "ended_reason": "customer-ended"}, ["c"]),
        (
            {
                "createdAtGe": b_at,
                "createdAtLe": d_at,
                "assistant_id": second,
                "call_status": "ended",
                "ended_reason": "manually-canceled",
            },
            ["d"],
        ),
        ({"assistant_id": first, "ended_reason": "manually-canceled", "limit": 1}, ["a"]),
        ({"call_status": "ended", "limit": 2}, ["d", "c"]),
    ]
    for params, names in cases:
        assert _names(api, **params) == names, params


def test_an_unknown_ended_reason_is_a_400_naming_the_parameter(
    calls: tuple[CallsApi, dict[str, Any]],
) -> None:
    api, _made = calls
    for value in ["lost", "Customer-Ended", "customer_ended", "ended", ""]:
        response = api.http.get("/v1/call", params={"ended_reason": value})
        assert_error(response, 400, "ended_reason")
    response = api.http.get("/v1/call", params={"call_status": "ended", "ended_reason": "hung-up"})
    assert_error(response, 400, "ended_reason")


def test_another_organizations_calls_are_never_listed(
    calls: tuple[CallsApi, dict[str, Any]], other_tenant: Any, fake: Any
) -> None:
    api, made = calls
    other = CallsApi(api.serving, other_tenant)
    theirs = other.assistant_on(fake, first_message="Hello from Southside.")
    _hung_up(other, theirs["id"], "theirs")

    assert _names(other, ended_reason="customer-ended") == ["theirs"]
    assert _names(other, ended_reason="manually-canceled") == []
    first = made["a"]["assistant_id"]
    assert _names(other, assistant_id=first, ended_reason="customer-ended") == []
    assert _names(other, assistant_id=first, call_status="ended") == []
    assert _names(api, ended_reason="customer-ended") == ["c", "b"]
    assert _names(api, assistant_id=theirs["id"], ended_reason="customer-ended") == []


def test_the_ended_reason_filter_is_documented_with_its_values(
    calls: tuple[CallsApi, dict[str, Any]],
) -> None:
    api, _made = calls
    document = api.http.get("/openapi.json").json()
    operation = next(
        operations["get"]
        for path, operations in document["paths"].items()
        if path.rstrip("/").endswith("/call") and "get" in operations
    )
    parameter = next(p for p in operation["parameters"] if p["name"] == "ended_reason")
    assert parameter["in"] == "query"
    assert parameter.get("required", False) is False
    assert "ended" in parameter["description"].lower()
    assert _enum(document, parameter["schema"]) == [reason.value for reason in EndedReason]


def _enum(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The values a parameter's schema allows, through $ref and anyOf."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _enum(document, document["components"]["schemas"][name])
    if "enum" in schema:
        return list(schema["enum"])
    return [value for option in schema.get("anyOf", []) for value in _enum(document, option)]
