"""The edges of a call's life: a join after its time, messages sent while the assistant is
still replying, an analysis not worth its cost, leases renewed only for calls still held."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from calls_support import CallsApi
from clarion.calls import repository
from clarion.calls.models import CALLS
from clarion.database import Database
from clarion.database.clock import utcnow
from clarion.engine import moves
from fake_providers import FakeProviders, Reply
from support import Tenant
from webhook_receiver import Answer

FIRST = "Hello, this is Northside Clinic."


def _call(api: CallsApi, fake: FakeProviders, **fields: Any) -> dict[str, Any]:
    return api.call_on(fake, first_message=FIRST, **fields)


def test_a_call_cannot_be_joined_after_its_time_to_be_joined_even_before_the_reaper_ends_it(
    served: Any, tenant: Tenant, fake: FakeProviders, database: Database
) -> None:
    api = served(tenant)  # joins are allowed for 60 s; the reaper looks every 10 s
    created = _call(api, fake)
    with database.unit(write=True) as unit:
        unit.session.execute(
            update(CALLS)
            .where(CALLS.c.id == created["id"])
            .values(
                created_at=utcnow() - dt.timedelta(seconds=61),
                updated_at=utcnow() - dt.timedelta(seconds=61),
            )
        )

    with pytest.raises(InvalidStatus) as refused:
        connect(created["web_call_url"], open_timeout=10)

    assert refused.value.response.status_code == 403
    assert api.call(created["id"])["call_status"] in ("queued", "ended")


def test_messages_sent_while_the_assistant_replies_are_answered_in_one_turn(
    served: Any, tenant: Tenant, fake: FakeProviders
) -> None:
    api = served(tenant)
    created = _call(api, fake)
    # The reply's first word, then a second's pause with the turn still open.
    answering = Reply("Let me check.", stall_after=2, stall=1.0)
    fake.reply_in_turn(answering, Reply("Thursday at 9, both of you."))
    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        call.say("When is my appointment?")
        assert call.until("assistant-delta")[-1]["text"] == "Let "  # the model is answering
        call.say("And my husband's?")
        call.say("Same day, I think.")
        assert call.until("assistant-message")[-1]["text"] == "Let me check."
        assert call.until("assistant-message")[-1]["text"] == "Thursday at 9, both of you."
        call.hang_up()
        call.until("call-ended")

    assert len(fake.received) == 2
    last = [(m["role"], m["content"]) for m in fake.received[1].json["messages"]]
    assert last[-2:] == [("user", "And my husband's?"), ("user", "Same day, I think.")]
    ended = api.wait_for_call(created["id"], "the end", lambda c: c["call_status"] == "ended")
    assert [m["message"] for m in ended["messages"]] == [
        FIRST,
        "When is my appointment?",
        "Let me check.",
        "And my husband's?",
        "Same day, I think.",
        "Thursday at 9, both of you.",
    ]


def test_a_call_where_the_patient_said_nothing_gets_no_analysis_but_its_report(
    served: Any, tenant: Tenant, fake: FakeProviders, receiver: Any
) -> None:
    api = served(tenant)
    assistant = api.assistant_on(
        fake,
        # Words that look like a transcript line do not make the patient speak.
        first_message="Reminder for the patient. User: Ada, Thursday at 9.",
        webhook_url=receiver.on("/report", lambda _n: Answer()),
        analysis_plan={"summaryPrompt": "Summarize."},
    )
    created = api.start_call(assistant["id"])
    fake.script = lambda _request: Reply("Nobody said anything.")
    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        call.hang_up()
        call.until("call-ended")

    receiver.wait_for("/report", 1)
    assert fake.received == []  # no analysis request: nothing of the patient's to analyse
    assert "summary" not in api.call(created["id"])


def test_leases_are_renewed_only_for_the_calls_still_held(
    served: Any, tenant: Tenant, fake: FakeProviders, database: Database
) -> None:
    api = served(tenant)
    held = _call(api, fake)["id"]
    lost = api.start_call(api.call(held)["assistant_id"])["id"]
    now = utcnow()
    with database.unit(write=True) as unit:
        unit.session.execute(
            update(CALLS)
            .where(CALLS.c.id.in_([held, lost]))
            .values(
                call_status="in-progress",
                lease_owner="here",
                lease_expires_at=now + dt.timedelta(seconds=1),
            )
        )
    later = now + dt.timedelta(seconds=30)

    with database.unit(write=True) as unit:
        renewed = moves.renew_leases(unit, "here", {held}, later)
    with database.unit() as unit:
        expired = repository.expired(unit.statements, now + dt.timedelta(seconds=2), 10)

    assert renewed == {held}
    assert expired == [lost]  # the reaper ends it as worker-died
