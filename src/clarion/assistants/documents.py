"""What a request body may hold so that every later step can carry it unchanged.

A body's objects are stored (SQLite text written by orjson, or PostgreSQL JSONB), rendered
by orjson, wrapped in a version record and in lists, and read back again. Two things would
fail or change on the way: orjson refuses to render a document nested beyond its recursion
limit, and it reads an integer too large for it as a float. Both are refused when the body
arrives, so no stored value can make a later read fail or differ from what was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

MAX_DEPTH = 64
"""How many levels of objects and arrays a body may nest, the body itself the first.

Far below what orjson renders, so the responses that wrap the body deeper (a version record,
a list of them) render too, with room to spare."""

SMALLEST_INTEGER = -(2**63)
LARGEST_INTEGER = 2**64 - 1
"""The integers kept exactly: orjson reads and writes these digit for digit (PostgreSQL keeps
any number exactly, but a value leaves it through orjson too). Beyond them orjson reads a
float, and the stored value would differ from the one sent."""

# Every integer outside the range has at least this many digits; most bodies have no such run.
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{%d}" % len(str(2**63)))
_LONGEST_INTEGER_TEXT = max(len(str(SMALLEST_INTEGER)), len(str(LARGEST_INTEGER)))


class _OutOfRange:
    """Stands for an integer outside the range while a body is read exactly."""


_OUT_OF_RANGE = _OutOfRange()


def nested_too_deeply(document: object, raw: bytes) -> bool:
    """Whether ``document``, read from ``raw``, nests deeper than MAX_DEPTH levels."""
    if raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH:
        return False  # every level opens a bracket, so it cannot
    return isinstance(document, dict | list) and _deeper_than(document, MAX_DEPTH)


def _deeper_than(container: dict[str, object] | list[object], levels: int) -> bool:
    """Whether ``container`` needs more than ``levels`` levels, counting itself."""
    if levels == 0:
        return True
    children = container.values() if isinstance(container, dict) else container
    for child in children:
        if isinstance(child, dict | list) and _deeper_than(child, levels - 1):
            return True
    return False


def inexact_integer_at(raw: bytes) -> str | None:
    """The path of the first integer in ``raw`` outside the range kept exactly, or None.

    orjson has already read ``raw`` (as a float, where an integer is out of range), so it is
    valid JSON and no deeper than MAX_DEPTH; the standard library reads it again exactly,
    only when a run of digits long enough for such an integer appears at all.
    """
    if _LONG_DIGIT_RUN.search(raw) is None:
        return None
    exact = json.loads(raw, parse_int=_integer)
    return first_path(exact, lambda value: value is _OUT_OF_RANGE)


def _integer(text: str) -> int | _OutOfRange:
    if len(text) > _LONGEST_INTEGER_TEXT:
        return _OUT_OF_RANGE  # too long to be in range; int() would refuse thousands of digits
    value = int(text)
    return value if SMALLEST_INTEGER <= value <= LARGEST_INTEGER else _OUT_OF_RANGE


def first_path(value: object, is_bad: Callable[[object], bool], path: str = "") -> str | None:
    """The path (``model.messages[0].content``) of the first key or value, depth first, for
    which ``is_bad`` holds; None when there is none. Objects and arrays are walked, not
    tested themselves."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if is_bad(key):
                return here
            found = first_path(item, is_bad, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = first_path(item, is_bad, f"{path}[{index}]")
            if found is not None:
                return found
    elif is_bad(value):
        return path
    return None
