"""Hypothesis strategies for arbitrary JSON values, and tools to compare and merge them.

The values are what any client may send: integers far beyond 64 bits, floats at the ends of
their range, any text (NUL included; lone surrogates cannot be encoded, so never), keys of
any text, and nesting a few levels deep or a few hundred. The tools work without recursion,
so that a value nested a thousand levels deep is as easy to check as a flat one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import strategies as st

# Keys the server gives a meaning to somewhere inside an assistant, mixed into arbitrary text
# so that generated objects sometimes name them.
MEANINGFUL_KEYS = (
    "provider",
    "model",
    "temperature",
    "max_tokens",
    "messages",
    "role",
    "content",
    "voiceId",
    "summaryPrompt",
    "structuredDataPrompt",
    "structuredDataSchema",
    "successEvaluationPrompt",
    "successEvaluationRubric",
    "$schema",
    "$ref",
    "$id",
    "type",
    "properties",
    "items",
    "id",
    "name",
    "",
    "\x00",
    "__proto__",
)

# Integers where storage formats change: 32, 53 (exact in a double), 64 bits and beyond.
EDGE_INTEGERS = (
    0,
    -1,
    2**31 - 1,
    -(2**31),
    2**53,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64 - 1,
    2**64,
    -(2**64),
    10**20,
    2**128,
    -(10**40) - 7,
    10**300,
)

# Floats at the ends of the range: largest, smallest normal, smallest subnormal, and so on.
EDGE_FLOATS = (
    0.0,
    -0.0,
    1.0,
    0.1,
    1e16,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2.2250738585072014e-308,
    5e-324,
    -5e-324,
    1e-300,
    123456789.123456789,
)

EDGE_STRINGS = (
    "",
    "\x00",
    "a\x00b",
    "\u2028\u2029",
    "\ufeff",
    "\uffff",
    "\U0010ffff",
    "\U0001f600",
    "e\u0301",
    '"\\/\b\f\n\r\t',
    "null",
    "\x7f\x80\x9f",
)

JsonScalar = None | bool | int | float | str


def json_text(max_size: int = 12) -> st.SearchStrategy[str]:
    """Any text JSON can carry: every code point but the surrogates, NUL included."""
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size) | st.sampled_from(
        EDGE_STRINGS
    )


def json_keys() -> st.SearchStrategy[str]:
    return st.sampled_from(MEANINGFUL_KEYS) | json_text(max_size=8)


def json_integers() -> st.SearchStrategy[int]:
    return (
        st.integers()
        | st.sampled_from(EDGE_INTEGERS)
        | st.integers(min_value=2**63 - 3, max_value=2**64 + 3)
        | st.integers(min_value=-(2**63) - 3, max_value=-(2**63) + 3)
        | st.integers(min_value=-(10**60), max_value=10**60)
    )


def json_floats() -> st.SearchStrategy[float]:
    return st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(EDGE_FLOATS)


def json_scalars() -> st.SearchStrategy[JsonScalar]:
    return st.none() | st.booleans() | json_integers() | json_floats() | json_text()


def json_values(max_leaves: int = 24) -> st.SearchStrategy[Any]:
    """Any JSON value, with lists and objects nested a few levels."""
    return st.recursive(
        json_scalars(),
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(json_keys(), children, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def json_objects(max_leaves: int = 24) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(json_keys(), json_values(max_leaves), max_size=6)


@st.composite
def deeply_nested(draw: st.DrawFn, min_depth: int = 1, max_depth: int = 400) -> Any:
    """A value nested ``min_depth`` to ``max_depth`` levels: lists and objects, one per level
    (an object's key drawn from any text), around one JSON value."""
    depth = draw(st.integers(min_value=min_depth, max_value=max_depth))
    value: Any = draw(json_scalars() | st.just([]) | st.just({}))
    as_object = draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    key = draw(json_keys())
    for level in range(depth):
        value = {key: value} if as_object[level] else [value]
    return value


def same_json(left: Any, right: Any) -> bool:
    """Whether two decoded JSON values are the same, kind for kind.

    Stricter than ``==``: an integer is not a float (``2**70 == float(2**70)`` in Python),
    nor a boolean; floats compare by value, so ``-0.0`` is ``0.0``. Works to any depth.
    """
    pending = [(left, right)]
    while pending:
        a, b = pending.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if a.keys() != b.keys():
                return False
            pending.extend((a[key], b[key]) for key in a)
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            pending.extend(zip(a, b, strict=True))
        elif a != b:
            return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396, written out here so that the tests do not take the server's word for it."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def depth_of(value: Any) -> int:
    """How many lists and objects are nested in ``value`` at its deepest."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
    return deepest


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    """Let the json module decode (and ``==`` compare) values nested up to ``limit`` levels."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def loads_deep(text: bytes | str) -> Any:
    """``json.loads`` for documents nested deeper than the default recursion limit allows."""
    with recursion_limit(20_000):
        return json.loads(text)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of any value, at any depth, keeping every code point as is."""
    with recursion_limit(20_000):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
