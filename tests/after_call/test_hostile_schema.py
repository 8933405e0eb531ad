"""An organization's structured-data schema that costs seconds of CPU to check is checked in
a process of its own: the other live calls of the server keep answering while it runs."""

from __future__ import annotations

from typing import Any

import orjson

from calls_support import schema_checks_running
from fake_providers import Reply
from support import Tenant
from webhook_receiver import eventually

# Linear patterns, each distinct (identical ones are built once): building a thousand of these
# takes seconds of CPU, which on the event loop would hold every call of the process.
HEAVY_SCHEMA = {
    "type": "object",
    "properties": {
        f"p{n}": {"type": "string", "pattern": f"[\\w\\W]{{300}}$|{n}"} for n in range(1200)
    },
}
FIRST = "Hello, this is Northside Clinic."


def _answer(request: dict[str, Any]) -> Reply:
    if "response_format" in request:  # the analysis asks for structured data
        return Reply(orjson.dumps({"p0": "x" * 300}).decode())
    return Reply("Thursday at 9.")


def test_other_calls_keep_answering_while_a_costly_schema_is_checked(
    served: Any, tenant: Tenant, fake: Any
) -> None:
    api = served(tenant)
    fake.script = _answer
    plan = {"structuredDataPrompt": "Extract the code.", "structuredDataSchema": HEAVY_SCHEMA}
    analysed = api.call_on(fake, first_message=FIRST, analysis_plan=plan)
    with api.join(analysed["web_call_url"]) as call:
        call.until("assistant-message")
        call.say("My code is on the letter.")
        call.until("assistant-message")
        call.hang_up()

    eventually(lambda: bool(schema_checks_running()), "the schema being checked", 20)
    checking = schema_checks_running()
    live = api.call_on(fake, first_message=FIRST)
    with api.join(live["web_call_url"]) as call:
        call.until("assistant-message")
        for turn in range(5):
            call.say(f"Question {turn}?")
            assert call.until("assistant-message")[-1]["text"] == "Thursday at 9."
        # Every turn was answered while the check was still running beside the loop.
        assert checking & schema_checks_running()
        call.hang_up()

    ended = api.wait_for_call(analysed["id"], "its analysis", lambda c: "analysis" in c, seconds=60)
    assert ended["analysis"]["structuredData"] == {"p0": "x" * 300}
