"""The assistant phoning a patient, with the test playing Twilio: the call placed through
its REST API with TwiML that connects the stream, its status callbacks, and its end of the
Media Stream; the organization's live-call limit queueing calls rather than refusing them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from phoning import CLINIC, GREETING, PATIENT, outbound, until

from fake_twilio import (
    INVALID_TO,
    ThreadedTwilio,
    call_status_params,
)
from voice_support import recognized


@pytest.fixture
def phoning(clinic: Callable[..., Any]) -> Callable[..., Any]:
    """``phoning(**settings)``: (api, number id, assistant id) of the clinic's server."""
    return lambda **settings: clinic({}, **settings)


def test_the_assistant_phones_a_patient(
    phoning: Callable[..., Any], twilio: ThreadedTwilio, receiver: Any
) -> None:
    api, number_id, assistant_id = phoning()
    created = outbound(api, number_id, assistant_id)
    assert created["call_status"] == "queued" and "web_call_url" not in created
    assert (created["source_number"], created["destination_number"]) == (CLINIC, PATIENT)

    until(lambda: len(twilio.fake.calls) == 1)
    placed = twilio.fake.calls[0]
    assert (placed.to, placed.from_) == (PATIENT, CLINIC)
    assert placed.status_events == ["initiated", "ringing", "answered", "completed"]
    assert placed.status_callback.endswith(f"/v1/telephony/twilio/status?call_id={created['id']}")
    until(lambda: api.call(created["id"])["call_status"] == "ringing")

    stream = twilio.answer(placed)
    stream.until(lambda: stream.stream.played_ms > 1500 and not stream.stream.playing)
    assert api.call(created["id"])["call_status"] == "in-progress"
    assert "tomorrow morning" in recognized(stream.heard)
    stream.hang_up()
    until(lambda: api.call(created["id"])["call_status"] == "ended")
    assert api.call(created["id"])["ended_reason"] == "customer-ended"

    report = orjson.loads(receiver.wait_for("/report", 1)[0].body)
    assert report["id"] == created["id"] and report["call_type"] == "outboundPhoneCall"
    assert (report["source_number"], report["destination_number"]) == (CLINIC, PATIENT)
    assert report["ended_reason"] == "customer-ended"
    assert report["transcript"] == f"AI: {GREETING}"
    assert "voicemail_message" not in report  # a person answered: none was left


def test_a_placement_twilio_refuses_ends_the_call_with_its_code(
    phoning: Callable[..., Any], twilio: ThreadedTwilio
) -> None:
    api, number_id, assistant_id = phoning()
    twilio.fake.refuse(*INVALID_TO)
    created = outbound(api, number_id, assistant_id)
    until(lambda: api.call(created["id"])["call_status"] == "ended")
    call = api.call(created["id"])
    assert call["ended_reason"] == "twilio-failed-to-connect-call"
    assert call["failure_detail"] == f"Twilio error {INVALID_TO[1]}: {INVALID_TO[2]}"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("busy", "customer-busy"),
        ("no-answer", "customer-did-not-answer"),
        ("failed", "twilio-failed-to-connect-call"),
    ],
)
def test_a_call_that_does_not_connect_ends_as_twilio_says(
    phoning: Callable[..., Any], twilio: ThreadedTwilio, status: str, reason: str
) -> None:
    api, number_id, assistant_id = phoning()
    created = outbound(api, number_id, assistant_id)
    until(lambda: len(twilio.fake.calls) == 1)
    placed = twilio.fake.calls[0]
    callback = placed.status_callback or ""

    forged = twilio.signed_post(
        callback, call_status_params(placed.sid, status), signed_url=callback + "&x=1"
    )
    assert forged.status == 403
    assert api.call(created["id"])["call_status"] == "ringing"  # a forgery changes nothing

    answer = twilio.signed_post(callback, call_status_params(placed.sid, status))
    assert answer.status == 204
    assert api.call(created["id"])["ended_reason"] == reason


def test_calls_over_the_limit_wait_and_are_all_placed_in_turn(
    phoning: Callable[..., Any], twilio: ThreadedTwilio
) -> None:
    # A clinic's reminders, all at once: 200 calls against a limit of 50.
    api, number_id, assistant_id = phoning(max_live_calls_per_organization=50)
    created = [outbound(api, number_id, assistant_id)["id"] for _ in range(200)]
    rang_out: set[str] = set()
    most_live = 0
    while len(rang_out) < len(created):
        until(lambda: len(twilio.fake.calls) > len(rang_out))
        placed_now = list(twilio.fake.calls)
        # Placed and not yet ended, as Twilio sees it, and as the server counts it.
        most_live = max(most_live, len(placed_now) - len(rang_out))
        calls = api.request("GET", "/v1/call?limit=1000").json()
        most_live = max(most_live, sum(c["call_status"] == "ringing" for c in calls))
        for placed in placed_now:
            if placed.sid not in rang_out:
                rang_out.add(placed.sid)
                twilio.signed_post(
                    placed.status_callback or "", call_status_params(placed.sid, "no-answer")
                )
    assert 0 < most_live <= 50
    until(
        lambda: all(
            c["ended_reason"] == "customer-did-not-answer"
            for c in api.request("GET", "/v1/call?limit=1000").json()
        )
    )
    assert len(api.request("GET", "/v1/call?limit=1000").json()) == 200  # none lost
    # Oldest first: placed in the order they were created, each once.
    placed_order = [int((p.status_callback or "").rsplit("=", 1)[1]) for p in twilio.fake.calls]
    assert placed_order == created


def test_a_call_answered_whose_stream_never_opens_fails_to_connect(
    phoning: Callable[..., Any], twilio: ThreadedTwilio
) -> None:
    api, number_id, assistant_id = phoning(call_stream_open_seconds=1)
    answered = outbound(api, number_id, assistant_id)
    ringing = outbound(api, number_id, assistant_id)
    until(lambda: len(twilio.fake.calls) == 2)
    placed = next(p for p in twilio.fake.calls if p.status_callback.endswith(f"={answered['id']}"))
    picked_up = call_status_params(placed.sid, "in-progress")
    assert twilio.signed_post(placed.status_callback or "", picked_up).status == 204

    until(lambda: api.call(answered["id"])["call_status"] == "ended")
    call = api.call(answered["id"])
    assert call["ended_reason"] == "twilio-failed-to-connect-call"
    assert "media stream did not open" in call["failure_detail"]
    # A call still ringing is Twilio's to settle: it rings on.
    assert api.call(ringing["id"])["call_status"] == "ringing"


def test_ending_a_ringing_call_hangs_it_up_at_twilio(
    phoning: Callable[..., Any], twilio: ThreadedTwilio
) -> None:
    api, number_id, assistant_id = phoning()
    created = outbound(api, number_id, assistant_id)
    until(lambda: len(twilio.fake.calls) == 1)
    placed = twilio.fake.calls[0]

    ended = api.request("POST", f"/v1/call/{created['id']}/end")

    assert ended.status_code == 200
    assert ended.json()["ended_reason"] == "manually-canceled"
    until(lambda: placed.sid in twilio.fake.completed)
