"""Fuzzing the assistant API with arbitrary JSON: no request, however odd, gets a server error.

``model``, ``voice`` and ``analysis_plan`` are free-form objects: the server checks the keys it
knows and keeps every other key as sent. These tests send them (and every other field)
arbitrary JSON values: integers far beyond 64 bits, floats at the ends of their range, any
text, keys of any text, nesting a few levels or a thousand deep; in a create, a PATCH and a
merge patch. Every answer is either a success or a 400 with the Error body; after a success,
every read (the assistant, both kinds of list, its versions one by one and as a list) answers
and gives back exactly what was sent, kind for kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from json_values import (
    EDGE_FLOATS,
    EDGE_INTEGERS,
    EDGE_STRINGS,
    deeply_nested,
    dumps,
    json_keys,
    json_objects,
    json_text,
    json_values,
    loads_deep,
    merge_patch,
    same_json,
)
from support import Api

JSON = {"Content-Type": "application/json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}

FREE_FORM_FIELDS = ("model", "voice", "analysis_plan")
# What a client configures and reads back, as documented in the README.
CONFIGURABLE_FIELDS = (
    "name",
    "model",
    "voice",
    "first_message",
    "max_duration_seconds",
    "voicemail_message",
    "webhook_url",
    "analysis_plan",
)
WRITABLE_FIELDS = (*CONFIGURABLE_FIELDS, "webhook_secret")
READ_ONLY_FIELDS = ("id", "organization_id", "created_at", "updated_at", "is_webhook_secret_set")

# Valid objects for each free-form field, to which the fuzz adds keys of its own.
VALID_OBJECTS: dict[str, list[dict[str, Any]]] = {
    "model": [
        {},
        {"provider": "openai", "model": "gpt-4o"},
        {
            "provider": "openai",
            "model": "gpt-4o",
            "temperature": 0.3,
            "max_tokens": 250,
            "messages": [{"role": "system", "content": "You remind patients of appointments."}],
        },
    ],
    "voice": [{}, {"provider": "11labs", "voiceId": "rachel"}],
    "analysis_plan": [
        {},
        {"summaryPrompt": "Summarize the call.", "successEvaluationRubric": "PassFail"},
        {"structuredDataSchema": {"type": "object", "properties": {"booked": {"type": "boolean"}}}},
    ],
}

# Examples per test; each example is a dozen requests or so.
EXAMPLES = 80
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


def _with_keys(field: str) -> st.SearchStrategy[dict[str, Any]]:
    """A valid object for ``field`` with arbitrary keys (and values) added or replaced."""
    return st.builds(
        lambda base, extra: {**base, **extra},
        st.sampled_from(VALID_OBJECTS[field]),
        json_objects(),
    )


def _with_deep_value(field: str) -> st.SearchStrategy[dict[str, Any]]:
    """A valid object for ``field`` holding one value nested up to a few hundred levels."""
    return st.builds(
        lambda base, key, value: {**base, key: value},
        st.sampled_from(VALID_OBJECTS[field]),
        json_keys(),
        deeply_nested(max_depth=400),
    )


def free_form_values(field: str) -> st.SearchStrategy[Any]:
    """What a client may send as ``field``: mostly objects, deep ones, sometimes anything."""
    strategies = [_with_keys(field), _with_deep_value(field), json_objects(), json_values()]
    if field == "analysis_plan":
        # A JSON Schema is a free-form object too, and the server inspects it.
        strategies.append(json_objects().map(lambda schema: {"structuredDataSchema": schema}))
        strategies.append(
            deeply_nested(max_depth=400).map(lambda schema: {"structuredDataSchema": schema})
        )
    if field == "model":
        strategies.append(
            st.builds(
                lambda message: {"messages": [message]},
                st.builds(
                    lambda extra, content: {**extra, "role": "user", "content": content},
                    json_objects(),
                    json_text(max_size=40),
                ),
            )
        )
    return st.one_of(strategies)


def _short(value: Any) -> str:
    """A value as JSON (at any depth), its two ends if long."""
    text = dumps(value).decode()
    return text if len(text) <= 240 else f"{text[:120]}...{text[-120:]}"


def _describe(response: Any) -> str:
    """The answer, then the request: enough to reproduce it (a long body shows its two ends)."""
    request = response.request
    body: bytes = request.content
    shown = body if len(body) <= 240 else body[:120] + b"..." + body[-120:]
    return (
        f"{response.status_code} {response.text[:300]} <- {request.method} {request.url} "
        f"(Content-Type: {request.headers.get('content-type')}, {len(body)} bytes: {shown!r})"
    )


def _error_body_checked(response: Any) -> None:
    """A 4xx answers with exactly the Error body, naming its status, with a message."""
    assert response.headers.get("content-type") == "application/json", _describe(response)
    body = loads_deep(response.content)
    assert isinstance(body, dict) and set(body) == {"error", "message"}, _describe(response)
    assert body["error"] == response.status_code, _describe(response)
    assert isinstance(body["message"], str) and body["message"], _describe(response)


def _written(response: Any) -> bool:
    """Whether a write succeeded; if not, it was refused with a 400 and the Error body."""
    assert response.status_code < 500, _describe(response)
    if response.status_code in (200, 201):
        return True
    assert response.status_code == 400, _describe(response)
    _error_body_checked(response)
    return False


def _read(response: Any) -> Any:
    """The decoded body of a read, which must succeed."""
    assert response.status_code < 500, _describe(response)
    assert response.status_code == 200, _describe(response)
    return loads_deep(response.content)


class TrackedAssistant:
    """One assistant, with what every read of it must give back, version by version."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.id: int | None = None
        self.configuration: dict[str, Any] = {}
        self.secret_set = False
        self.versions: dict[int, tuple[dict[str, Any], bool]] = {}

    @property
    def path(self) -> str:
        return f"/v1/assistant/{self.id}"

    def create(self, body: bytes) -> bool:
        """POST ``body``; on success, track the assistant as that body configures it."""
        response = self.api.post("/v1/assistant", content=body, headers=JSON)
        if not _written(response):
            return False
        document = loads_deep(body)
        self.id = loads_deep(response.content)["id"]
        self.configuration = {
            field: value
            for field, value in document.items()
            if field in CONFIGURABLE_FIELDS and value is not None
        }
        self.secret_set = document.get("webhook_secret") is not None
        self._check_written(response)
        return True

    def patch(self, body: bytes) -> bool:
        """PATCH ``body`` as application/json: each field given replaces the stored value."""
        response = self.api.patch(self.path, content=body, headers=JSON)
        if not _written(response):
            return False
        for field, value in loads_deep(body).items():
            self._set(field, value)
        self._check_written(response)
        return True

    def merge(self, body: bytes) -> bool:
        """PATCH ``body`` as a merge patch, merged into the stored configuration (RFC 7396)."""
        response = self.api.patch(self.path, content=body, headers=MERGE_PATCH)
        if not _written(response):
            return False
        changes = loads_deep(body)
        if "webhook_secret" in changes:
            self.secret_set = changes.pop("webhook_secret") is not None
        self.configuration = merge_patch(self.configuration, changes)
        self._check_written(response)
        return True

    def _set(self, field: str, value: Any) -> None:
        if field == "webhook_secret":
            self.secret_set = value is not None
        elif value is None:
            self.configuration.pop(field, None)
        else:
            self.configuration[field] = value

    def _check_written(self, response: Any) -> None:
        """The write's own answer, and the version it recorded, hold the new configuration."""
        self._check_assistant(loads_deep(response.content), response)
        read = self.api.get(f"{self.path}/versions", params={"limit": 1})
        newest = _read(read)
        assert len(newest) == 1, _describe(read)
        self._check_configuration(newest[0]["configuration"], read)
        self.versions[newest[0]["version"]] = (dict(self.configuration), self.secret_set)

    def _check_assistant(self, body: Any, response: Any) -> None:
        assert body["id"] == self.id, _describe(response)
        self._check_configuration(body, response)

    def _check_configuration(
        self,
        shown: Any,
        response: Any,
        expected: tuple[dict[str, Any], bool] | None = None,
    ) -> None:
        """``shown`` (an assistant, or a version's configuration) holds what was written."""
        fields, secret_set = expected or (self.configuration, self.secret_set)
        configured = {field: shown[field] for field in CONFIGURABLE_FIELDS if field in shown}
        assert same_json(configured, fields), (
            f"shown {_short(configured)}, written {_short(fields)}: {_describe(response)}"
        )
        assert shown["is_webhook_secret_set"] is secret_set, _describe(response)

    def check_reads(self) -> None:
        """Every way of reading the assistant gives back what was written, version by version."""
        response = self.api.get(self.path)
        self._check_assistant(_read(response), response)
        for params in ({"limit": 1000}, {"limit": 1000, "created_at_ge": "2000-01-01T00:00:00Z"}):
            response = self.api.get("/v1/assistant", params=params)
            listed = [item for item in _read(response) if item["id"] == self.id]
            assert len(listed) == 1, _describe(response)
            self._check_assistant(listed[0], response)
        response = self.api.get(f"{self.path}/versions", params={"limit": 1000})
        history = {record["version"]: record for record in _read(response)}
        for number, expected in self.versions.items():
            assert number in history, _describe(response)
            self._check_configuration(history[number]["configuration"], response, expected)
            one = self.api.get(f"{self.path}/versions/{number}")
            self._check_configuration(_read(one)["configuration"], one, expected)

    def delete(self) -> None:
        """Delete it, so that the list stays short for the next example."""
        response = self.api.delete(self.path)
        assert response.status_code == 200, _describe(response)


def _exercise(api: Api, created: bytes, replaced: bytes, merged: bytes) -> None:
    """Create with ``created`` (or plainly, if it is refused), PATCH with ``replaced``, merge
    ``merged``, then read every way."""
    assistant = TrackedAssistant(api)
    if not assistant.create(created):
        assert assistant.create(b'{"name": "Fuzz"}')
    assistant.patch(replaced)
    assistant.merge(merged)
    assistant.check_reads()
    assistant.delete()


def test_free_form_objects_are_kept_as_sent_or_refused(api: Api) -> None:
    @FUZZ_SETTINGS
    @given(data=st.data(), field=st.sampled_from(FREE_FORM_FIELDS))
    def round_trip(data: st.DataObject, field: str) -> None:
        values = free_form_values(field)
        created = data.draw(values, label="created")
        replaced = data.draw(values, label="replaced")
        merged = data.draw(values, label="merged")
        _exercise(
            api,
            dumps({"name": "Fuzz", field: created}),
            dumps({field: replaced}),
            dumps({field: merged}),
        )

    round_trip()


def _bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Request bodies: one field with any value, or a few fields of any name."""
    names = st.sampled_from(WRITABLE_FIELDS) | st.sampled_from(READ_ONLY_FIELDS) | json_keys()
    return st.builds(
        lambda field, value: {field: value}, st.sampled_from(WRITABLE_FIELDS), json_values()
    ) | st.dictionaries(names, json_values(), max_size=3)


def test_any_value_in_any_field_is_kept_as_sent_or_refused(api: Api) -> None:
    @FUZZ_SETTINGS
    @given(created=_bodies(), replaced=_bodies(), merged=_bodies())
    def round_trip(
        created: dict[str, Any], replaced: dict[str, Any], merged: dict[str, Any]
    ) -> None:
        _exercise(api, dumps({"name": "Fuzz", **created}), dumps(replaced), dumps(merged))

    round_trip()


EDGE_VALUES: tuple[Any, ...] = (
    *EDGE_INTEGERS,
    *EDGE_FLOATS,
    *EDGE_STRINGS,
    True,
    False,
    None,
    [],
    {},
)


def test_edge_values_are_kept_as_sent_or_refused(api: Api) -> None:
    """Each value where number and text formats change, in each free-form object, every way
    of writing it. Every value is tried, and every value that fails is reported."""
    failures = []
    for value in EDGE_VALUES:
        try:
            _exercise(
                api,
                dumps({"name": "Edges", "model": {"v": value, "n": [value]}}),
                dumps({"voice": {"v": value, "n": {"v": value}}}),
                dumps({"analysis_plan": {"v": value}, "model": {"w": value}}),
            )
        except AssertionError as failure:
            failures.append(f"{value!r}: {str(failure).splitlines()[0][:400]}")
    assert not failures, "\n".join(failures)


def _nested_lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _nested_objects(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


# Around every depth where a parser, a database or a renderer might give up, up to 1,100.
DEPTHS = sorted(
    {1, 2, 32, 64, 100, 128, 200}
    | set(range(248, 258))
    | {300, 400, 500, 511, 512, 513, 700, 1000}
    | set(range(1020, 1027))
    | {1100}
)
NESTINGS: dict[str, Callable[[int], bytes]] = {
    "lists": _nested_lists,
    "objects": _nested_objects,
}


@pytest.mark.parametrize("nesting", list(NESTINGS))
def test_deep_nesting_is_kept_as_sent_or_refused(api: Api, nesting: str) -> None:
    """The raw bytes of values nested up to 1,100 levels deep, as the values of ``model``'s
    keys. Every depth is tried, and every depth that fails is reported."""
    failures = []
    for depth in DEPTHS:
        raw = NESTINGS[nesting](depth)
        try:
            _exercise(
                api,
                b'{"name":"x","model":{"a":' + raw + b"}}",
                b'{"model":{"b":' + raw + b"}}",
                b'{"model":{"c":' + raw + b"}}",
            )
        except AssertionError as failure:
            failures.append(f"depth {depth}: {str(failure).splitlines()[0][:400]}")
    assert not failures, "\n".join(failures)
