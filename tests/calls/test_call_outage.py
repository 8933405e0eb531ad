"""Web calls while the database is away: a join is refused with 503 and the Error body (never
a dropped socket), the call stays as it was and can be joined once the database is back.
Health names every loop the calls run."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from calls_support import CallsApi
from clarion.config import Settings
from fake_providers import FakeProviders, Reply
from outages import database_away
from support import Tenant

CALL_LOOPS = ("call-messages", "call-leases", "call-reaper", "call-reports")


def _web_call(api: CallsApi, fake: FakeProviders) -> dict[str, Any]:
    assistant = api.assistant_on(fake, first_message="Hello.")
    return api.start_call(assistant["id"])


def test_health_names_every_loop_of_the_calls(served: Any, tenant: Tenant) -> None:
    api = served(tenant)

    health = httpx.get(f"{api.serving.base}/v1/health").json()

    assert health["calls"] == {"held": 0, "accepting": True}
    loops = {loop["name"]: loop for loop in health["loops"]}
    for name in CALL_LOOPS:
        assert loops[name]["state"] in ("starting", "running"), loops[name]
        assert loops[name]["failures"] == 0


def test_a_join_while_the_database_is_away_is_503_and_the_call_waits_for_it(
    served: Any, tenant: Tenant, fake: FakeProviders, settings: Settings
) -> None:
    api = served(tenant)
    created = _web_call(api, fake)
    fake.script = lambda _request: Reply("Yes.")

    with database_away(settings), pytest.raises(InvalidStatus) as refused:
        connect(created["web_call_url"], open_timeout=30)

    response = refused.value.response
    assert response.status_code == 503
    assert orjson.loads(response.body) == {
        "error": 503,
        "message": "the database is unavailable; try again shortly",
    }
    assert api.call(created["id"])["call_status"] == "queued"
    with api.join(created["web_call_url"]) as call:
        assert call.until("assistant-message")[-1]["text"] == "Hello."
        call.hang_up()
        assert call.until("call-ended")[-1]["ended_reason"] == "customer-ended"
