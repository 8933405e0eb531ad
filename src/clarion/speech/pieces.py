"""Cutting a streamed reply into pieces a voice can speak as soon as each is whole.

A voice speaks a sentence better than a fragment, and the person hears the first words sooner
when the first sentence is sent before the model has finished the rest. A piece ends at a
sentence end: ``. ! ? …`` (closing quotes or brackets may follow) and then a space, or a line
break; not after a title or an abbreviation (``Dr.``, ``e.g.``) or a lone initial, and never
inside a number (``3.5``, ``10:30``: no space follows the mark). A sentence that runs long is
cut at its last clause boundary (``, ; : —`` and a space) within ``LONG_CHARS``, or the first
one after; one with no boundary at all, at a space past ``MAX_CHARS``. The first piece of a
reply may end at a clause boundary already, once it holds ``FIRST_PIECE_WORDS`` words, so the
first audio leaves sooner.

Where a piece ends depends only on the text, never on how the deltas split it, and pieces keep
every character: ``"".join(pieces) + rest()`` is the reply exactly. A piece takes the one space
that showed its end; any further whitespace begins the next piece.
"""

from __future__ import annotations

import re

LONG_CHARS = 120
MAX_CHARS = 240
FIRST_PIECE_WORDS = 4

_CLOSERS = "\"'\u201d\u2019)\\]"  # closing quotes (straight and curly) and brackets
_SENTENCE_END = re.compile(rf"[.!?…]+[{_CLOSERS}]*\s|\n")
_CLAUSE_END = re.compile(rf"[,;:\u2014\u2013][{_CLOSERS}]*\s")  # an em or en dash too
_LAST_WORD = re.compile(r"(\S*)$")
_LETTER = re.compile(r"[^\W\d_]")
_SPACE = re.compile(r"\S\s")

# Followed by a full stop mid-sentence far more often than they end one.
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "st", "prof", "jr", "sr", "vs", "e.g", "i.e", "etc", "approx"}
)


class SpeakablePieces:
    """One reply's text, cut into speakable pieces as its deltas arrive."""

    def __init__(self) -> None:
        self._pending = ""
        self._first = True

    def add(self, delta: str) -> list[str]:
        """Take the next delta of the reply; return the pieces it completes (often none)."""
        self._pending += delta
        pieces = []
        while (end := _piece_end(self._pending, first=self._first)) is not None:
            pieces.append(self._pending[:end])
            self._pending = self._pending[end:]
            self._first = False
        return pieces

    def rest(self) -> str:
        """The reply is over: what is left after the last whole piece (may be "")."""
        rest, self._pending = self._pending, ""
        return rest


def _piece_end(text: str, *, first: bool) -> int | None:
    """Where the piece at the start of ``text`` ends, or None while that is not yet known."""
    end = _sentence_end(text)
    if first:
        clause = _first_clause_end(text)
        if clause is not None and (end is None or clause < end):
            end = clause
    if end is not None and end <= LONG_CHARS:
        return end
    if len(text) <= LONG_CHARS:
        return None
    # The sentence runs long: its last clause boundary in reach, else the first one after.
    within = [m.end() for m in _CLAUSE_END.finditer(text, 0, LONG_CHARS) if _speakable(text, m)]
    if within:
        return within[-1]
    later = next((m.end() for m in _CLAUSE_END.finditer(text) if _speakable(text, m)), None)
    if later is not None and (end is None or later < end):
        end = later
    if end is not None and end <= MAX_CHARS:
        return end
    if len(text) <= MAX_CHARS:
        return None
    spaces = [m.end() for m in _SPACE.finditer(text, 0, MAX_CHARS)]
    return spaces[-1] if spaces else MAX_CHARS


def _sentence_end(text: str) -> int | None:
    for match in _SENTENCE_END.finditer(text):
        if _speakable(text, match) and not _abbreviated(text, match):
            return match.end()
    return None


def _first_clause_end(text: str) -> int | None:
    for match in _CLAUSE_END.finditer(text):
        if len(text[: match.start()].split()) >= FIRST_PIECE_WORDS:
            return match.end()
    return None


def _speakable(text: str, match: re.Match[str]) -> bool:
    """A piece has words: a list's ``1.`` or a blank line alone is not one."""
    return _LETTER.search(text, 0, match.start()) is not None


def _abbreviated(text: str, match: re.Match[str]) -> bool:
    if not match.group().startswith(".") or match.group().startswith(".."):
        return False
    word = _LAST_WORD.search(text, 0, match.start())
    token = word.group(1).lstrip("\"'\u201c\u2018([") if word else ""
    initial = len(token) == 1 and token.isupper()
    return initial or token.lower() in _ABBREVIATIONS
