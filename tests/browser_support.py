"""Debian's Chromium, as every browser test starts it: the test never downloads a browser.
Without /usr/bin/chromium a browser test skips, unless CLARION_REQUIRE_BROWSER=1 (CI) says
the browser must be there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and quiet: without the background-networking flags Chromium calls its own hosts,
# which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium(tests: str) -> None:
    """Skip (or, where the browser is required, fail) ``tests`` when Chromium is missing."""
    if not CHROMIUM.exists():
        reason = f"{tests} need Chromium: apt-get install chromium"
        if os.environ.get("CLARION_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
