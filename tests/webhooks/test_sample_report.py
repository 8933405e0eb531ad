"""The test delivery's sample report is one a real web call of the same assistant could send:
the same fields, of the same types, with the analysis its plan asks for, and nothing of a
phone call or of an unfilled placeholder."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson
import pytest

from calls_support import CallsApi
from clarion.after_call.analysis import analyse
from clarion.calls.endings import EndedReason
from clarion.calls.models import ENDED, WEB_CALL, CallRecord, SaidMessage
from clarion.calls.representation import report_json
from clarion.providers.messages import ChatRequest, Completion, StreamEvent
from clarion.webhooks.sample import sample_report
from fake_providers import FakeProviders, Reply
from support import Api, Tenant
from webhook_receiver import Answer, Receiver

SCHEMA = {
    "type": "object",
    "properties": {
        "confirmed": {"type": "boolean"},
        "day": {"type": "string", "enum": ["Monday", "Tuesday", "Wednesday", "Thursday"]},
        "party_size": {"type": "integer", "minimum": 1},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["confirmed", "day"],
    "additionalProperties": False,
}
PLAN = {
    "summaryPrompt": "Summarise the call with {{patient}}.",
    "structuredDataPrompt": "Extract the appointment details.",
    "structuredDataSchema": SCHEMA,
    "successEvaluationPrompt": "Judge whether the appointment was confirmed.",
    "successEvaluationRubric": "PassFail",
}
PHONE_FIELDS = {"source_number", "destination_number"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")
RUBRIC_TYPES = {
    "PassFail": bool,
    "NumericScale": int | float,
    "PercentageScale": int | float,
    "DescriptiveScale": str,
    "LikertScale": str,
    "Checklist": str,
    "Matrix": str,
    "AutomaticRubric": str,
}
NOW = dt.datetime(2025, 3, 6, 14, 30, 12, 345678, tzinfo=dt.UTC)


def _answering_by_part(request: dict[str, Any]) -> Reply:
    """The model of a real call: the conversation's replies, then each part of the analysis,
    recognised by a word of its prompt."""
    system = request["messages"][0]["content"]
    if system.startswith("Summarise"):
        return Reply("Ada confirmed Thursday.")
    if system.startswith("Extract"):
        data = {"confirmed": True, "day": "Thursday", "party_size": 2, "notes": ["fasting"]}
        return Reply(orjson.dumps(data).decode())
    if system.startswith("Judge"):
        return Reply('{"result": true}')
    return Reply("See you on Thursday.")


def _real_and_sample(api: CallsApi, fake: FakeProviders, receiver: Receiver) -> tuple[Any, Any]:
    """The report of a real web call of an assistant, and its test delivery's report."""
    url = receiver.on("/reports", lambda _n: Answer())
    assistant = api.assistant_on(
        fake,
        first_message="Hello {{patient}}, this is Northside Clinic.",
        voicemail_message="Please call {{clinic}} back.",
        analysis_plan=PLAN,
        webhook_url=url,
    )
    fake.script = _answering_by_part
    created = api.start_call(
        assistant["id"], task_parameters={"patient": "Ada", "clinic": "Northside"}
    )
    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        call.say("Yes, Thursday works.")
        call.until("assistant-message")
        call.hang_up()
        call.until("call-ended")
    (real,) = receiver.wait_for("/reports", 1)

    response = api.http.post(f"/v1/assistant/{assistant['id']}/webhook/test")
    assert response.status_code == 202, response.text
    _, sample = receiver.wait_for("/reports", 2)
    return orjson.loads(real.body), sample.body


def test_the_sample_has_the_fields_and_types_of_a_real_web_call_report(
    served: Any, tenant: Tenant, fake: FakeProviders, receiver: Receiver
) -> None:
    real, body = _real_and_sample(served(tenant), fake, receiver)
    sample = orjson.loads(body)

    assert sample["id"] == 0 and real["id"] > 0
    assert set(sample) == set(real)
    assert {key: type(value) for key, value in sample.items()} == {
        key: type(value) for key, value in real.items()
    }
    for key in ("call_type", "call_status", "ended_reason", "assistant_id"):
        assert sample[key] == real[key], key
    assert sample["call_type"] == "webCall"
    assert TIMESTAMP.fullmatch(sample["started_at"]) and TIMESTAMP.fullmatch(sample["ended_at"])
    assert TIMESTAMP.fullmatch(real["started_at"])

    analysis, real_analysis = sample["analysis"], real["analysis"]
    assert set(analysis) == set(real_analysis) == {"structuredData", "successEvaluation"}
    assert analysis["successEvaluation"] is True
    assert set(analysis["structuredData"]) == set(real_analysis["structuredData"])
    assert {k: type(v) for k, v in analysis["structuredData"].items()} == {
        k: type(v) for k, v in real_analysis["structuredData"].items()
    }
    assert jsonschema_rs.validator_for(SCHEMA).is_valid(analysis["structuredData"])

    assert b"{{" not in body
    assert sample["transcript"].startswith("AI: Hello patient, this is Northside Clinic.\n")
    assert not PHONE_FIELDS & set(sample)
    assert "voicemail_message" not in sample


def _web_call_report() -> dict[str, Any]:
    """The report of an ended web call that has every field a web call's report can have."""
    call = CallRecord(
        id=7,
        organization_id=1,
        assistant_id=3,
        assistant_version=1,
        name="Reminder",
        call_type=WEB_CALL,
        call_status=ENDED,
        source_phone_number_id=None,
        source_number=None,
        destination_number=None,
        configuration={},
        webhook_url=None,
        webhook_secret_encrypted=None,
        token_digest=None,
        lease_owner=None,
        lease_expires_at=None,
        started_at=NOW - dt.timedelta(minutes=1),
        ended_at=NOW,
        ended_reason=EndedReason.CUSTOMER_ENDED.value,
        duration_ms=60_000,
        analysis={"structuredData": {}, "successEvaluation": True},
        summary="Summary.",
        outcome=None,
        failure_reason=None,
        after_call=None,
        after_call_claimed_until=None,
        created_at=NOW,
        updated_at=NOW,
    )
    said = [SaidMessage(7, 0, "user", "Hello.", 0, 1)]
    return report_json(call, said)


@pytest.mark.parametrize(
    "plan",
    [None, {}, PLAN, {"summaryPrompt": "Summarise."}, {"successEvaluationPrompt": "Judge."}],
    ids=["no-plan", "empty-plan", "full-plan", "summary-only", "evaluation-only"],
)
def test_the_sample_carries_only_fields_a_web_call_report_carries(plan: Any) -> None:
    values = {
        "first_message": "Hi {{ patient.first_name }}, about {{day}}.",
        "voicemail_message": "Please call {{clinic}} back.",
        "analysis_plan": plan,
    }
    sample = sample_report(3, values, NOW)
    body = orjson.dumps(sample, option=orjson.OPT_UTC_Z)

    assert set(sample) <= set(_web_call_report())
    assert not PHONE_FIELDS & set(sample)
    assert b"{{" not in body and "}}" not in sample["transcript"]
    assert sample["transcript"].splitlines()[0] == "AI: Hi patient first name, about day."
    assert sample["duration_ms"] == 134_000 and isinstance(sample["duration_ms"], int)
    assert sample["ended_at"] == NOW and sample["call_type"] == "webCall"
    assert orjson.loads(body)["ended_at"] == "2025-03-06T14:30:12.345678Z"


@pytest.mark.parametrize(
    ("plan", "summary", "analysis"),
    [
        (None, False, set()),
        ({}, False, set()),
        ({"summaryPrompt": "Summarise."}, True, set()),
        ({"summaryPrompt": "  "}, False, set()),
        ({"structuredDataSchema": SCHEMA}, False, set()),
        ({"structuredDataPrompt": "Extract."}, False, set()),
        ({"structuredDataPrompt": "Extract.", "structuredDataSchema": SCHEMA}, False, {"data"}),
        ({"successEvaluationRubric": "PassFail"}, False, set()),
        ({"successEvaluationPrompt": "Judge."}, False, {"evaluation"}),
        (PLAN, True, {"data", "evaluation"}),
    ],
)
def test_the_sample_has_only_the_analysis_the_plan_asks_for(
    plan: Any, summary: bool, analysis: set[str]
) -> None:
    sample = sample_report(3, {"first_message": None, "analysis_plan": plan}, NOW)

    assert ("summary" in sample) is summary
    names = {"structuredData": "data", "successEvaluation": "evaluation"}
    assert {names[part] for part in sample.get("analysis", {})} == analysis
    assert "analysis" in sample or not analysis  # never an empty analysis object


def test_without_a_first_message_the_patient_speaks_first(api: Api, receiver: Receiver) -> None:
    url = receiver.on("/hook", lambda _n: Answer())
    assistant = api.create_assistant(webhook_url=url)
    response = api.post(f"/v1/assistant/{assistant['id']}/webhook/test")
    assert response.status_code == 202, response.text
    (got,) = receiver.wait_for("/hook", 1)

    report = orjson.loads(got.body)
    assert report["transcript"].startswith("User: ")
    assert not {"analysis", "summary", "voicemail_message", "outcome"} & set(report)


@dataclass
class _SampleModel:
    """A model that answers each part of an analysis with what a sample report shows for it,
    so the real analysis judges the sample's values."""

    report: Mapping[str, Any]
    name: str = "sample"

    async def complete(self, request: ChatRequest) -> Completion:
        system = request.messages[0].content
        if request.json_schema is None:
            text = self.report["summary"]
        elif system.startswith("Judge"):
            text = orjson.dumps({"result": self.report["analysis"]["successEvaluation"]}).decode()
        else:
            text = orjson.dumps(self.report["analysis"]["structuredData"]).decode()
        return Completion(text, (), "stop")

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        raise AssertionError("the analysis does not stream")


@pytest.mark.parametrize("rubric", [*RUBRIC_TYPES, None])
def test_the_real_analysis_takes_the_samples_values_for_every_rubric(rubric: str | None) -> None:
    plan: dict[str, Any] = {**PLAN, "summaryPrompt": "Summarise."}
    if rubric is None:
        del plan["successEvaluationRubric"]
    else:
        plan["successEvaluationRubric"] = rubric
    sample = sample_report(3, {"first_message": "Hello.", "analysis_plan": plan}, NOW)
    evaluation = sample["analysis"]["successEvaluation"]

    found = asyncio.run(
        analyse(_SampleModel(sample), "model-x", plan, sample["transcript"], lambda text: text)
    )

    assert found.errors == ()
    assert found.summary == sample["summary"]
    assert found.structured_data == sample["analysis"]["structuredData"]
    assert found.success_evaluation == evaluation
    assert isinstance(evaluation, RUBRIC_TYPES[rubric or "AutomaticRubric"])
    if rubric == "PassFail":
        assert isinstance(evaluation, bool)
    else:
        assert not isinstance(evaluation, bool)
