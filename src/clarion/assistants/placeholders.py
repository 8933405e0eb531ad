"""The grammar of the ``{{name}}`` placeholders in an assistant's texts.

A placeholder is ``{{`` and ``}}`` around a name of letters, digits, ``_``, ``.`` or ``-``
that starts with a letter or ``_``, with spaces allowed inside the braces. Every ``{{`` in a
text must begin one: anything else would be read to a patient with its braces. A lone ``}}``
is plain text, as in the JSON examples prompts often show.
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
HOW_TO_WRITE = (
    "write {{name}} with a name of letters, digits, _, . or -, starting with a letter or _"
)
_OPENING = re.compile(r"\{\{[A-Za-z0-9_.\-\s]*")
_BRACED = re.compile(r"\{+[^{}]*\}*")
_QUOTED_MAX = 40
"""Enough of a malformed placeholder to find it by; a text is never quoted whole."""


def malformed_placeholder(text: str) -> str | None:
    """What is wrong with the first ``{{`` of ``text`` that does not begin a placeholder;
    None when every one does."""
    start = text.find("{{")
    while start != -1:
        placeholder = PLACEHOLDER.match(text, start)
        if placeholder is None:
            return _problem(text, start)
        start = text.find("{{", placeholder.end())
    return None


def check_placeholders(text: str) -> str:
    """``text``, if its placeholders are well formed (a Pydantic AfterValidator)."""
    problem = malformed_placeholder(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def _problem(text: str, start: int) -> str:
    if text.startswith("{", start + 2):
        # Handlebars' {{{name}}}, say: the extra braces would be read out.
        braced = _BRACED.match(text, start)
        fragment = braced.group() if braced else "{{{"
        return f"{_quoted(fragment)} has more braces than a placeholder: {HOW_TO_WRITE}"
    end = text.find("}}", start + 2)
    inside = text[start + 2 : end] if end != -1 else ""
    if end == -1 or "{" in inside:
        # Not closed before the text ends or another placeholder opens.
        opening = _OPENING.match(text, start)
        fragment = opening.group().rstrip() if opening else "{{"
        return f"{_quoted(fragment)} opens a placeholder that is not closed: {HOW_TO_WRITE}"
    fragment = text[start : end + 2]
    if not inside.strip():
        return f"{_quoted(fragment)} is a placeholder without a name: {HOW_TO_WRITE}"
    return f"{_quoted(fragment)} is not a well-formed placeholder: {HOW_TO_WRITE}"


def _quoted(fragment: str) -> str:
    if len(fragment) > _QUOTED_MAX:
        fragment = fragment[: _QUOTED_MAX - 3] + "..."
    return f'"{fragment}"'
