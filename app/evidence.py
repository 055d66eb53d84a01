"""Evidence for a flag: the words of the original text that pushed a linear head's score up.

Each n-gram feature's contribution (weight x TF-IDF value) is spread over the normalised
characters it covers, carried back to the original characters through the normaliser's
offset map, and summed per original word. So "k1ke" is credited for the "kike" n-grams it
was normalised to, and an inserted marker token credits the coded form that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from app.features import (
    TextFeatures,
    char_grams_with_spans,
    cross_column,
    cross_grams_with_spans,
    lower_with_map,
    word_grams_with_spans,
)
from app.textnorm import Normalised

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
    return evidence_by_head(features, text, row, {"head": weights}, top=top)["head"]


def evidence_by_head(
    features: TextFeatures,
    text: str,
    row: sp.csr_matrix,
    weights: Mapping[str, np.ndarray],
    *,
    top: int = 5,
    normalised: Normalised | None = None,
) -> dict[str, list[Evidence]]:
    """`evidence` for several heads of one text, normalising and splitting it into n-grams once.

    Pass `normalised` when the caller already normalised `text` (the scorer does).
    """
    if normalised is None:
        normalised = features.normalise_one(text)
    lowered, lower_index = lower_with_map(normalised.text)
    columns, starts, ends = _gram_columns(features, lowered)
    row = row.tocsr()
    dense = np.zeros(features.n_features, dtype=np.float64)
    dense[row.indices] = row.data
    word_starts, word_ends = _word_spans(text)
    found: dict[str, list[Evidence]] = {}
    if len(columns) == 0 or not word_starts:
        return {head: [] for head in weights}
    # Each feature's contribution is split evenly over its occurrences, then over the
    # characters each occurrence covers.
    _, inverse, counts = np.unique(columns, return_inverse=True, return_counts=True)
    widths = ends - starts
    char_index = np.repeat(starts, widths) + _ramp(widths)
    norm_of_low = np.asarray(lower_index, dtype=np.int64)[char_index]
    orig_start = np.asarray(normalised.starts, dtype=np.int64)[norm_of_low]
    orig_width = np.maximum(
        np.asarray(normalised.ends, dtype=np.int64)[norm_of_low] - orig_start, 1
    )
    orig_index = np.repeat(orig_start, orig_width) + _ramp(orig_width)
    for head, head_weights in weights.items():
        contribution = head_weights[: len(dense)][columns] * dense[columns]
        per_char = np.repeat(contribution / counts[inverse] / widths, widths)
        per_orig = np.repeat(per_char / orig_width, orig_width)
        totals = np.zeros(len(text) + 1, dtype=np.float64)
        np.add.at(totals, orig_index, per_orig)
        cumulative = np.concatenate([[0.0], np.cumsum(totals)])
        scores = cumulative[word_ends] - cumulative[word_starts]
        order = np.lexsort((word_starts, -scores))
        items = [
            Evidence(
                text[word_starts[i] : word_ends[i]],
                int(word_starts[i]),
                int(word_ends[i]),
                round(float(scores[i]), 4),
            )
            for i in order[:top]
            if scores[i] > 0.0
        ]
        found[head] = items
    return found


def _ramp(widths: np.ndarray) -> np.ndarray:
    """0..w-1 for each width w, concatenated (positions inside each repeated span)."""
    total = int(widths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(widths) - widths, widths)
    ramp: np.ndarray = np.arange(total, dtype=np.int64) - offsets
    return ramp


def _gram_columns(
    features: TextFeatures, lowered: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matrix column, start and end of every in-vocabulary n-gram occurrence of `lowered`."""
    columns: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    blocks = features.blocks_
    for grams, vocabulary, offset in (
        (word_grams_with_spans(lowered), features.word_.vocabulary_, blocks.word.start),
        (char_grams_with_spans(lowered), features.char_.vocabulary_, blocks.char.start),
    ):
        for gram, start, end in grams:
            index = vocabulary.get(gram)
            if index is not None and end > start:
                columns.append(index + offset)
                starts.append(start)
                ends.append(end)
    if blocks.cross is not None:
        # A cross token ("g|vermin") is credited to the word it crosses.
        for gram, start, end in cross_grams_with_spans(lowered):
            columns.append(blocks.cross.start + cross_column(gram))
            starts.append(start)
            ends.append(end)
    return (
        np.asarray(columns, dtype=np.int64),
        np.asarray(starts, dtype=np.int64),
        np.asarray(ends, dtype=np.int64),
    )


def _word_spans(text: str) -> tuple[list[int], list[int]]:
    """Start and end of each whitespace-separated word, quotes and sentence marks trimmed."""
    starts: list[int] = []
    ends: list[int] = []
    for match in _WORD_SPAN_RE.finditer(text):
        start, end = match.start(), match.end()
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if start < end:
            starts.append(start)
            ends.append(end)
    return starts, ends
