"""A web call's URL issued again: a link that ran out unused is not a dead end, and the link
before it no longer joins the call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from calls_support import CallsApi
from clarion.calls.models import CALLS
from clarion.database import Database
from clarion.database.clock import utcnow
from fake_providers import FakeProviders
from support import Tenant, assert_error


def _ran_out(database: Database, call_id: int) -> None:
    """The call's minute to be joined is over (the reaper has not yet ended it)."""
    long_ago = utcnow() - dt.timedelta(seconds=61)
    with database.unit(write=True) as unit:
        unit.session.execute(
            update(CALLS)
            .where(CALLS.c.id == call_id)
            .values(created_at=long_ago, updated_at=long_ago)
        )


def _issue(api: CallsApi, call_id: int) -> Any:
    return api.http.post(f"/v1/call/{call_id}/web-call-url")


def test_a_link_that_ran_out_unused_is_issued_again_and_the_old_one_stays_dead(
    served: Any, tenant: Tenant, fake: FakeProviders, database: Database
) -> None:
    api = served(tenant)
    created = api.call_on(fake, first_message="Hello, this is Northside Clinic.")
    _ran_out(database, created["id"])
    assert api.refusal(created["web_call_url"])[0] == 403

    issued = _issue(api, created["id"])

    assert issued.status_code == 200, issued.text
    again = issued.json()
    assert again["id"] == created["id"] and again["call_status"] == "queued"
    assert again["web_call_url"] != created["web_call_url"]
    assert again["web_call_page_url"].endswith("/talk#" + again["web_call_url"])
    assert api.refusal(created["web_call_url"])[0] == 403
    with api.join(again["web_call_url"]) as call:
        call.until("assistant-message")
        # Joined: no other link may open it now.
        assert_error(_issue(api, created["id"]), 409, "in-progress")
        call.hang_up()
        call.until("call-ended")
    api.wait_for_call(created["id"], "its end", lambda c: c["call_status"] == "ended")
    assert_error(_issue(api, created["id"]), 409, "ended (customer-ended)", "create a new call")


def test_another_organizations_call_is_not_found(
    served: Any, tenant: Tenant, other_tenant: Tenant, fake: FakeProviders
) -> None:
    api = served(tenant)
    created = api.call_on(fake)
    other = CallsApi(api.serving, other_tenant)

    assert_error(_issue(other, created["id"]), 404, "call")
    assert_error(_issue(api, 987654), 404, "call")
    assert api.call(created["id"])["call_status"] == "queued"
    with api.join(created["web_call_url"]) as call:  # its own link still joins it
        call.until("call-started")
        call.hang_up()
        call.until("call-ended")
