"""Property-based run of schemathesis against our own served OpenAPI document, in process.

Every operation in the served document, and every media type of every request body, is run
with requests that fit the document and with requests that break it. None may get a server
error; every response must match the document (status code, content type, body schema); and
every failure must be exactly the Error body. Generated ids rarely find anything, so part of
each run uses the ids of real assistants, versions and webhook deliveries; and date-time query
parameters are also given the first and last moments of the calendar, in the most distant time
zones. Hypothesis drives each operation directly (derandomized, so a run is repeatable), so the
run needs no pytest plugin; it counts what it ran against the document, so no operation can
silently drop out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation, PayloadAlternatives
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from support import Api

Operation = APIOperation[Any, Any, Any, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Examples per operation, media type and generation mode.
EXAMPLES = 30

# Path parameters that name something real, and how many of each the run sets up.
SEEDED_ASSISTANTS = 2
SEEDED_VERSIONS = ("1", "2", "3")

# The first and last moments the calendar has, with no zone and in the farthest zones: where
# converting to UTC leaves the range of dates.
EDGE_DATES = ("0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31")
EDGE_TIMES = ("00:00:00", "23:59:59", "23:59:59.999999")
EDGE_ZONES = ("", "Z", "+00:00", "+14:00", "-14:00", "+23:59", "-23:59")


def edge_date_times() -> st.SearchStrategy[str]:
    return st.builds(
        "{}T{}{}".format,
        st.sampled_from(EDGE_DATES),
        st.sampled_from(EDGE_TIMES),
        st.sampled_from(EDGE_ZONES),
    )


def error_body(ctx: Any, response: Any, case: schemathesis.Case[Any]) -> bool | None:
    """Every 4xx is exactly the Error body: its own status, and a message."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), body
        assert set(body) == {"error", "message"}, body
        assert body["error"] == response.status_code, body
        assert isinstance(body["message"], str) and body["message"], body
    return None


def refused(ctx: Any, response: Any, case: schemathesis.Case[Any]) -> bool | None:
    """A request that breaks the document is refused: negative_data_rejection, for which any
    4xx is a refusal (its own list leaves out, among others, 412 and 413)."""
    if 400 <= response.status_code < 500:
        return None
    result: bool | None = negative_data_rejection(ctx, response, case)
    return result


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_body,
    refused,
]

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@dataclasses.dataclass
class Seeds:
    """Ids that exist, for the path parameters of that name."""

    path_parameters: dict[str, list[str]]


def _seed(api: Api) -> Seeds:
    """Assistants with a few versions and a webhook delivery each, fresh for each operation
    (a DELETE run leaves none behind)."""
    assistants: list[str] = []
    deliveries: list[str] = []
    for number in range(SEEDED_ASSISTANTS):
        created = api.create_assistant(
            name=f"Seeded {number}",
            first_message="Hello",
            model={"provider": "openai", "model": "gpt-4o", "temperature": 0.3},
            webhook_url="https://hooks.example.org/clarion",
            webhook_secret="a-long-random-secret",
        )
        path = f"/v1/assistant/{created['id']}"
        for message in ("Good morning", "Good afternoon"):
            response = api.patch(path, json={"first_message": message})
            assert response.status_code == 200, response.text
        response = api.post(f"{path}/webhook/test")
        assert response.status_code == 202, response.text
        assistants.append(str(created["id"]))
        deliveries.append(str(response.json()["id"]))
    return Seeds(
        {
            "assistantId": assistants,
            "version": list(SEEDED_VERSIONS),
            "deliveryId": deliveries,
        }
    )


def _documented(document: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    """Every (method, path, request media type or None) the document describes."""
    described: set[tuple[str, str, str | None]] = set()
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            content = item[method].get("requestBody", {}).get("content", {})
            for media_type in content or [None]:
                described.add((method.upper(), path, media_type))
    return described


def _one_per_media_type(operation: Operation) -> Iterator[Operation]:
    """The operation once per media type of its request body (as is, without a body)."""
    alternatives = list(operation.body)
    if len(alternatives) <= 1:
        yield operation
        return
    for alternative in alternatives:
        yield dataclasses.replace(operation, body=PayloadAlternatives([alternative]))


def _date_time_query_parameters(operation: Operation) -> list[str]:
    names = []
    for parameter in operation.definition.raw.get("parameters", []):
        schema = parameter.get("schema", {})
        variants = schema.get("anyOf", [schema])
        if parameter["in"] == "query" and any(v.get("format") == "date-time" for v in variants):
            names.append(parameter["name"])
    return names


def _cases(
    operation: Operation, mode: GenerationMode, seeds: Seeds
) -> st.SearchStrategy[schemathesis.Case[Any]]:
    """Generated cases. Some name real things and match any ETag, so that they get past the
    lookup and the precondition to the operation's work (and, when negative, break something
    other than the API key); some give date-time parameters the calendar's ends; the rest are
    as schemathesis makes them."""
    strategies = []
    # Path parameters this run has real values for (any other is generated).
    names = [p.name for p in operation.path_parameters if p.name in seeds.path_parameters]
    headers = {"If-Match": "*"} if "If-Match" in operation.headers else None
    # A negative case that names real things has to break something else: a body, a query.
    if (names or headers) and (mode is GenerationMode.POSITIVE or _takes_data(operation)):
        real = st.fixed_dictionaries(
            {name: st.sampled_from(seeds.path_parameters[name]) for name in names}
        )
        reaching = real.flatmap(
            lambda pinned: operation.as_strategy(
                mode, path_parameters=pinned or None, headers=headers
            )
        )
        reaching = reaching.filter(
            lambda case: not operation.schema.is_security_param_negated(case)
        )
        # Twice: most cases should get to the operation's work.
        strategies.extend([reaching, reaching])
    dates = _date_time_query_parameters(operation)
    if dates:
        edges = st.fixed_dictionaries({}, optional=dict.fromkeys(dates, edge_date_times()))
        strategies.append(edges.flatmap(lambda query: operation.as_strategy(mode, query=query)))
    strategies.append(operation.as_strategy(mode))
    return st.one_of(strategies)


def _has_inputs(operation: Operation) -> bool:
    """Whether there is anything to break: parameters or a body."""
    return any(
        len(container) > 0
        for container in (
            operation.path_parameters,
            operation.headers,
            operation.cookies,
            operation.query,
            operation.body,
        )
    )


def _takes_data(operation: Operation) -> bool:
    """Whether the operation takes more than what names its target: a body, a query, headers
    beyond If-Match."""
    headers = [parameter.name for parameter in operation.headers if parameter.name != "If-Match"]
    return len(operation.body) > 0 or len(operation.query) > 0 or len(headers) > 0


def _examples(operation: Operation, mode: GenerationMode) -> int:
    """Fewer negative cases where all there is to break is the path, the key and If-Match."""
    if mode is GenerationMode.NEGATIVE and not _takes_data(operation):
        return EXAMPLES // 2
    return EXAMPLES


class AsServed:
    """The application as a server runs it. Starlette sends the 500 for an unhandled exception
    and then raises it again for the server to log; a client sees only the 500. In process the
    exception would reach the test instead, without the request that caused it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            if scope["type"] != "http" or not started:
                raise


def _authenticate(schema: Any, api_key: str) -> None:
    """Generated cases carry the tenant's key, except those that break it on purpose."""

    class TenantKey:
        def get(self, case: schemathesis.Case[Any], context: Any) -> str:
            return api_key

        def set(self, case: schemathesis.Case[Any], data: str, context: Any) -> None:
            case.headers["Authorization"] = f"Bearer {data}"

    schema.auth()(TenantKey)


def _summary(error: BaseException) -> str:
    """What an error says, each line cut short: a reproduction may carry a megabyte body."""
    lines = [*str(error).splitlines(), *getattr(error, "__notes__", [])]
    return "\n".join(f"    {line[:400]}" for line in lines)


def test_every_operation_conforms_to_the_served_document(app: Any, api: Api) -> None:
    document = api.get("/openapi.json").json()
    described = _documented(document)
    schema = schemathesis.openapi.from_asgi("/openapi.json", AsServed(app))
    _authenticate(schema, api.tenant.api_key)

    ran: set[tuple[str, str, str | None]] = set()
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot read: {result.err()}"
        seeds = _seed(api)
        for operation in _one_per_media_type(result.ok()):
            modes = list(GenerationMode) if _has_inputs(operation) else [GenerationMode.POSITIVE]
            for mode in modes:

                @settings(FUZZ_SETTINGS, max_examples=_examples(operation, mode))
                @given(case=_cases(operation, mode, seeds))
                def conforms(case: schemathesis.Case[Any]) -> None:
                    method = case.operation.method.upper()
                    ran.add((method, case.operation.path, case.media_type))
                    case.call_and_validate(checks=CHECKS)

                # Every operation runs, whatever an earlier one found; all failures are reported.
                # (Schemathesis reports what it finds as a BaseExceptionGroup.)
                try:
                    conforms()
                except (Exception, BaseExceptionGroup) as error:
                    media_types = ", ".join(operation.get_request_payload_content_types())
                    failures.append(
                        f"{operation.label} ({media_types or 'no body'}; {mode.value}):\n"
                        + _summary(error)
                    )

    # Every operation of the document ran, with every media type it takes.
    assert ran == described, f"ran but not documented, or documented but not run: {ran ^ described}"
    operations = {(method, path) for method, path, _ in ran}
    assert len(operations) == sum(
        method in item for item in document["paths"].values() for method in HTTP_METHODS
    )
    assert not failures, "\n\n".join(failures)
