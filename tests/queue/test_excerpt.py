"""The list's excerpt: the sentences with the evidence, whatever their place in the text."""

from __future__ import annotations

from typing import Any

from app.queue.excerpt import EXCERPT_CHARS, excerpt, excerpt_windows

FILLER = "The meeting was about parking and the bus timetable again. " * 12


def _evidence(text: str, word: str, head: str = "hate", weight: float = 0.8) -> dict[str, Any]:
    start = text.index(word)
    return {head: [{"text": word, "start": start, "end": start + len(word), "weight": weight}]}


def test_a_short_comment_is_shown_whole() -> None:
    text = "Short and vile."
    assert excerpt(text, excerpt_windows(text, None, ["hate"]), None, ["hate"]) == (text, [])


def test_the_evidence_sentence_is_shown_when_it_comes_last() -> None:
    text = FILLER + "Then they said the vermin should leave. The end."
    evidence = _evidence(text, "vermin")
    shown, marks = excerpt(text, excerpt_windows(text, evidence, ["hate"]), evidence, ["hate"])
    assert shown == "… Then they said the vermin should leave. …"
    [mark] = marks
    assert shown[mark["start"] : mark["end"]] == "vermin" and mark["head"] == "hate"


def test_sentences_are_taken_by_weight_and_shown_in_text_order() -> None:
    text = "Idiots everywhere. " + FILLER + "Vermin, all of them."
    evidence = {
        "toxic": [{"start": 0, "end": 6, "weight": 0.4}],
        "hate": [{"start": text.index("Vermin"), "end": text.index("Vermin") + 6, "weight": 0.9}],
    }
    shown, marks = excerpt(
        text, excerpt_windows(text, evidence, ["hate", "toxic"]), evidence, ["hate", "toxic"]
    )
    assert shown.startswith("Idiots everywhere. …") and shown.endswith("Vermin, all of them.")
    assert [shown[m["start"] : m["end"]] for m in marks] == ["Idiots", "Vermin"]


def test_one_long_sentence_is_cut_around_its_strongest_word() -> None:
    text = "and " * 150 + "vermin " + "and " * 150
    evidence = _evidence(text, "vermin")
    [(start, end)] = excerpt_windows(text, evidence, ["hate"])
    assert start <= text.index("vermin") < end and end - start <= EXCERPT_CHARS


def test_without_evidence_the_opening_is_shown_cut_at_a_word() -> None:
    shown, marks = excerpt(FILLER, excerpt_windows(FILLER, None, ["hate"]), None, ["hate"])
    assert shown.endswith("…") and len(shown) <= EXCERPT_CHARS + 2 and marks == []
    assert FILLER.startswith(shown.removesuffix(" …"))


def test_evidence_outside_the_text_is_ignored() -> None:
    text = FILLER + "Bad words."
    evidence = {"hate": [{"start": 5, "end": 10_000, "weight": 1.0}, {"start": "x", "end": 3}]}
    shown, marks = excerpt(text, excerpt_windows(text, evidence, ["hate"]), evidence, ["hate"])
    assert marks == [] and shown.endswith("…")
