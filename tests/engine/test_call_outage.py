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
from outages import POSTGRES, database_away
from support import Tenant

CALL_LOOPS = ("call-messages", "call-leases", "call-reaper", "call-reports")


def _web_call(api: CallsApi, fake: FakeProviders) -> dict[str, Any]:
    return api.call_on(fake, first_message="Hello.")


def test_health_names_every_loop_of_the_calls(served: Any, tenant: Tenant) -> None:
    api = served(tenant)

    health = httpx.get(f"{api.serving.base}/v1/health").json()

    assert health["calls"]["held"] == 0 and health["calls"]["accepting"] is True
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


# On SQLite the outage is another process holding the write lock, and each write that meets
# it holds the event loop for the busy timeout: the seconds this test counts would be those.
@pytest.mark.skipif(not POSTGRES, reason="the database going away, not a held lock")
def test_a_caller_leaving_while_the_database_is_away_is_told_and_the_call_ends_after(
    served: Any, tenant: Tenant, fake: FakeProviders, settings: Settings
) -> None:
    api = served(tenant, call_lease_seconds=3)
    created = _web_call(api, fake)
    fake.script = lambda _request: Reply("Yes.")

    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        with database_away(settings):
            call.say("Is it on Thursday?")  # what is said now cannot be stored yet
            call.hang_up()
            # Told within the lease, not left on an open socket until the database is back.
            assert call.until("call-ended", timeout=15)[-1]["ended_reason"] == "customer-ended"

    # Nobody holds the call any more: once its lease has run out the reaper ends it, and
    # what was said during the outage is stored when the database is back.
    ended = api.wait_for_call(
        created["id"],
        "its end and its messages",
        lambda c: c["call_status"] == "ended" and len(c.get("messages", ())) >= 2,
    )
    assert ended["ended_reason"] == "worker-died"
    assert [m["message"] for m in ended["messages"]][:2] == ["Hello.", "Is it on Thursday?"]
