"""The ``{{name}}`` placeholders of a call's texts, filled from its task parameters.

A variable fills ``first_message``, the content of every ``model.messages`` entry,
``voicemail_message`` and the analysis plan's prompts. A placeholder left without a value,
a malformed one (clarion.assistants.placeholders) and a text that filling would take over
its field's limit are refused when the call is created, never read to a patient.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from clarion.assistants.configs import MESSAGE_MAX, PROMPT_MAX
from clarion.assistants.placeholders import PLACEHOLDER, malformed_placeholder
from clarion.errors import InvalidInput

ANALYSIS_PROMPTS = ("summaryPrompt", "structuredDataPrompt", "successEvaluationPrompt")


def as_text(name: str, value: Any) -> str:
    """A variable's value as it is read out: strings as they are, numbers in JSON's spelling,
    booleans as ``true`` or ``false``; anything else is a 400 naming it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    raise InvalidInput(
        f"task_parameters.{name}: a variable must be a string, a number or a boolean"
    )


def _check_fill(
    text: str, values: Mapping[str, str], where: str, limit: int
) -> tuple[int, Counter[str]]:
    """The length of ``text`` once filled, and the characters each variable adds to it.

    InvalidInput, naming ``where``, if ``text`` holds a malformed placeholder (an assistant
    saved before they were refused) or one without a value, or if filling it would make it
    longer than ``limit``. The filled length is counted, never built: a few placeholders and
    a long value could otherwise make a text of hundreds of megabytes."""
    problem = malformed_placeholder(text)
    if problem is not None:
        raise InvalidInput(f"{where}: {problem}")
    length = len(text)
    added: Counter[str] = Counter()
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name not in values:
            raise InvalidInput(
                f"{where}: the placeholder {{{{{name}}}}} has no value: "
                f"add {name!r} to task_parameters"
            )
        length -= len(match.group())
        added[name] += len(values[name])
    length += added.total()
    if length > limit:
        raise InvalidInput(
            f"{where}: {_filled_with(added)}it would be {length:,} characters, "
            f"over its limit of {limit:,}"
        )
    return length, added


def fill_configuration(
    configuration: dict[str, Any], values: Mapping[str, str], total_limit: int
) -> None:
    """Fill the placeholders of every text of a call's configuration, in place; nothing is
    filled unless every text can be (_check_fill), and the texts together stay within
    ``total_limit`` characters: a thousand model messages, each under its own limit, could
    otherwise make one call of a hundred megabytes, stored and sent to the model each turn."""
    texts = list(_texts(configuration))
    total = 0
    added: Counter[str] = Counter()
    for where, limit, holder, key in texts:
        length, adding = _check_fill(holder[key], values, where, limit)
        total += length
        added += adding
    if total > total_limit:
        raise InvalidInput(
            f"task_parameters: {_filled_with(added)}the call's texts would be {total:,} "
            f"characters together, over the limit of {total_limit:,} for one call "
            "(CLARION_MAX_BODY_BYTES)"
        )
    for _where, _limit, holder, key in texts:
        holder[key] = _filled(holder[key], values)


def _filled_with(added: Counter[str]) -> str:
    """Names the variable that adds the most characters, if one adds any."""
    largest = max(added, key=added.__getitem__, default=None)
    return f"filled with task_parameters.{largest} " if largest and added[largest] else ""


def _texts(configuration: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any], str]]:
    """Each text of the configuration that has placeholders to fill: where it is, its limit,
    and the object and key that hold it."""
    for field in ("first_message", "voicemail_message"):
        if isinstance(configuration.get(field), str):
            yield field, MESSAGE_MAX, configuration, field
    model = configuration.get("model")
    if isinstance(model, dict) and isinstance(model.get("messages"), list):
        for i, message in enumerate(model["messages"]):
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                yield f"model.messages[{i}].content", PROMPT_MAX, message, "content"
    plan = configuration.get("analysis_plan")
    if isinstance(plan, dict):
        for prompt in ANALYSIS_PROMPTS:
            if isinstance(plan.get(prompt), str):
                yield f"analysis_plan.{prompt}", PROMPT_MAX, plan, prompt


def _filled(text: str, values: Mapping[str, str]) -> str:
    # A value goes in as it is: a placeholder inside it is not filled in turn.
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
