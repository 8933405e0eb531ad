"""An outbound call answered by a person, an answering machine or a fax, with the test
playing Twilio and its asynchronous detection: the verdict posted, signed, to the call's
AMD callback; nothing said before it; a message left on a machine after its greeting, and
never the first message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from phoning import GREETING, outbound, until

from fake_twilio import ACCOUNT_SID, ThreadedTwilio
from voice_support import recognized

# Words the offline recognizer knows down an 8 kHz line; which message was spoken is told by
# the call's stored messages.
VOICEMAIL = "Tomorrow morning works. Please call us back."
MACHINE_SECONDS = 30.0  # a verdict awaited, a greeting, a message: longer than a call placed


@pytest.fixture
def phoning(clinic: Callable[..., Any], twilio: ThreadedTwilio) -> Callable[..., Any]:
    """``phoning(assistant_fields, **settings)``: an outbound call placed by the clinic's
    server; (api, call id, the call as Twilio placed it)."""

    def start(assistant: dict[str, Any], **settings: Any) -> tuple[Any, int, Any]:
        api, number_id, assistant_id = clinic(assistant, **settings)
        created = outbound(api, number_id, assistant_id)
        until(lambda: len(twilio.fake.calls) == 1, MACHINE_SECONDS)
        return api, created["id"], twilio.fake.calls[0]

    return start


def _verdict(twilio: ThreadedTwilio, placed: Any, answered_by: str, **options: Any) -> int:
    """Post Twilio's AMD verdict on the call; the server's status."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": placed.sid,
        "AnsweredBy": answered_by,
        "MachineDetectionDuration": "4200",
    }
    return twilio.signed_post(placed.form.get("AsyncAmdStatusCallback"), params, **options).status


def _ended(api: Any, call_id: int) -> dict[str, Any]:
    until(lambda: api.call(call_id)["call_status"] == "ended", MACHINE_SECONDS)
    call: dict[str, Any] = api.call(call_id)
    return call


def test_the_call_is_placed_with_asynchronous_detection_of_the_message_end(
    phoning: Callable[..., Any], twilio: ThreadedTwilio
) -> None:
    _api, call_id, placed = phoning({})
    assert placed.form.get("MachineDetection") == "DetectMessageEnd"
    assert placed.form.get("AsyncAmd") == "true"
    assert placed.form.get("MachineDetectionTimeout") == "30"  # Twilio's own default
    callback = placed.form.get("AsyncAmdStatusCallback")
    assert callback.endswith(f"/v1/telephony/twilio/amd?call_id={call_id}")
    assert placed.form.get("AsyncAmdStatusCallbackMethod") == "POST"


@pytest.mark.parametrize("answered_by", ["human", "unknown"])  # unknown: detection timed out
def test_a_person_hears_the_first_message(
    phoning: Callable[..., Any], twilio: ThreadedTwilio, answered_by: str
) -> None:
    api, call_id, placed = phoning({"voicemail_message": VOICEMAIL})
    stream = twilio.answer(placed, answered_by=None)
    assert _verdict(twilio, placed, answered_by) == 204
    stream.until(lambda: stream.stream.played_ms > 1500 and not stream.stream.playing)
    assert "tomorrow morning" in recognized(stream.heard)
    stream.hang_up()
    call = _ended(api, call_id)
    assert call["ended_reason"] == "customer-ended" and "outcome" not in call
    assert [m["message"] for m in call["messages"]] == [GREETING]


def test_a_machine_is_left_the_voicemail_message_and_never_the_first_message(
    phoning: Callable[..., Any], twilio: ThreadedTwilio, receiver: Any
) -> None:
    # Detection may take 30 s, far longer than the test: the greeting would be said if the
    # verdict were not awaited.
    api, call_id, placed = phoning({"voicemail_message": VOICEMAIL})
    stream = twilio.answer(placed, answered_by=None)
    assert _verdict(twilio, placed, "machine_end_beep") == 204
    call = _ended(api, call_id)
    assert call["ended_reason"] == "voicemail" and call["outcome"] == "voicemail"
    assert [(m["role"], m["message"]) for m in call["messages"]] == [("assistant", VOICEMAIL)]
    assert "tomorrow morning" in recognized(stream.heard)
    assert placed.sid in twilio.fake.completed
    report = orjson.loads(receiver.wait_for("/report", 1)[0].body)
    assert report["ended_reason"] == "voicemail" and report["outcome"] == "voicemail"
    assert report["voicemail_message"] == VOICEMAIL


def test_a_machine_is_hung_up_on_when_there_is_no_voicemail_message(
    phoning: Callable[..., Any], twilio: ThreadedTwilio
) -> None:
    api, call_id, placed = phoning({})
    stream = twilio.answer(placed, answered_by=None)
    assert _verdict(twilio, placed, "machine_end_silence") == 204
    call = _ended(api, call_id)
    assert call["ended_reason"] == "voicemail" and call["outcome"] == "voicemail"
    assert "messages" not in call
    until(lambda: placed.sid in twilio.fake.completed, MACHINE_SECONDS)
    assert stream.heard == b"" or not recognized(stream.heard)


def test_a_fax_is_hung_up_on(phoning: Callable[..., Any], twilio: ThreadedTwilio) -> None:
    api, call_id, placed = phoning({"voicemail_message": VOICEMAIL})
    stream = twilio.answer(placed, answered_by=None)
    assert _verdict(twilio, placed, "fax") == 204
    call = _ended(api, call_id)
    assert call["ended_reason"] == "customer-did-not-answer" and "outcome" not in call
    assert "messages" not in call
    until(lambda: placed.sid in twilio.fake.completed, MACHINE_SECONDS)
    assert stream.heard == b"" or not recognized(stream.heard)


def test_a_forged_verdict_changes_nothing_and_no_verdict_in_time_is_a_person(
    phoning: Callable[..., Any], twilio: ThreadedTwilio
) -> None:
    api, call_id, placed = phoning({"voicemail_message": VOICEMAIL}, amd_timeout_seconds=3)
    callback = placed.form.get("AsyncAmdStatusCallback")
    forged = _verdict(twilio, placed, "machine_end_beep", signed_url=callback + "&x=1")
    assert forged == 403
    stream = twilio.answer(placed, answered_by=None)
    stream.until(lambda: stream.stream.played_ms > 1500 and not stream.stream.playing)
    assert "tomorrow morning" in recognized(stream.heard)
    stream.hang_up()
    call = _ended(api, call_id)
    assert call["ended_reason"] == "customer-ended" and "outcome" not in call
    assert [m["message"] for m in call["messages"]] == [GREETING]
