"""Sentence windows: where comments are cut, what quotes keep together, and the bound."""

from __future__ import annotations

import pytest

from app.sentences import MAX_WINDOWS, original_slice, sentence_spans, window_maps, windows
from app.textnorm import normalise


def pieces(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Thanks for the article. Jews are vermin.",
            ["Thanks for the article.", "Jews are vermin."],
        ),
        ("Wow!! Really? Yes.", ["Wow!!", "Really?", "Yes."]),
        ("first line\nsecond line", ["first line", "second line"]),
        ("Mr. Smith went home. He slept.", ["Mr. Smith went home.", "He slept."]),
        ("The U.S. is big. So is Canada.", ["The U.S. is big.", "So is Canada."]),
    ],
)
def test_sentences_end_at_marks_and_line_breaks(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


def test_a_quoted_sentence_stays_inside_the_sentence_that_quotes_it() -> None:
    text = 'Saying "Jews are vermin. They must go." is vile. Report it.'
    assert pieces(text) == ['Saying "Jews are vermin. They must go." is vile.', "Report it."]


def test_one_sentence_and_nonsense_give_no_windows() -> None:
    for text in ("Just one sentence here", "", "...", "!!! ???", "ok."):
        assert sentence_spans(text) == []


def test_long_comments_are_cut_into_a_bounded_number_of_windows() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(100))
    cut = windows(text)
    assert MAX_WINDOWS // 2 < len(cut) <= MAX_WINDOWS
    assert cut[0][0] == 0 and cut[-1][1] == len(text)
    assert all(a < b for a, b in cut)
    assert all(cut[i][1] < cut[i + 1][0] for i in range(len(cut) - 1))


def test_window_maps_point_into_the_original_text() -> None:
    original = "Nice post. Th\u0435 j\u0435ws are v e r m i n!"  # Cyrillic e, spaced letters
    normalised = normalise(original)
    maps = window_maps(normalised)
    assert [m.text for m in maps] == ["Nice post.", "The jews are vermin!"]
    second = maps[1]
    assert original_slice(original, second) == original[11:]
    start, end = second.span(0, len(second.text))
    assert original[start:end] == original[11:]
