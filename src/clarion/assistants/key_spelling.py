"""Near misses of the keys clarion reads in an assistant's ``model`` and ``analysis_plan``.

Both objects are free: a key clarion does not read is kept as sent, so a provider's option
or a clinic's own note survives a round trip. Kept as quietly, ``summary_prompt`` or
``temprature`` would leave every call without its summary or at the default temperature,
found out only when the reports come back short. So a key that is not one clarion reads but
is close to one is refused, naming the key it is close to; a key close to none is kept.

Only the objects' own keys are looked at: what is inside them (a JSON Schema, a message) has
keys of its own, which are not clarion's to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from clarion.errors import InvalidInput

READ_KEYS: dict[str, tuple[str, ...]] = {
    # What the analysis after a call asks for (clarion.after_call.analysis).
    "analysis_plan": (
        "summaryPrompt",
        "structuredDataPrompt",
        "structuredDataSchema",
        "successEvaluationPrompt",
        "successEvaluationRubric",
    ),
    # What a conversation talks with (clarion.calls.language_model).
    "model": ("provider", "model", "temperature", "max_tokens", "messages", "credential_id"),
}
"""For each checked field, the keys of its object that clarion reads."""

SHORT_KEY = 6
"""A key clarion reads that is shorter than this has its near misses one edit from it; a
longer one, up to two: two edits turn a short key into too many others."""


def check_key_spelling(fields: Mapping[str, Any], *, merge: bool = False) -> None:
    """Raise InvalidInput naming the first key of a READ_KEYS object in ``fields`` that is a
    near miss of a key clarion reads, and that key.

    With ``merge`` the fields are a merge patch, where a key set to null is removed: that is
    how a near miss stored before it was refused is taken away, so it is let through.
    """
    for field, read in READ_KEYS.items():
        document = fields.get(field)
        if not isinstance(document, dict):
            continue
        for key, value in document.items():
            if merge and value is None:
                continue
            meant = near_miss(key, read)
            if meant is not None:
                raise InvalidInput(
                    f"{field}.{key}: not a key clarion reads; did you mean `{meant}`?"
                )


def near_miss(key: str, read: tuple[str, ...]) -> str | None:
    """The key of ``read`` that ``key`` is a near miss of (the closest, the first of equals),
    or None when ``key`` is one of them or close to none.

    Keys are compared with case, ``_`` and ``-`` ignored, so ``summary_prompt`` and
    ``MaxTokens`` are the same as ``summaryPrompt`` and ``max_tokens``; then within two edits
    (one for a key shorter than SHORT_KEY), an edit being a letter inserted, removed or
    replaced, or two neighbours swapped.
    """
    if key in read:
        return None
    folded = _folded(key)
    closest: tuple[int, str] | None = None
    for candidate in _prepared(read):
        if abs(len(folded) - len(candidate.folded)) > candidate.allowed:
            continue
        # Each edit brings in at most one letter the key clarion reads does not have: counted
        # in C, this turns away most keys before any distance is worked out.
        if len(folded.translate(candidate.own_letters)) > candidate.allowed:
            continue
        distance = edit_distance(folded, candidate.folded, candidate.allowed)
        if distance <= candidate.allowed and (closest is None or distance < closest[0]):
            closest = (distance, candidate.name)
    return None if closest is None else closest[1]


def edit_distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance between ``a`` and ``b`` (Damerau-Levenshtein
    where no part is edited twice), or ``limit + 1`` when it is more than ``limit``.

    Only what is within ``limit`` is worked out: the cells of the table at most ``limit``
    from its diagonal, and no row past one wholly over it. A body may hold tens of thousands
    of keys, each compared here, on the event loop.
    """
    over = limit + 1
    if abs(len(a) - len(b)) > limit:
        return over
    before: list[int] = []
    previous = [min(j, over) for j in range(len(b) + 1)]
    for i, letter in enumerate(a, 1):
        current = [over] * (len(b) + 1)
        current[0] = best = min(i, over)
        for j in range(max(1, i - limit), min(len(b), i + limit) + 1):
            other = b[j - 1]
            cost = previous[j - 1] + (letter != other)
            if previous[j] < cost:
                cost = previous[j] + 1
            if current[j - 1] < cost:
                cost = current[j - 1] + 1
            swapped = i > 1 and j > 1 and letter == b[j - 2] and a[i - 2] == other
            if swapped and before[j - 2] < cost:
                cost = before[j - 2] + 1
            if cost > over:
                cost = over
            current[j] = cost
            if cost < best:
                best = cost
        if best == over:
            return over
        before, previous = previous, current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class _ReadKey:
    """A key clarion reads, made ready to be compared with."""

    name: str
    folded: str
    allowed: int
    """How many edits from ``folded`` a near miss may be."""
    own_letters: dict[int, None]
    """A str.translate table that takes out the letters of ``folded``."""


@cache
def _prepared(read: tuple[str, ...]) -> tuple[_ReadKey, ...]:
    prepared = []
    for name in read:
        folded = _folded(name)
        allowed = 1 if len(folded) < SHORT_KEY else 2
        prepared.append(_ReadKey(name, folded, allowed, dict.fromkeys(map(ord, folded))))
    return tuple(prepared)


def _folded(key: str) -> str:
    return key.casefold().replace("_", "").replace("-", "")
