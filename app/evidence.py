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
    cross_column,
    cross_grams_with_spans,
    lower_with_map,
    word_grams_with_spans,
)
from app.speedups import compiled
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
    entries = row_entries(row)
    return evidence_by_head(features, text, entries, {"head": weights}, top=top)["head"]


def row_entries(row: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The columns and values of a 1 x n sparse row."""
    csr = row.tocsr()
    return csr.indices, csr.data


def evidence_by_head(
    features: TextFeatures,
    text: str,
    row: tuple[np.ndarray, np.ndarray],
    weights: Mapping[str, np.ndarray],
    *,
    top: int = 5,
    normalised: Normalised | None = None,
) -> dict[str, list[Evidence]]:
    """`evidence` for several heads of one text, normalising and splitting it into n-grams once.

    `row` is the text's feature row as its columns and values (`row_entries`). Pass
    `normalised` when the caller already normalised `text` (the scorer does).
    """
    if normalised is None:
        normalised = features.normalise_one(text)
    lowered, lower_index = lower_with_map(normalised.text)
    columns, starts, ends = _gram_columns(features, lowered)
    # Only the original characters this (window's) text came from can get credit.
    low, high = (normalised.starts[0], normalised.ends[-1]) if normalised.text else (0, 0)
    word_starts, word_ends = _word_spans(text, low, high)
    if len(columns) == 0 or not word_starts:
        return {head: [] for head in weights}
    first = np.asarray(word_starts, dtype=np.int64) - low
    last = np.asarray(word_ends, dtype=np.int64) - low
    indices, data = row
    scores = _evidence_scores(
        columns,
        starts,
        ends,
        np.ascontiguousarray(indices, dtype=np.int32),
        np.ascontiguousarray(data, dtype=np.float32),
        [np.ascontiguousarray(w, dtype=np.float64) for w in weights.values()],
        np.asarray(lower_index, dtype=np.int64),
        normalised.starts,
        normalised.ends,
        low,
        high,
        first,
        last,
    )
    found: dict[str, list[Evidence]] = {}
    for head, head_scores in zip(weights, scores, strict=True):
        order = np.lexsort((first, -head_scores))
        found[head] = [
            Evidence(
                text[word_starts[i] : word_ends[i]],
                int(word_starts[i]),
                int(word_ends[i]),
                round(float(head_scores[i]), 4),
            )
            for i in order[:top]
            if head_scores[i] > 0.0
        ]
    return found


def evidence_scores(
    columns: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    row_indices: np.ndarray,
    row_data: np.ndarray,
    weights: list[np.ndarray],
    lower_index: np.ndarray,
    norm_starts: tuple[int, ...],
    norm_ends: tuple[int, ...],
    low: int,
    high: int,
    first: np.ndarray,
    last: np.ndarray,
) -> np.ndarray:
    """Heads x words: how much each word of the original text raised each head's score.

    Occurrence k of an n-gram (matrix column columns[k], lowered characters
    starts[k]:ends[k]) contributes the head's weight times the row's value at that column.
    Each feature's contribution is split evenly over its occurrences, then over the
    characters each occurrence covers, then over the original characters each one was
    normalised from (norm_starts/norm_ends through lower_index). Words are the original
    spans first:last, relative to `low` (the window's first original character). The
    compiled twin (app/_speedups.pyx) does the same arithmetic in one pass.
    """
    values = _row_values(row_indices, row_data, columns)
    _, inverse, counts = np.unique(columns, return_inverse=True, return_counts=True)
    shares = counts[inverse].astype(np.int64)
    widths = ends - starts
    char_index = np.repeat(starts, widths) + _ramp(widths)
    norm_of_low = lower_index[char_index]
    orig_start = np.asarray(norm_starts, dtype=np.int64)[norm_of_low]
    orig_width = np.maximum(np.asarray(norm_ends, dtype=np.int64)[norm_of_low] - orig_start, 1)
    orig_index = np.repeat(orig_start, orig_width) + _ramp(orig_width) - low
    scores = np.zeros((len(weights), len(first)), dtype=np.float64)
    for h, head_weights in enumerate(weights):
        head_contribution = head_weights[columns] * values
        per_char = np.repeat(head_contribution / shares / widths, widths)
        per_orig = np.repeat(per_char / orig_width, orig_width)
        totals = np.zeros(high - low + 1, dtype=np.float64)
        np.add.at(totals, orig_index, per_orig)
        cumulative = np.concatenate([[0.0], np.cumsum(totals)])
        scores[h] = cumulative[last] - cumulative[first]
    return scores


_evidence_scores = compiled("evidence_scores", evidence_scores)


def _row_values(indices: np.ndarray, data: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The value of a row (its sorted `indices` and `data`) at each of `columns` (0 where
    the row has none)."""
    if len(indices) == 0:
        return np.zeros(len(columns), dtype=np.float64)
    if np.any(indices[1:] < indices[:-1]):
        order = np.argsort(indices, kind="stable")
        indices, data = indices[order], data[order]
    at = np.minimum(np.searchsorted(indices, columns), len(indices) - 1)
    values: np.ndarray = np.where(indices[at] == columns, data[at].astype(np.float64), 0.0)
    return values


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
    _word_gram_spans(lowered, features.word_.vocabulary_, columns, starts, ends)
    char_columns, char_starts, char_ends = features.char_spans(lowered)
    cross_columns: list[int] = []
    cross_starts: list[int] = []
    cross_ends: list[int] = []
    if blocks.cross is not None:
        # A cross token ("g|vermin") is credited to the word it crosses.
        for gram, start, end in cross_grams_with_spans(lowered):
            cross_columns.append(blocks.cross.start + cross_column(gram))
            cross_starts.append(start)
            cross_ends.append(end)
    # Word, char, cross: the order the occurrences are summed in, as before the char
    # block was remembered per word (float sums depend on it).
    return (
        np.concatenate(
            [
                _ints(columns) + blocks.word.start,
                char_columns + blocks.char.start,
                _ints(cross_columns),
            ]
        ),
        np.concatenate([_ints(starts), char_starts, _ints(cross_starts)]),
        np.concatenate([_ints(ends), char_ends, _ints(cross_ends)]),
    )


def word_gram_spans(
    lowered: str,
    vocabulary: dict[str, int],
    columns: list[int],
    starts: list[int],
    ends: list[int],
) -> None:
    """Append the column, start and end of each in-vocabulary word n-gram of `lowered`."""
    for gram, start, end in word_grams_with_spans(lowered):
        index = vocabulary.get(gram)
        if index is not None and end > start:
            columns.append(index)
            starts.append(start)
            ends.append(end)


_word_gram_spans = compiled("word_gram_spans", word_gram_spans)


def _ints(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _word_spans(text: str, low: int, high: int) -> tuple[list[int], list[int]]:
    """Start and end of each whitespace-separated word of text[low:high], quotes and
    sentence marks trimmed."""
    starts: list[int] = []
    ends: list[int] = []
    for match in _WORD_SPAN_RE.finditer(text, low, high):
        start, end = match.start(), match.end()
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if start < end:
            starts.append(start)
            ends.append(end)
    return starts, ends
