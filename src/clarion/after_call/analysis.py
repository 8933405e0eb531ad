"""Post-call analysis: the summary, structured data and success evaluation that an assistant's
``analysis_plan`` asks for, each from one request to the assistant's own model.

Only what the plan configures is asked for: every request costs money and carries what the
patient said. The parts run concurrently and fail on their own, so a failed summary does not
lose the structured data. A provider failure that may pass is retried once at once; a JSON
answer that cannot be used is asked for once more, with the reason. What the model said never
reaches a log, an error or an exception: a reason names a schema path, never a value.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from clarion.after_call.schema_check import Mismatch, SchemaUnusable
from clarion.after_call.schema_check import check as check_in_child
from clarion.api.access_log import exception_without_messages
from clarion.providers.errors import ProviderError
from clarion.providers.messages import ChatRequest, Message
from clarion.providers.provider import Provider

log = logging.getLogger("clarion.calls")

SUMMARY = "summary"
STRUCTURED_DATA = "structured data"
SUCCESS_EVALUATION = "success evaluation"

# What each rubric asks of the model: the JSON type of its answer and one sentence saying so.
# A rubric not listed here is answered in words, as AutomaticRubric is.
_RUBRICS: dict[str, tuple[dict[str, Any], str]] = {
    "PassFail": (
        {"type": "boolean"},
        "Answer true if the call met these criteria and false if it did not.",
    ),
    "NumericScale": (
        {"type": "number", "minimum": 1, "maximum": 10},
        "Answer with a score from 1 (worst) to 10 (best).",
    ),
    "PercentageScale": (
        {"type": "number", "minimum": 0, "maximum": 100},
        "Answer with a percentage from 0 to 100.",
    ),
    "DescriptiveScale": (
        {"type": "string"},
        "Answer with one of Excellent, Good, Fair, Poor or Bad.",
    ),
    "LikertScale": (
        {"type": "string"},
        "Answer with one of Strongly Agree, Agree, Neutral, Disagree or Strongly Disagree.",
    ),
    "Checklist": (
        {"type": "string"},
        "Answer with a checklist of the criteria, each marked met or not met.",
    ),
    "Matrix": (
        {"type": "string"},
        "Answer with a grid rating each criterion across the levels of performance.",
    ),
}
_AUTOMATIC_RUBRIC = (
    {"type": "string"},
    "Answer by breaking the evaluation into criteria and scoring each one in words.",
)
# Kept at the wrapper's root when a schema is wrapped, so its own "$ref"s still resolve.
_ROOT_KEYWORDS = ("$schema", "$defs", "definitions")


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the analysis found; a field is None when the plan did not ask for it or it failed."""

    summary: str | None = None
    structured_data: Any = None
    structured_data_error: str | None = None
    success_evaluation: bool | float | str | None = None
    errors: tuple[str, ...] = ()


async def analyse(
    provider: Provider,
    model: str,
    plan: Mapping[str, Any],
    transcript: str,
    fill: Callable[[str], str],
    *,
    temperature: float | None = None,
) -> Analysis:
    """Run the parts of ``plan`` that are configured, concurrently, on ``transcript``.

    Each prompt, after ``fill`` replaces its variables, is the system message of its request;
    the transcript is the user message. A part that fails is None, with a line in ``errors``.
    """
    ask = _Asker(provider, model, transcript, temperature)
    parts: dict[str, Coroutine[Any, Any, Any]] = {}
    if _configured(plan, "summaryPrompt"):
        parts[SUMMARY] = ask.text(plan["summaryPrompt"], fill)
    if _configured(plan, "structuredDataPrompt") and isinstance(
        plan.get("structuredDataSchema"), Mapping
    ):
        schema = plan["structuredDataSchema"]
        parts[STRUCTURED_DATA] = ask.json(plan["structuredDataPrompt"], fill, schema)
    if _configured(plan, "successEvaluationPrompt"):
        rubric = plan.get("successEvaluationRubric")
        answer_schema, sentence = _RUBRICS.get(str(rubric), _AUTOMATIC_RUBRIC)
        parts[SUCCESS_EVALUATION] = ask.json(
            plan["successEvaluationPrompt"], fill, answer_schema, wrap=True, rubric=sentence
        )

    outcomes = await asyncio.gather(*(_outcome(part, asking) for part, asking in parts.items()))
    found = {part: value for part, (value, _error) in zip(parts, outcomes, strict=True)}
    errors = {part: error for part, (_value, error) in zip(parts, outcomes, strict=True) if error}
    return Analysis(
        summary=found.get(SUMMARY),
        structured_data=found.get(STRUCTURED_DATA),
        structured_data_error=errors.get(STRUCTURED_DATA),
        success_evaluation=found.get(SUCCESS_EVALUATION),
        errors=tuple(f"{part}: {error}" for part, error in errors.items()),
    )


def _configured(plan: Mapping[str, Any], key: str) -> bool:
    # An empty prompt asks for nothing, and a request without one would still cost money.
    prompt = plan.get(key)
    return isinstance(prompt, str) and bool(prompt.strip())


class _Unusable(Exception):
    """The model answered, but not with something the part can use. The message is safe to
    keep (it names a schema path, never a value); ``detail`` is told to the model only."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.detail = detail


async def _outcome(part: str, asking: Awaitable[Any]) -> tuple[Any, str | None]:
    """The part's value, or None and why it has none."""
    try:
        return await asking, None
    except ProviderError as error:
        return None, error.outline  # safe: no key, nothing the patient or the model said
    except _Unusable as error:
        return None, str(error)  # safe: it names a schema path, never a value
    except Exception as error:
        # Neither the message nor the locals: either may hold what the patient or model said.
        # Written into the line itself, so no handler of whoever serves the app can add them.
        where = exception_without_messages((type(error), error, error.__traceback__))
        log.warning("post-call %s failed\n%s", part, where)
        return None, "failed unexpectedly"


@dataclass(frozen=True, slots=True)
class _Asker:
    """The requests of one analysis: the same model, transcript and temperature for each."""

    provider: Provider
    model: str
    transcript: str
    temperature: float | None

    async def text(self, prompt: str, fill: Callable[[str], str]) -> str:
        """The model's answer, in words, to ``prompt`` with its variables filled in."""
        messages = [Message.system(fill(prompt)), Message.user(self.transcript)]
        # No NUL: PostgreSQL's text columns refuse it, and the report would never be queued.
        answer = (await self._complete(messages)).replace("\x00", "").strip()
        if not answer:
            raise _Unusable("the model's answer was empty")
        return answer

    async def json(
        self,
        prompt: str,
        fill: Callable[[str], str],
        schema: Mapping[str, Any],
        *,
        wrap: bool = False,
        rubric: str = "",
    ) -> Any:
        """The model's answer to ``prompt`` (and the ``rubric`` sentence after it) as a JSON
        value matching ``schema``, asked for once more, saying what was wrong, when the first
        answer does not match.

        Structured output wants an object at the root (Anthropic's tool input must be one),
        so any other schema, or one that ``wrap`` says to wrap, is asked for as ``result``.
        A rubric's schema (``rubric`` given) is ours and checked here; the organization's
        is checked in a process of its own (clarion.after_call.schema_check), and first without
        a value, so a schema that cannot be used costs no request."""
        system = f"{fill(prompt)}\n\n{rubric}" if rubric else fill(prompt)
        wrapped = wrap or schema.get("type") != "object"
        mismatch = _ours(schema) if rubric else await _theirs(schema)
        messages = [Message.system(system), Message.user(self.transcript)]
        for _attempt in range(2):
            answer = await self._complete(messages, _wrapper(schema) if wrapped else schema)
            try:
                value = _decoded(answer, wrapped)
                missed = await mismatch(value)
                if missed is None:
                    return value
                raise _Unusable(f"did not match the schema at {missed.where}", missed.detail)
            except _Unusable as unusable:
                reason, detail = str(unusable), unusable.detail
            if answer:
                messages.append(Message.assistant(answer))
            messages.append(Message.user(_correction(detail)))
        raise _Unusable(f"the model's answer was unusable twice; the last {reason}")

    async def _complete(
        self, messages: list[Message], schema: Mapping[str, Any] | None = None
    ) -> str:
        request = ChatRequest(
            self.model, list(messages), temperature=self.temperature, json_schema=schema
        )
        try:
            completion = await self.provider.complete(request)
        except ProviderError as error:
            if not error.retryable:
                raise  # the same request would fail the same way, and cost as much
            completion = await self.provider.complete(request)
        return completion.text


def _wrapper(schema: Mapping[str, Any]) -> dict[str, Any]:
    inner = {key: value for key, value in schema.items() if key not in _ROOT_KEYWORDS}
    root = {key: schema[key] for key in _ROOT_KEYWORDS if key in schema}
    return {
        **root,
        "type": "object",
        "properties": {"result": inner},
        "required": ["result"],
        "additionalProperties": False,
    }


Checking = Callable[[Any], Awaitable[Mismatch | None]]
"""Where a value misses a schema, or None when it matches."""


def _ours(schema: Mapping[str, Any]) -> Checking:
    """A rubric's schema: small and ours, checked in this process."""
    validator = jsonschema_rs.validator_for(dict(schema))

    async def mismatch(value: Any) -> Mismatch | None:
        error = next(validator.iter_errors(value), None)
        if error is None:
            return None
        where = "/".join(str(step) for step in error.schema_path) or "its root"
        return Mismatch(where, error.message)

    return mismatch


async def _theirs(schema: Mapping[str, Any]) -> Checking:
    """The organization's schema, checked in a process of its own; _Unusable, before the
    model is asked, when it cannot be used."""
    try:
        await check_in_child(schema)
    except SchemaUnusable as unusable:
        raise _Unusable(f"the schema cannot be used: {unusable}") from None

    async def mismatch(value: Any) -> Mismatch | None:
        try:
            return await check_in_child(schema, value)
        except SchemaUnusable as unusable:
            raise _Unusable(f"the schema cannot be used: {unusable}") from None

    return mismatch


def _decoded(answer: str, wrapped: bool) -> Any:
    """The JSON value of ``answer`` (its ``result`` when ``wrapped``)."""
    try:
        value = orjson.loads(answer)
        decoded = True
    except orjson.JSONDecodeError:
        decoded = False
    if not decoded:
        # Raised outside the except clause: the decode error keeps the whole answer.
        raise _Unusable("was not JSON", "it was not valid JSON")
    if wrapped:
        if not isinstance(value, dict) or "result" not in value:
            raise _Unusable("had no result field", 'it had no "result" field')
        value = value["result"]
    return value


def _correction(detail: str) -> str:
    problem = f" ({detail})" if detail else ""
    return (
        f"That answer cannot be used{problem}. "
        "Answer again, with JSON that matches the schema you were given."
    )
