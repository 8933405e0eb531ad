"""Post-call analysis through the real adapters, over real HTTP, against the fake providers."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import orjson
import pytest

from calls_support import schema_checks_running
from clarion.after_call.analysis import Analysis, analyse
from clarion.providers import AnthropicProvider, OpenAIProvider
from fake_providers import Call, Failure, FakeProviders, Reply, running_fake_providers

KEY = "sk-test-4b8e1f2a9c6d"
TRANSCRIPT = (
    "AI: Hello, this is Northside Clinic.\n"
    "User: It's Maria Okafor, my chest has hurt since Tuesday. Please call me back."
)
SUMMARY_PROMPT = "Summarise the call with {{customer.name}} in two sentences."
DATA_PROMPT = "Extract the callback details."
EVALUATION_PROMPT = "Judge whether the caller got a callback."
SCHEMA = {
    "type": "object",
    "properties": {"patient_name": {"type": "string"}, "callback": {"type": "boolean"}},
    "required": ["patient_name", "callback"],
}
DATA = {"patient_name": "Maria Okafor", "callback": True}


def fill(prompt: str) -> str:
    return prompt.replace("{{customer.name}}", "Maria")


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with running_fake_providers() as running:
        yield running


@pytest.fixture(params=["openai", "anthropic"])
def kind(request: pytest.FixtureRequest) -> str:
    provider: str = request.param
    return provider


def analysed(fake: FakeProviders, kind: str, plan: dict[str, Any], **options: Any) -> Analysis:
    """``analyse`` on a fresh session, as the engine would run it after a call."""

    async def main() -> Analysis:
        async with aiohttp.ClientSession() as session:
            if kind == "openai":
                provider: Any = OpenAIProvider(session, KEY, base_url=fake.openai_url)
            else:
                provider = AnthropicProvider(session, KEY, base_url=fake.anthropic_url)
            return await analyse(
                provider, "model-x", plan, TRANSCRIPT, options.pop("fill", fill), **options
            )

    return asyncio.run(main())


def structured(kind: str, value: dict[str, Any]) -> Reply:
    """A structured answer as each provider gives it: OpenAI's text, Anthropic's forced tool."""
    if kind == "openai":
        return Reply(orjson.dumps(value).decode())
    return Reply(tool_calls=[Call("structured_output", value)])


def not_json(kind: str) -> Reply:
    """An answer that is not JSON: broken text, or for Anthropic text instead of the tool."""
    return Reply("Sure! {patient_name: Maria Okafor" if kind == "openai" else "Sure, Maria Okafor.")


def by_part(fake: FakeProviders, **replies: list[Reply | Failure]) -> None:
    """Answer each part from its own queue (they run concurrently, so in no fixed order),
    recognised by a word of its prompt: ``Summarise``, ``Extract`` or ``Judge``."""

    def script(body: dict[str, Any]) -> Reply | Failure:
        system = system_of(body)
        return next(queue for word, queue in replies.items() if word in system).pop(0)

    fake.script = script


def system_of(body: dict[str, Any]) -> str:
    if "system" in body:
        system: str = body["system"]
        return system
    return "\n\n".join(m["content"] for m in body["messages"] if m["role"] == "system")


def user_texts(body: dict[str, Any]) -> list[str]:
    texts = []
    for message in body["messages"]:
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            texts.append(content)
        else:
            texts += [block["text"] for block in content if block["type"] == "text"]
    return texts


def sent_schema(body: dict[str, Any]) -> Any:
    """The structured output a request asked for, in either provider's shape."""
    if "response_format" in body:
        assert body["response_format"]["type"] == "json_schema"
        return body["response_format"]["json_schema"]["schema"]
    if "tools" in body:
        assert body["tool_choice"] == {"type": "tool", "name": "structured_output"}
        (tool,) = [tool for tool in body["tools"] if tool["name"] == "structured_output"]
        return tool["input_schema"]
    return None


@pytest.mark.parametrize(
    "plan",
    [
        {},
        {"structuredDataSchema": SCHEMA},
        {"structuredDataPrompt": DATA_PROMPT},
        {"successEvaluationRubric": "PassFail"},
        {"summaryPrompt": ""},
    ],
    ids=["empty", "schema-only", "data-prompt-only", "rubric-only", "empty-prompt"],
)
def test_a_plan_that_asks_for_nothing_sends_nothing(
    fake: FakeProviders, kind: str, plan: dict[str, Any]
) -> None:
    assert analysed(fake, kind, plan) == Analysis()
    assert fake.received == []


def test_a_summary_alone_is_one_request_of_the_filled_prompt_and_the_transcript(
    fake: FakeProviders, kind: str
) -> None:
    fake.script = lambda _request: Reply("Maria asked for a callback about chest pain.")

    analysis = analysed(fake, kind, {"summaryPrompt": SUMMARY_PROMPT}, temperature=0.2)

    assert analysis == Analysis(summary="Maria asked for a callback about chest pain.")
    (request,) = fake.received
    assert system_of(request.json) == "Summarise the call with Maria in two sentences."
    assert user_texts(request.json) == [TRANSCRIPT]
    assert request.json["temperature"] == 0.2
    assert request.json["model"] == "model-x"
    assert sent_schema(request.json) is None
    assert "stream" not in request.json


def test_a_summary_is_kept_without_nul(fake: FakeProviders, kind: str) -> None:
    fake.script = lambda _request: Reply("Maria asked\x00 for a callback.")

    analysis = analysed(fake, kind, {"summaryPrompt": SUMMARY_PROMPT})

    assert analysis.summary == "Maria asked for a callback."


def test_structured_data_is_asked_for_with_the_schema_and_kept(
    fake: FakeProviders, kind: str
) -> None:
    fake.script = lambda _request: structured(kind, DATA)

    plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": SCHEMA}
    analysis = analysed(fake, kind, plan)

    assert analysis == Analysis(structured_data=DATA)
    (request,) = fake.received
    assert sent_schema(request.json) == SCHEMA
    assert system_of(request.json) == DATA_PROMPT
    assert user_texts(request.json) == [TRANSCRIPT]


def test_a_schema_that_is_not_an_object_is_asked_for_as_a_result_field(
    fake: FakeProviders, kind: str
) -> None:
    symptoms = {"type": "array", "items": {"$ref": "#/$defs/symptom"}}
    schema = {"$defs": {"symptom": {"type": "string"}}, **symptoms}
    fake.script = lambda _request: structured(kind, {"result": ["chest pain"]})

    plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": schema}
    analysis = analysed(fake, kind, plan)

    assert analysis.structured_data == ["chest pain"]
    assert sent_schema(fake.last.json) == {
        "$defs": {"symptom": {"type": "string"}},
        "type": "object",
        "properties": {"result": symptoms},
        "required": ["result"],
        "additionalProperties": False,
    }


def test_an_answer_that_is_not_json_is_asked_for_again(fake: FakeProviders, kind: str) -> None:
    fake.reply_in_turn(not_json(kind), structured(kind, DATA))

    plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": SCHEMA}
    analysis = analysed(fake, kind, plan)

    assert analysis == Analysis(structured_data=DATA)
    first, second = fake.received
    assert sent_schema(first.json) == sent_schema(second.json) == SCHEMA
    assert system_of(second.json) == DATA_PROMPT
    texts = user_texts(second.json)
    assert texts[0] == TRANSCRIPT
    assert "not valid JSON" in texts[-1]


def test_two_answers_that_miss_the_schema_leave_a_reason_without_the_answer(
    fake: FakeProviders, kind: str
) -> None:
    wrong = {"patient_name": "Maria Okafor", "callback": "yes, after five please"}
    fake.script = lambda _request: structured(kind, wrong)

    plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": SCHEMA}
    analysis = analysed(fake, kind, plan)

    assert len(fake.received) == 2
    assert analysis.structured_data is None
    reason = analysis.structured_data_error
    assert reason is not None
    assert "properties/callback/type" in reason
    assert "Maria" not in reason
    assert "five" not in reason
    assert analysis.errors == (f"structured data: {reason}",)


def test_a_schema_referring_outside_itself_fetches_nothing(fake: FakeProviders, kind: str) -> None:
    fetched: list[str] = []

    class Schemas(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"type": "string"}')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Schemas)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        remote = f"http://127.0.0.1:{server.server_address[1]}/name.json"
        schema = {
            "type": "object",
            "properties": {"patient_name": {"$ref": remote}, "day": {"$ref": "#/$defs/day"}},
            "$defs": {"day": {"type": "string"}},
        }
        fake.script = lambda _request: structured(kind, {"patient_name": "Maria", "day": "Tue"})
        plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": schema}

        analysis = analysed(fake, kind, plan)
    finally:
        server.shutdown()
        server.server_close()

    assert fetched == []
    assert analysis.structured_data is None
    assert analysis.structured_data_error is not None
    assert "the schema cannot be used" in analysis.structured_data_error
    assert "never fetched" in analysis.structured_data_error
    assert fake.received == []  # known before asking: no request is paid for


def test_a_pattern_is_checked_in_time_linear_in_the_answer(fake: FakeProviders, kind: str) -> None:
    # A backtracking engine takes minutes on this pattern and answer; the event loop, and every
    # call on it, would wait for it.
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^(a|aa)+$"}},
        "required": ["code"],
    }
    fake.script = lambda _request: structured(kind, {"code": "a" * 60 + "b"})
    plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": schema}

    analysis = analysed(fake, kind, plan)

    assert analysis.structured_data is None
    assert analysis.structured_data_error is not None
    assert "properties/code/pattern" in analysis.structured_data_error
    assert len(fake.received) == 2


@pytest.mark.parametrize(
    ("rubric", "answer_schema", "answer"),
    [
        ("PassFail", {"type": "boolean"}, True),
        ("NumericScale", {"type": "number", "minimum": 1, "maximum": 10}, 8),
        ("DescriptiveScale", {"type": "string"}, "Good"),
    ],
)
def test_success_evaluation_answers_in_the_rubrics_type(
    fake: FakeProviders, kind: str, rubric: str, answer_schema: dict[str, Any], answer: Any
) -> None:
    fake.script = lambda _request: structured(kind, {"result": answer})

    plan = {"successEvaluationPrompt": EVALUATION_PROMPT, "successEvaluationRubric": rubric}
    analysis = analysed(fake, kind, plan)

    assert analysis == Analysis(success_evaluation=answer)
    assert type(analysis.success_evaluation) is type(answer)
    (request,) = fake.received
    assert sent_schema(request.json) == {
        "type": "object",
        "properties": {"result": answer_schema},
        "required": ["result"],
        "additionalProperties": False,
    }
    system = system_of(request.json)
    assert system.startswith(EVALUATION_PROMPT)
    assert len(system) > len(EVALUATION_PROMPT)  # the rubric, said after the prompt


def test_an_evaluation_prompt_without_a_rubric_is_answered_in_words(
    fake: FakeProviders, kind: str
) -> None:
    fake.script = lambda _request: structured(kind, {"result": "The caller was promised a call."})

    analysis = analysed(fake, kind, {"successEvaluationPrompt": EVALUATION_PROMPT})

    assert analysis.success_evaluation == "The caller was promised a call."
    assert sent_schema(fake.last.json)["properties"] == {"result": {"type": "string"}}


def test_a_score_off_the_scale_twice_is_no_evaluation(fake: FakeProviders, kind: str) -> None:
    fake.script = lambda _request: structured(kind, {"result": 11})

    plan = {"successEvaluationPrompt": EVALUATION_PROMPT, "successEvaluationRubric": "NumericScale"}
    analysis = analysed(fake, kind, plan)

    assert analysis.success_evaluation is None
    assert len(fake.received) == 2
    (error,) = analysis.errors
    assert error.startswith("success evaluation: ")
    assert "maximum" in error
    assert "11" not in error


def test_a_provider_failure_is_retried_once(fake: FakeProviders, kind: str) -> None:
    fake.reply_in_turn(Failure(500), Reply("Maria asked for a callback."))

    analysis = analysed(fake, kind, {"summaryPrompt": SUMMARY_PROMPT})

    assert analysis == Analysis(summary="Maria asked for a callback.")
    assert len(fake.received) == 2


def test_a_second_provider_failure_leaves_the_part_empty_with_an_error(
    fake: FakeProviders, kind: str
) -> None:
    # A provider's own words may quote the request: they are not kept.
    quoting = Failure(500, "Could not process: Maria asked for a callback.")
    fake.reply_in_turn(quoting, quoting)

    analysis = analysed(fake, kind, {"summaryPrompt": SUMMARY_PROMPT})

    assert analysis.summary is None
    (error,) = analysis.errors
    assert error.startswith(f"summary: {kind}: answered 500")
    assert "Maria" not in error and "process" not in error
    assert KEY not in error


def test_a_failure_a_retry_cannot_mend_is_not_retried(fake: FakeProviders, kind: str) -> None:
    fake.script = lambda _request: Failure(400, "Bad request.")

    analysis = analysed(fake, kind, {"summaryPrompt": SUMMARY_PROMPT})

    assert analysis.summary is None
    assert len(fake.received) == 1
    assert analysis.errors[0].startswith(f"summary: {kind}: answered 400")


def test_a_failing_summary_does_not_lose_the_other_parts(fake: FakeProviders, kind: str) -> None:
    by_part(
        fake,
        Summarise=[Failure(500), Failure(503)],
        Extract=[structured(kind, DATA)],
        Judge=[structured(kind, {"result": True})],
    )
    plan = {
        "summaryPrompt": SUMMARY_PROMPT,
        "structuredDataPrompt": DATA_PROMPT,
        "structuredDataSchema": SCHEMA,
        "successEvaluationPrompt": EVALUATION_PROMPT,
        "successEvaluationRubric": "PassFail",
    }

    analysis = analysed(fake, kind, plan)

    assert analysis.summary is None
    assert analysis.structured_data == DATA
    assert analysis.structured_data_error is None
    assert analysis.success_evaluation is True
    (error,) = analysis.errors
    assert error.startswith(f"summary: {kind}: answered 503")
    assert len(fake.received) == 4


def test_an_unexpected_failure_is_logged_without_the_call_and_loses_only_its_part(
    fake: FakeProviders, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    def strict_fill(prompt: str) -> str:
        if "{{customer.name}}" in prompt:
            raise KeyError(f"no value for {prompt}")
        return prompt

    by_part(fake, Extract=[structured(kind, DATA)])
    plan = {
        "summaryPrompt": SUMMARY_PROMPT,
        "structuredDataPrompt": DATA_PROMPT,
        "structuredDataSchema": SCHEMA,
    }

    with caplog.at_level(logging.WARNING, logger="clarion.calls"):
        analysis = analysed(fake, kind, plan, fill=strict_fill)

    assert analysis == Analysis(structured_data=DATA, errors=("summary: failed unexpectedly",))
    assert len(fake.received) == 1
    assert "KeyError" in caplog.text
    assert "Maria" not in caplog.text
    assert "Summarise" not in caplog.text


def test_a_schema_the_linear_engine_cannot_run_costs_no_request(
    fake: FakeProviders, kind: str
) -> None:
    # What froze every call of a server: 300 patterns with lookaround and backreferences
    # (saved before patterns were checked, or by another server): never matched against.
    pattern = "^(?=.*[a-z])(?!.*(.)\\1{3})[a-z0-9]+$"
    schema = {
        "type": "object",
        "properties": {f"field{n}": {"type": "string", "pattern": pattern} for n in range(300)},
    }
    fake.script = lambda _request: structured(kind, {"field0": "abc"})
    plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": schema}

    analysis = analysed(fake, kind, plan)

    assert analysis.structured_data is None
    assert analysis.structured_data_error is not None
    assert analysis.structured_data_error.startswith("the schema cannot be used")
    assert "linear time" in analysis.structured_data_error
    assert fake.received == []


def test_a_check_that_takes_too_long_is_stopped_and_said(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("clarion.after_call.schema_check.CHECK_SECONDS", 0.3)
    # Linear, but building a thousand of these takes seconds: far past the limit, however
    # fast the machine is at the moment.
    patterns = {
        f"p{n}": {"type": "string", "pattern": f"[\\w\\W]{{1000}}$|{n}"} for n in range(1000)
    }
    schema = {"type": "object", "properties": patterns}
    fake.script = lambda _request: structured("openai", {"p0": "x"})
    plan = {"structuredDataPrompt": DATA_PROMPT, "structuredDataSchema": schema}

    analysis = analysed(fake, "openai", plan)

    assert analysis.structured_data_error == (
        "the schema cannot be used: checking against it took longer than 0.3 s"
    )
    assert fake.received == []
    assert schema_checks_running() == set()  # killed, not left to run
