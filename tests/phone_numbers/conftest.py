"""Phone number fixtures: one number with every optional field set."""

from __future__ import annotations

from typing import Any

import pytest
from phone_number_api import create_phone_number

from support import Api


@pytest.fixture
def answering(api: Api) -> dict[str, Any]:
    """The assistant that answers the fixture's number."""
    return api.create_assistant(name="Front desk")


@pytest.fixture
def phone_number(api: Api, answering: dict[str, Any]) -> dict[str, Any]:
    return create_phone_number(api, name="Front desk line", assistant_id=answering["id"])
