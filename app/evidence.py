"""Evidence for a flag: the words of the original text that pushed a linear head's score up.

Each n-gram feature's contribution (weight x TF-IDF value) is spread over the normalised
characters it covers, carried back to the original characters through the normaliser's
offset map, and summed per original word. So "k1ke" is credited for the "kike" n-grams it
was normalised to, and an inserted marker token credits the coded form that caused it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from app.features import (
    TextFeatures,
    char_grams_with_spans,
    lower_with_map,
    word_grams_with_spans,
)

_WORD_SPAN_RE = re.compile(r"\S+")
_TRIM = ".,;:\"'“”‘’"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One word of the original text and how much it raised a head's score (in logits)."""

    text: str
    start: int
    end: int
    weight: float

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {"text": self.text, "start": self.start, "end": self.end, "weight": self.weight}


def evidence(
    features: TextFeatures,
    text: str,
    row: sp.csr_matrix,
    weights: np.ndarray,
    *,
    top: int = 5,
) -> list[Evidence]:
    """The `top` words of `text` with the largest positive contribution to a linear score.

    `row` is the text's 1 x n feature row and `weights` the head's weights over the same
    columns; only the word and char blocks are attributed (shape features are not words).
    """
    normalised = features.normalise_one(text)
    lowered, lower_index = lower_with_map(normalised.text)
    per_char = np.zeros(len(lowered), dtype=np.float64)
    row = row.tocsr()
    values = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
    blocks = features.blocks_
    _spread(
        per_char,
        word_grams_with_spans(lowered),
        features.word_.vocabulary_,
        blocks.word.start,
        values,
        weights,
    )
    _spread(
        per_char,
        char_grams_with_spans(lowered),
        features.char_.vocabulary_,
        blocks.char.start,
        values,
        weights,
    )
    per_original = np.zeros(len(text) + 1, dtype=np.float64)
    for low_i, amount in enumerate(per_char):
        if amount == 0.0:
            continue
        norm_i = lower_index[low_i]
        start, end = normalised.starts[norm_i], normalised.ends[norm_i]
        width = max(end - start, 1)
        per_original[start : start + width] += amount / width
    found: list[Evidence] = []
    for match in _WORD_SPAN_RE.finditer(text):
        start, end = match.start(), match.end()
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if start == end:
            continue
        score = float(per_original[start:end].sum())
        if score > 0.0:
            found.append(Evidence(text[start:end], start, end, round(score, 4)))
    found.sort(key=lambda item: (-item.weight, item.start))
    return found[:top]


def _spread(
    per_char: np.ndarray,
    grams: list[tuple[str, int, int]],
    vocabulary: dict[str, int],
    offset: int,
    values: dict[int, float],
    weights: np.ndarray,
) -> None:
    """Add each known gram's contribution, split over its occurrences and their characters."""
    occurrences: dict[int, list[tuple[int, int]]] = {}
    for gram, start, end in grams:
        index = vocabulary.get(gram)
        if index is not None and end > start:
            occurrences.setdefault(index + offset, []).append((start, end))
    for column, spans in occurrences.items():
        contribution = weights[column] * values.get(column, 0.0)
        if contribution == 0.0:
            continue
        share = contribution / len(spans)
        for start, end in spans:
            per_char[start:end] += share / (end - start)
