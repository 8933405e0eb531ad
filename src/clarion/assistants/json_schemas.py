"""What an assistant's structured-data schema must be when it is saved.

It must be a JSON Schema its own draft's meta-schema accepts (checked by jsonschema-rs: the
pure-Python validator took seconds, on the event loop, for a schema under the body limit),
and its patterns must be ones the analysis can run: the answer is checked with a regex engine
that runs in linear time (clarion.after_call.schema_check), which has no lookaround and no
backreferences, so a pattern using them is refused here, where the author can still mend it.
A schema with other patterns that engine cannot build is reported when the call is analysed
(``structuredDataError``), before the model is asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs

# Lookahead and lookbehind, positive or negative; backreferences by number or by name.
_BACKTRACKING_ONLY = re.compile(r"\(\?<?[=!]|\\[1-9]|\\k<")
# Keywords whose values are data, not subschemas: a "pattern" key inside them is not one.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` cannot be saved as a structured-data schema, or None."""
    try:
        jsonschema_rs.meta.validate(schema)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as error:
        return f"is not a valid JSON Schema: {str(error).splitlines()[0][:300]}"
    for where, pattern in _patterns(schema, ""):
        if _BACKTRACKING_ONLY.search(_without_escaped_backslashes(pattern)):
            return (
                f"{where}: the pattern {pattern[:100]!r} uses lookaround or a backreference; "
                "patterns are run in linear time, which has neither"
            )
    return None


def _patterns(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """Each pattern of the schema (``pattern`` values, ``patternProperties`` keys), with the
    path where it stands."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _patterns(item, f"{path}/{index}")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        here = f"{path}/{key}"
        if key in _DATA_KEYWORDS:
            continue
        if key == "pattern" and isinstance(value, str):
            yield here, value
        elif key == "patternProperties" and isinstance(value, dict):
            for pattern, subschema in value.items():
                yield f"{here}/{pattern}", pattern
                yield from _patterns(subschema, f"{here}/{pattern}")
        else:
            yield from _patterns(value, here)


def _without_escaped_backslashes(pattern: str) -> str:
    # "\\1" is a backslash then a digit, not a backreference; "\\(?=" is no lookahead.
    return pattern.replace("\\\\", "").replace("\\(", "")
