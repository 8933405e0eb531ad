"""The ``{{name}}`` placeholders of a call's texts, filled from its task parameters.

A variable fills ``first_message``, the content of every ``model.messages`` entry,
``voicemail_message`` and the analysis plan's prompts. A placeholder left without a value
is refused when the call is created, never read to a patient as braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from clarion.api.errors import InvalidInput

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
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


def fill(text: str, values: Mapping[str, str], where: str) -> str:
    """``text`` with each placeholder replaced by its value; InvalidInput names the first
    placeholder without one, and where it is."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise InvalidInput(
                f"{where}: the placeholder {{{{{name}}}}} has no value: "
                f"add {name!r} to task_parameters"
            )
        return values[name]

    return PLACEHOLDER.sub(value_of, text)


def fill_configuration(configuration: dict[str, Any], values: Mapping[str, str]) -> None:
    """Fill the placeholders of every text of a call's configuration, in place."""
    for field in ("first_message", "voicemail_message"):
        if isinstance(configuration.get(field), str):
            configuration[field] = fill(configuration[field], values, field)
    model = configuration.get("model")
    if isinstance(model, dict) and isinstance(model.get("messages"), list):
        model["messages"] = [
            {**message, "content": fill(message["content"], values, f"model.messages[{i}].content")}
            for i, message in enumerate(model["messages"])
        ]
    plan = configuration.get("analysis_plan")
    if isinstance(plan, dict):
        for prompt in ANALYSIS_PROMPTS:
            if isinstance(plan.get(prompt), str):
                plan[prompt] = fill(plan[prompt], values, f"analysis_plan.{prompt}")
