"""The clinic and the patient of the phone call tests, and what the tests do with them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

CLINIC = "+15550100200"
PATIENT = "+15550199999"
GREETING = "Tomorrow morning works. See you then."


def outbound(api: Any, number_id: int, assistant_id: int) -> dict[str, Any]:
    """A new outbound call from the clinic's number to the patient."""
    created: dict[str, Any] = api.start_call(
        assistant_id,
        call_type="outboundPhoneCall",
        source_phone_number_id=number_id,
        destination_phone_number=PATIENT,
    )
    return created


def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait for ``condition``, failing the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)
