"""Cutting a streamed reply into speakable pieces."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from clarion.speech.pieces import LONG_CHARS, MAX_CHARS, SpeakablePieces


def pieces_of(*deltas: str) -> list[str]:
    """Every piece of a reply streamed in ``deltas``, the rest last when there is one."""
    cutter = SpeakablePieces()
    pieces = [piece for delta in deltas for piece in cutter.add(delta)]
    rest = cutter.rest()
    return [*pieces, rest] if rest else pieces


def word_by_word(text: str) -> list[str]:
    deltas: list[str] = []
    for word in text.split(" "):
        deltas += [word, " "]
    return deltas[:-1]


def test_sentences_become_pieces_as_soon_as_they_end() -> None:
    cutter = SpeakablePieces()

    assert cutter.add("Hello, this is Northside") == []
    assert cutter.add(" Clinic.") == []  # "Clinic.5" may yet follow
    assert cutter.add(" How can I") == ["Hello, this is Northside Clinic. "]
    assert cutter.add(" help? I'm") == ["How can I help? "]
    assert cutter.rest() == "I'm"


def test_questions_exclamations_ellipses_and_quotes_end_sentences() -> None:
    text = 'Great! Is Tuesday fine? Well… maybe. She said "come back." Then she left.'

    assert pieces_of(*word_by_word(text)) == [
        "Great! ",
        "Is Tuesday fine? ",
        "Well… ",
        "maybe. ",
        'She said "come back." ',
        "Then she left.",
    ]


def test_a_line_break_ends_a_piece_and_blank_lines_join_the_next() -> None:
    assert pieces_of("Your options are\n\n- morning\n- afternoon") == [
        "Your options are\n",
        "\n- morning\n",
        "- afternoon",
    ]


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = "Yes. Dr. Patel and Mrs. J. Okafor, e.g. on Main St. at noon, can see you. Bye."

    assert pieces_of(text) == [
        "Yes. ",
        "Dr. Patel and Mrs. J. Okafor, e.g. on Main St. at noon, can see you. ",
        "Bye.",
    ]


def test_numbers_are_never_cut() -> None:
    text = "Take 2.5 ml at 10:30 each day.\n1. Water.\n2. Rest.\nDone."

    assert pieces_of(*text) == [
        "Take 2.5 ml at 10:30 each day.\n",
        "1. Water.\n",  # a list's number alone is not a piece
        "2. Rest.\n",
        "Done.",
    ]


def test_the_first_piece_ends_at_a_clause_once_it_has_a_few_words() -> None:
    text = "Sure, I can look that up for you, it will take a moment. Then, we can talk."

    assert pieces_of(*word_by_word(text)) == [
        "Sure, I can look that up for you, ",  # "Sure," alone is too short
        "it will take a moment. ",
        "Then, we can talk.",  # later pieces wait for the sentence's end
    ]


def test_a_long_sentence_is_cut_at_its_last_clause_in_reach() -> None:
    first = "Thanks for waiting. "
    clauses = [
        "Your appointment with the cardiologist is confirmed for the morning, ",
        "please bring your insurance card and a list of your medicines; ",
        "then come fifteen minutes early to fill in all of the forms at the front desk, ",
        "where someone will help you.",
    ]
    text = first + "".join(clauses)

    pieces = pieces_of(*word_by_word(text))

    # What is left once the sentence's end is in reach is one piece, its clause notwithstanding.
    assert pieces == [first, clauses[0], clauses[1], clauses[2] + clauses[3]]
    assert len(clauses[0] + clauses[1]) > LONG_CHARS
    assert len(clauses[1] + clauses[2]) > LONG_CHARS


def test_a_long_run_with_no_boundary_is_cut_at_a_space() -> None:
    text = "Okay. " + " ".join(["word"] * 100)

    pieces = pieces_of(text)

    assert pieces[0] == "Okay. "
    assert all(len(piece) <= MAX_CHARS and piece.endswith(" ") for piece in pieces[1:-1])
    assert "".join(pieces) == text


# Text that is mostly made of what the cutter looks at: marks, spaces, abbreviations, numbers.
reply_text = st.lists(
    st.sampled_from(
        [*"abc ,.;:!?…—\n\"')1", " Dr.", " e.g.", " 3.5", " 10:30", " J.", " word", " Hello"]
    ),
    max_size=120,
).map("".join)


@st.composite
def split_reply(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = draw(st.one_of(reply_text, st.text(max_size=400)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=20)))
    bounds = [0, *cuts, len(text)]
    return text, [text[start:end] for start, end in itertools.pairwise(bounds)]


@given(split_reply())
def test_pieces_and_rest_are_the_whole_reply(reply: tuple[str, list[str]]) -> None:
    text, deltas = reply
    cutter = SpeakablePieces()
    pieces = [piece for delta in deltas for piece in cutter.add(delta)]

    assert "".join(pieces) + cutter.rest() == text
    assert all(piece.strip() for piece in pieces)


@given(split_reply())
def test_where_pieces_end_does_not_depend_on_the_deltas(reply: tuple[str, list[str]]) -> None:
    text, deltas = reply

    assert pieces_of(*deltas) == pieces_of(text)
