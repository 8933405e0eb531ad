"""Credential fixtures: one credential with every optional field set."""

from __future__ import annotations

from typing import Any

import pytest
from credential_api import create_credential

from support import Api


@pytest.fixture
def credential(api: Api) -> dict[str, Any]:
    return create_credential(
        api, name="Production", base_url="https://gateway.example.org/openai/v1"
    )
