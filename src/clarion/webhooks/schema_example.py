"""An example value of a JSON Schema: the structured data a sample report shows a receiver.

The schema is an organization's, so the example is built from its keywords alone, with
bounded effort: a depth, an amount of work and a string length that no schema can push the
example past (a ``minItems`` of a billion, a ``$ref`` to itself). Within them the example
matches the schema for what schemas usually say: types, ``const``, ``enum`` and ``examples``,
required and declared properties, items, bounds, lengths, formats, local ``$ref``s, ``allOf``
and one branch of ``anyOf`` or ``oneOf``. A ``pattern`` is met only through the schema's own
``examples`` or ``default``: no string is searched for, and the schema's regex never runs
here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 12
"""Nesting past which only what the schema requires is filled in."""

LAST_DEPTH = 48
"""Nesting past which nothing is filled in: a schema requiring itself ends there, null."""

MAX_REFERENCES = 32
"""References followed one after another, to find one value's keywords."""

MAX_STEPS = 2_000
"""Values built and references followed for one example in all; past it, the rest is null
(a schema whose required properties lead back to itself would otherwise never end)."""

MAX_ITEMS = 16
"""Items one array is given at most, whatever its ``minItems``."""

MAX_STRING = 1_000
"""Characters one string is given at most, whatever its ``minLength``."""

# A value for each format a validator may check, so a receiver parses what a model gives.
FORMATS: dict[str, str] = {
    "date-time": "2025-01-02T09:30:00Z",
    "date": "2025-01-02",
    "time": "09:30:00Z",
    "duration": "P1D",
    "email": "patient@example.com",
    "idn-email": "patient@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "iri": "https://example.com/",
    "iri-reference": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "json-pointer": "/example",
    "relative-json-pointer": "0",
    "regex": "example",
}
WORD = "example"


def example_of(schema: Any) -> Any:
    """A value that matches ``schema`` (see the module docstring for how far that goes)."""
    return _Builder(schema).value(schema, 0)


class _Builder:
    """One example's construction: the root schema ``$ref``s point into and what is spent."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.steps = 0

    def _spent(self) -> bool:
        self.steps += 1
        return self.steps > MAX_STEPS

    def value(self, schema: Any, depth: int) -> Any:
        if self._spent() or depth > LAST_DEPTH or not isinstance(schema, Mapping):
            return None  # true (anything) or false (nothing): null is as good as any
        schema = self._flattened(schema, 0)
        if "const" in schema:
            return schema["const"]
        for listed in ("enum", "examples"):
            # The schema's own values: an example is the author's, and meets any pattern.
            values = schema.get(listed)
            if isinstance(values, list) and values:
                return values[0]
        kind = _kind(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        return None

    def _flattened(self, schema: Mapping[str, Any], chain: int) -> dict[str, Any]:
        """``schema`` with its ``$ref``, ``allOf`` and one ``anyOf``/``oneOf`` branch merged
        in: one set of keywords to build from."""
        merged = {
            key: value
            for key, value in schema.items()
            if key not in ("$ref", "allOf", "anyOf", "oneOf")
        }
        parts: list[Any] = []
        if isinstance(schema.get("$ref"), str):
            parts.append(self._resolved(schema["$ref"]))
        if isinstance(schema.get("allOf"), list):
            parts.extend(schema["allOf"])
        for choice in ("anyOf", "oneOf"):
            branches = schema.get(choice)
            if isinstance(branches, list) and branches:
                # A branch that is only null shows nothing of the shape: the first other one.
                shaped = [b for b in branches if not (isinstance(b, Mapping) and _only_null(b))]
                parts.append((shaped or branches)[0])
        if chain >= MAX_REFERENCES:
            return merged  # references that only lead back to themselves
        for part in parts:
            if isinstance(part, Mapping) and not self._spent():
                _merge(merged, self._flattened(part, chain + 1))
        return merged

    def _resolved(self, reference: str) -> Any:
        """The part of the root schema a local ``$ref`` (``#`` or ``#/a/b``) points to; an
        empty schema for any other reference, which is never fetched."""
        if reference == "#":
            return self.root
        if not reference.startswith("#/"):
            return {}
        target = self.root
        for step in reference[2:].split("/"):
            step = step.replace("~1", "/").replace("~0", "~")
            if isinstance(target, Mapping) and step in target:
                target = target[step]
            elif isinstance(target, list) and step.isdigit() and int(step) < len(target):
                target = target[int(step)]
            else:
                return {}
        return target

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        required = [name for name in schema.get("required") or [] if isinstance(name, str)]
        # Every declared property, to show the receiver the whole shape a model may give;
        # only the required ones past the depth limit, so a recursive schema ends.
        names = list(dict.fromkeys(required))
        if depth < MAX_DEPTH:
            names += [name for name in properties if name not in names]
        maximum = schema.get("maxProperties")
        if isinstance(maximum, int):
            names = names[: max(maximum, len(required))]
        extra = schema.get("additionalProperties", True)
        built = {}
        for name in names:
            below = properties.get(name, extra if isinstance(extra, Mapping) else {})
            built[name] = self.value(below, depth + 1)
        return built

    def _array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        leading = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):  # draft 4 to 7: items as a tuple
            leading, items = items, schema.get("additionalItems", {})
        leading = leading if isinstance(leading, list) else []
        minimum = _number_at(schema, "minItems") or 0
        maximum = _number_at(schema, "maxItems")
        # One item at least, to show what an item looks like, unless none may be given or
        # the array is past the depth limit; one only when items must differ, since every
        # item is built alike.
        shown = 0 if maximum == 0 or items is False or depth >= MAX_DEPTH else 1
        count = int(min(max(minimum, len(leading), shown), MAX_ITEMS))
        if schema.get("uniqueItems") is True and minimum <= 1:
            count = min(count, max(1, len(leading)))
        if maximum is not None:
            count = min(count, int(maximum))
        contains = schema.get("contains")
        built = []
        for index in range(count):
            if index < len(leading):
                below = leading[index]
            elif index == count - 1 and isinstance(contains, Mapping):
                below = contains  # the last item is the one the array must contain
            else:
                below = items if items is not None else {}
            built.append(self.value(below, depth + 1))
        return built


def _merge(into: dict[str, Any], part: Mapping[str, Any]) -> None:
    """Add ``part``'s keywords to ``into``: properties and required lists together, any other
    keyword kept as ``into`` has it."""
    for key, value in part.items():
        if key == "properties" and isinstance(value, Mapping):
            into["properties"] = {**value, **(into.get("properties") or {})}
        elif key == "required" and isinstance(value, list):
            into["required"] = list(dict.fromkeys([*(into.get("required") or []), *value]))
        else:
            into.setdefault(key, value)


def _only_null(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "null" or schema.get("type") == ["null"]


def _kind(schema: Mapping[str, Any]) -> str | None:
    """The type to build: the schema's (the first that is not null, when it lists several),
    or the one its keywords imply."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if isinstance(k, str)]
        kind = next((k for k in kinds if k != "null"), kinds[0] if kinds else None)
    if isinstance(kind, str):
        return kind
    implied = (
        ("object", ("properties", "required", "additionalProperties", "patternProperties")),
        ("array", ("items", "prefixItems", "minItems", "contains")),
        ("string", ("minLength", "maxLength", "pattern", "format")),
        ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
    )
    return next((name for name, keywords in implied if any(k in schema for k in keywords)), None)


def _string(schema: Mapping[str, Any]) -> str:
    if "pattern" in schema and isinstance(schema.get("default"), str):
        # A default may meet a pattern; no string is searched for that would.
        return str(schema["default"])
    text = FORMATS.get(str(schema.get("format")), WORD)
    shortest = schema.get("minLength")
    if isinstance(shortest, int) and len(text) < shortest:
        text = (text * (min(shortest, MAX_STRING) // len(text) + 1))[: min(shortest, MAX_STRING)]
    longest = schema.get("maxLength")
    if isinstance(longest, int) and len(text) > longest:
        text = text[:longest]
    return text


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    """The lower bound (or the first above an open one), 1 when there is none, or the upper
    bound when that is below it; a multiple of ``multipleOf`` when one is asked for."""
    low, low_open = _bound(schema, "minimum", "exclusiveMinimum")
    high, high_open = _bound(schema, "maximum", "exclusiveMaximum")
    step = _number_at(schema, "multipleOf") or 1
    step = step if step > 0 else 1
    try:
        value = float(_within(low, low_open, high, high_open, step))
    except (OverflowError, ValueError):
        value = float(low) if low is not None else 1.0  # beyond what a float holds
    # A whole number as an integer, as a model's JSON would give it; one past 64 bits stays
    # a float, the only way JSON encoders here write it.
    if (integer or value.is_integer()) and abs(value) < 2**63:
        return int(value)
    return value


def _within(
    low: float | None, low_open: bool, high: float | None, high_open: bool, step: float
) -> float:
    if low is not None:
        value = math.ceil(low / step) * step
        if low_open and value <= low:
            value += step
    else:
        value = step * max(1, math.ceil(1 / step))
    if high is not None and (value > high or (high_open and value >= high)):
        value = math.floor(high / step) * step
        if high_open and value >= high:
            value -= step
    return value


def _bound(schema: Mapping[str, Any], inclusive: str, exclusive: str) -> tuple[float | None, bool]:
    """A bound and whether it is open, in either spelling: draft 4's boolean
    ``exclusiveMinimum`` beside ``minimum``, or draft 6's number."""
    value, opened = _number_at(schema, inclusive), _number_at(schema, exclusive)
    if schema.get(exclusive) is True:
        return value, value is not None
    if opened is not None:
        if value is not None and value > opened:
            return value, False
        return opened, True
    return value, False


def _number_at(schema: Mapping[str, Any], keyword: str) -> float | None:
    """The keyword's value if it is a number (a boolean is not one here)."""
    value = schema.get(keyword)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None
