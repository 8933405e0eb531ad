"""The sample end-of-call report a test delivery sends: a web call of the assistant, told as
its real report would tell it.

The report is made by the real report's own code (clarion.calls.representation.report_json)
from a sample call record, so it has the real report's fields, types and formats: a web call's
(no phone numbers, no voicemail), with only the analysis the assistant's plan would produce,
shaped as the analysis shapes it (clarion.after_call.analysis). A receiver that handles it
handles the assistant's real reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from clarion.assistants.placeholders import PLACEHOLDER
from clarion.calls.endings import EndedReason
from clarion.calls.models import ENDED, WEB_CALL, CallRecord, SaidMessage
from clarion.calls.representation import report_json
from clarion.webhooks.schema_example import example_of

SAMPLE_CALL_ID = 0  # no real call has id 0: receivers can tell a test report apart
DURATION = dt.timedelta(minutes=2, seconds=14)

PATIENT_SAYS = "Yes, I can make it on Thursday."
ASSISTANT_REPLIES = "Thank you, we will see you then."
SUMMARY = "The patient confirmed Thursday's appointment."

# One answer in each rubric, of the JSON type the analysis asks the model for: a boolean for
# PassFail, a number within the scale for NumericScale and PercentageScale, words otherwise.
RUBRIC_ANSWERS: dict[str, bool | int | str] = {
    "PassFail": True,
    "NumericScale": 8,
    "PercentageScale": 90,
    "DescriptiveScale": "Good",
    "LikertScale": "Agree",
    "Checklist": "Appointment confirmed: met. Date and time repeated: met.",
    "Matrix": "Clarity: good. Courtesy: excellent. Outcome: good.",
}
# A rubric the analysis does not know (AutomaticRubric, or none) is answered in words.
AUTOMATIC_ANSWER = "The patient confirmed the appointment: the call met its goal."


def sample_report(assistant_id: int, values: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The end-of-call report of a sample web call of the assistant whose configuration is
    ``values``, under the sample call id, ending ``now``."""
    started = now - DURATION
    plan = values.get("analysis_plan") or {}
    call = CallRecord(
        id=SAMPLE_CALL_ID,
        organization_id=0,
        assistant_id=assistant_id,
        assistant_version=0,
        name=None,
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
        started_at=started,
        ended_at=now,
        ended_reason=EndedReason.CUSTOMER_ENDED.value,
        duration_ms=round(DURATION.total_seconds() * 1000),
        analysis=sample_analysis(plan),
        summary=SUMMARY if _configured(plan, "summaryPrompt") else None,
        outcome=None,
        failure_reason=None,
        after_call=None,
        after_call_claimed_until=None,
        created_at=started,
        updated_at=now,
    )
    return report_json(call, _conversation(values.get("first_message"), started))


def sample_analysis(plan: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the analysis would keep for a call under ``plan`` had each part it asks for
    succeeded: only the parts whose prompt is set, as clarion.after_call.analysis asks."""
    analysis: dict[str, Any] = {}
    schema = plan.get("structuredDataSchema")
    if _configured(plan, "structuredDataPrompt") and isinstance(schema, Mapping):
        analysis["structuredData"] = example_of(schema)
    if _configured(plan, "successEvaluationPrompt"):
        rubric = plan.get("successEvaluationRubric")
        analysis["successEvaluation"] = RUBRIC_ANSWERS.get(str(rubric), AUTOMATIC_ANSWER)
    return analysis or None


def _configured(plan: Mapping[str, Any], key: str) -> bool:
    # As the analysis decides: an empty or blank prompt asks for nothing.
    prompt = plan.get(key)
    return isinstance(prompt, str) and bool(prompt.strip())


def _conversation(first_message: str | None, started: dt.datetime) -> list[SaidMessage]:
    """What is said in the sample call: the first message, when the assistant has one (else
    the patient speaks first, as in a real web call), the patient's answer and a reply."""
    said = []
    if first_message:
        said.append(("assistant", without_placeholders(first_message)))
    said += [("user", PATIENT_SAYS), ("assistant", ASSISTANT_REPLIES)]
    began = int(started.timestamp() * 1000)
    return [
        SaidMessage(SAMPLE_CALL_ID, position, role, text, at, at + 4_000)
        for position, (role, text) in enumerate(said)
        for at in [began + position * 5_000]
    ]


def without_placeholders(text: str) -> str:
    """``text`` as a call would say it: each ``{{name}}`` replaced by its name in words
    (``{{patient.first_name}}`` is said "patient first name"), since a real call fills every
    placeholder from its task parameters and the sample call has none."""
    return PLACEHOLDER.sub(lambda match: _in_words(match.group(1)), text)


def _in_words(name: str) -> str:
    return " ".join(name.replace(".", " ").replace("_", " ").replace("-", " ").split())
