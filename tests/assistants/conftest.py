"""Every assistant test runs twice: through the hot paths, and through FastAPI alone."""

from __future__ import annotations

import pytest


@pytest.fixture(params=[True, False], ids=["hot-paths", "framework-only"])
def hot_paths(request: pytest.FixtureRequest) -> bool:
    enabled: bool = request.param
    return enabled
