"""Property-based run of schemathesis against our own served OpenAPI document, in process.

For every operation it generates requests from the document and checks that none gets a
server error and that every response matches the document (status code, content type, body
schema). Hypothesis drives each operation directly, so the run needs no pytest plugin.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support import Api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_api_conforms_to_its_own_document(app: Any, api: Api) -> None:
    # A few real assistants, so that generated ids sometimes find one.
    for number in range(1, 4):
        api.create_assistant(name=f"Seeded {number}", first_message="Hello")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=api.tenant.headers, checks=CHECKS)

        conforms()
