"""Sentence windows of a comment, so one hateful line cannot hide behind polite ones.

A linear head scores a text by the sum of its n-grams' weights divided by the text's length
(TF-IDF rows are L2-normalised), so "Thanks for the article. Jews are vermin." scores lower
than its second sentence alone. The scorer therefore also scores each sentence and takes
the highest score. Quoted speech stays inside the sentence that quotes it ("Saying 'X are
vermin.' is vile" is one sentence), so counter-speech keeps its frame.

Windows are spans of the normalised text. A long comment is cut into at most
`MAX_WINDOWS` windows of neighbouring sentences, which bounds the extra work per comment.
"""

from __future__ import annotations

import re

from app.textnorm import Normalised

MAX_WINDOWS = 16
# A sentence ends at . ! ? (or a run of them, or an ellipsis) before whitespace, or at a
# line break. Closing quotes and brackets after the mark belong to the sentence.
_END_RE = re.compile(r"(?:[.!?…]++[\"'”’)\]]*+(?=\s)|\n++)")
_OPEN_QUOTES = {'"': '"', "“": "”", "«": "»"}
# Words whose full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc eg ie e.g i.e no vol fig approx dept gen sen rep gov "
    "inc ltd co corp mt ave u.s u.k a.m p.m".split()
)
_WORD_BEFORE_RE = re.compile(r"([\w.]+)[.]$")
_QUOTE_RE = re.compile("[" + "".join(sorted({*_OPEN_QUOTES, *_OPEN_QUOTES.values()})) + "]")
# str.isalnum characters: \w without the underscore.
_ALNUM_RE = re.compile(r"[^\W_]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, whitespace trimmed; [] for one sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    quote: str | None = None
    quote_pos = 0
    for match in _END_RE.finditer(text):
        end = match.end()
        # Inside an open double quote, a full stop ends the quoted sentence, not ours.
        quote, quote_pos = _quote_state(text, quote, quote_pos, match.start())
        if quote is not None:
            continue
        if match.group()[0] == "." and _is_abbreviation(text[start : match.start() + 1]):
            continue
        _add(spans, text, start, end)
        start = end
    _add(spans, text, start, len(text))
    return spans if len(spans) > 1 else []


def windows(text: str, limit: int = MAX_WINDOWS) -> list[tuple[int, int]]:
    """`sentence_spans`, merged into at most `limit` windows of neighbouring sentences."""
    spans = sentence_spans(text)
    if len(spans) <= limit:
        return spans
    size = -(-len(spans) // limit)
    return [
        (spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in range(0, len(spans), size)
    ]


def _quote_state(text: str, quote: str | None, pos: int, upto: int) -> tuple[str | None, int]:
    """Whether a double quote is open at `upto`, scanning on from `pos`."""
    # Only quote characters change the state, so only they are visited.
    for found in _QUOTE_RE.finditer(text, pos, upto):
        char = found.group()
        if quote is None:
            if char in _OPEN_QUOTES:
                quote = _OPEN_QUOTES[char]
        elif char == quote:
            quote = None
    # A quote left open for a whole paragraph was an apostrophe-like stray: stop honouring it.
    if quote is not None and text.find("\n", pos, upto) != -1:
        quote = None
    return quote, upto


def _is_abbreviation(sentence: str) -> bool:
    found = _WORD_BEFORE_RE.search(sentence)
    if found is None:
        return False
    word = found.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and _ALNUM_RE.search(text, start, end) is not None:
        spans.append((start, end))


def window_maps(normalised: Normalised, limit: int = MAX_WINDOWS) -> list[Normalised]:
    """The sentence windows of a normalised text, each with the offset map of its slice.

    A window's map still points into the whole original text, so evidence found in a
    window lands on the original characters it came from.
    """
    text, starts, ends = normalised.text, normalised.starts, normalised.ends
    return [Normalised(text[a:b], starts[a:b], ends[a:b]) for a, b in windows(text, limit)]


def original_slice(original: str, window: Normalised) -> str:
    """The original characters a window was normalised from (for case and shape features)."""
    if not window.text:
        return ""
    return original[window.starts[0] : window.ends[-1]]
