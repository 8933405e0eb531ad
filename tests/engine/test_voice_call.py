"""A voice web call end to end over a real socket: the person's speech (espeak-ng, in real
time) heard by the offline transcriber, the assistant's words spoken by the offline voice,
its audio paced, cut when spoken over, and the call recorded as it was heard."""

from __future__ import annotations

from typing import Any

import pytest

from fake_providers import Reply
from voice_support import heard_most_of, join_by_voice, noise_burst, sox_rms, spoken

# Of the sentences tried, one the recognizer gets back from espeak-ng's varying voice every time.
GREETING = "The doctor will call you back tomorrow afternoon."
LONG_GREETING = (
    "Hello, this is Northside Clinic calling about your appointment next week. "
    "We would like to confirm the time, the place, and what to bring with you. "
    "Please listen carefully, because there are several things to go through together today."
)


def _assistant(api: Any, fake: Any, **fields: Any) -> dict[str, Any]:
    system = {"role": "system", "content": "You book appointments."}
    return api.assistant_on(fake, "openai", model={"messages": [system]}, **fields)


def test_a_voice_call_heard_and_spoken_offline(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    assistant = _assistant(
        api,
        fake,
        first_message=GREETING,
    )
    created = api.start_call(assistant["id"])
    fake.reply_in_turn(Reply("Your appointment is tomorrow morning at nine."))
    with join_by_voice(created["web_call_url"]) as caller:
        assert caller.next()["call_id"] == created["id"]
        greeting = caller.until("assistant-message")[-1]
        assert greeting["text"] == GREETING
        # The greeting was heard: loud enough, and words a recognizer takes back.
        heard = caller.audio.pcm()
        assert all(len(frame) == 640 for _, frame in caller.audio.frames)
        assert sox_rms(heard) > 0.02
        assert heard_most_of(GREETING, heard)
        # Its last frame had arrived before the message closing the turn.
        assert caller.audio.frames[-1][0] <= greeting["_at"]

        caller.say(spoken("i would like to book an appointment for tomorrow morning"))
        frames = caller.until("assistant-message")
        said = [f for f in frames if f["type"] == "user-transcript" and f["final"]]
        assert len(said) == 1 and "appointment" in said[0]["text"]
        assert frames[-1]["text"] == "Your appointment is tomorrow morning at nine."
        caller.hang_up()
        assert caller.until("call-ended")[-1]["ended_reason"] == "customer-ended"

    asked = fake.received[0].json["messages"]
    assert asked[-1]["role"] == "user" and "appointment" in asked[-1]["content"]
    call = api.call(created["id"])
    roles = [m["role"] for m in call["messages"]]
    assert roles == ["assistant", "user", "assistant"]
    user = call["messages"][1]
    # Timed from the audio: about as long as the sentence that was spoken (3 s or so).
    assert 1500 <= user["duration"] <= 5000
    assert call["messages"][0]["endTime"] <= user["time"] <= call["messages"][2]["time"]


def test_speaking_over_the_assistant_cuts_its_turn(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    assistant = _assistant(api, fake, first_message=LONG_GREETING)
    created = api.start_call(assistant["id"])
    fake.reply_in_turn(Reply("Of course. What would you like to change?"))
    with join_by_voice(created["web_call_url"]) as caller:
        caller.until("call-started")
        while len(caller.audio.frames) < 100:  # two seconds of the greeting have arrived
            caller.audio_arrived(timeout=10)
        caller.say(spoken("i would like to change my appointment please"))
        frames = caller.until("assistant-message")
        kinds = [f["type"] for f in frames]
        assert "clear" in kinds
        # The person is stopped before they are understood: the clear comes at the onset.
        assert kinds.index("clear") < next(
            (i for i, f in enumerate(frames) if f["type"] == "user-transcript"), len(frames)
        )
        cut = frames[-1]["text"]
        assert cut and LONG_GREETING.startswith(cut) and len(cut) < len(LONG_GREETING) / 2
        assert LONG_GREETING[len(cut)] in " ,."  # cut at a word boundary
        answer = caller.until("assistant-message")[-1]
        assert answer["text"] == "Of course. What would you like to change?"
        caller.hang_up()
        caller.until("call-ended")

    # The model was told only what the person heard of the greeting.
    asked = fake.received[0].json["messages"]
    assert asked[1] == {"role": "assistant", "content": cut}
    stored = api.call(created["id"])["messages"]
    assert stored[0]["message"] == cut


def test_a_blip_does_not_interrupt(served: Any, tenant: Any, fake: Any) -> None:
    api = served(tenant)
    assistant = _assistant(api, fake, first_message=LONG_GREETING)
    created = api.start_call(assistant["id"])
    with join_by_voice(created["web_call_url"]) as caller:
        caller.until("call-started")
        while len(caller.audio.frames) < 50:
            caller.audio_arrived(timeout=10)
        caller.say(noise_burst(120))
        frames = caller.until("assistant-message", timeout=60)
        assert "clear" not in [f["type"] for f in frames]
        assert frames[-1]["text"] == LONG_GREETING
        caller.hang_up()
        caller.until("call-ended")


@pytest.mark.parametrize("audio", ["opus", "pcm8"])
def test_an_unknown_audio_format_is_refused(
    served: Any, tenant: Any, fake: Any, audio: str
) -> None:
    api = served(tenant)
    created = api.start_call(_assistant(api, fake)["id"])
    status, body = api.refusal(created["web_call_url"] + f"&audio={audio}")
    assert status == 400
    assert body["message"].startswith("audio:")
    # Refused before joining: the call can still be joined.
    with join_by_voice(created["web_call_url"]) as caller:
        assert caller.next()["type"] == "call-started"
        caller.hang_up()
