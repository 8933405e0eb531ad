"""The README's web call client, run as a newcomer runs it: input from a pipe, the whole call
held, the goodbye printed, and a clean exit when the call ends."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fake_providers import Call, Failure, Reply

README = Path(__file__).parents[2] / "README.md"
FIRST = "Hello, this is Northside Clinic."


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's client, as a file of its own."""
    text = README.read_text()
    lead = text.index("Join with a few lines of Python")
    block = re.search(r"```python\n(.*?)```", text[lead:], re.S)
    assert block is not None
    path = tmp_path_factory.mktemp("readme") / "client.py"
    path.write_text(block.group(1))
    return path


def _run(client: Path, web_call_url: str, said: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(client), web_call_url],
        input=said,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_call_from_a_pipe_is_held_to_its_end(
    served: Any, tenant: Any, fake: Any, client: Path
) -> None:
    api = served(tenant)
    created = api.call_on(fake, first_message=FIRST)
    fake.reply_in_turn(Reply("Thursday at 9."), Reply("You are welcome."))

    done = _run(client, created["web_call_url"], "When is my appointment?\n\nThank you.\n")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"AI: {FIRST}",
        "AI: Thursday at 9.",
        "AI: You are welcome.",
        "ended: customer-ended",
    ]
    said = [m["message"] for m in api.call(created["id"])["messages"] if m["role"] == "user"]
    assert said == ["When is my appointment?", "Thank you."]


def test_the_assistants_goodbye_is_printed_and_the_client_leaves_with_input_unread(
    served: Any, tenant: Any, fake: Any, client: Path
) -> None:
    api = served(tenant)
    created = api.call_on(fake, first_message=FIRST)
    fake.reply_in_turn(Reply("Goodbye!", tool_calls=[Call("end_call")]))

    done = _run(client, created["web_call_url"], "That is all.\nStill here?\n")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"AI: {FIRST}", "AI: Goodbye!", "ended: assistant-ended"]
    assert "Traceback" not in done.stderr


def test_a_failed_call_prints_what_failed(
    served: Any, tenant: Any, fake: Any, client: Path
) -> None:
    api = served(tenant)
    created = api.call_on(fake, first_message=FIRST)
    fake.reply_in_turn(Failure(401))

    done = _run(client, created["web_call_url"], "When is my appointment?\n")

    assert done.returncode == 0, done.stderr
    *_greeting, ended, failed = done.stdout.splitlines()
    assert ended == "ended: pipeline-error-llm"
    assert failed.startswith("what failed: openai: answered 401")
