# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# distutils: language = c++
"""Compiled inner loops of scoring: the per-character work Python does one object at a time.

Each function computes exactly what its pure-Python twin in app/features.py or app/evidence.py
computes, in the same order of floating-point operations, so the results are bit for bit the
same (tests/test_speedups.py compares the two on generated and real texts). The twins stay:
they are the definition, and the fallback where no C compiler built this module.
"""

from cpython.unicode cimport (
    Py_UNICODE_ISALNUM,
    Py_UNICODE_ISALPHA,
    Py_UNICODE_ISDIGIT,
    Py_UNICODE_ISLOWER,
    Py_UNICODE_ISSPACE,
    Py_UNICODE_ISTITLE,
    Py_UNICODE_ISUPPER,
)
from libc.stdlib cimport calloc, free, malloc
from libcpp.algorithm cimport sort

import numpy as np


def shape_counts(str text):
    """(letters, upper, digits, shouted words) of `text`, as `shape_features` counts them.

    Letters, upper and digits are str.isalpha/isupper/isdigit per character; a shouted word
    is a whitespace-separated word of at least three characters for which str.isupper is
    true (at least one cased character and none lower or title case).
    """
    cdef Py_ssize_t letters = 0, upper = 0, digits = 0, shout = 0
    cdef Py_ssize_t size = 0
    cdef bint cased = False, lowered = False
    cdef Py_UCS4 ch
    for ch in text:
        if Py_UNICODE_ISSPACE(ch):
            if size >= 3 and cased and not lowered:
                shout += 1
            size = 0
            cased = False
            lowered = False
            continue
        size += 1
        if Py_UNICODE_ISALPHA(ch):
            letters += 1
        if Py_UNICODE_ISUPPER(ch):
            upper += 1
            cased = True
        elif Py_UNICODE_ISLOWER(ch) or Py_UNICODE_ISTITLE(ch):
            lowered = True
        if Py_UNICODE_ISDIGIT(ch):
            digits += 1
    if size >= 3 and cased and not lowered:
        shout += 1
    return letters, upper, digits, shout


def evidence_scores(
    const long long[:] columns,
    const long long[:] starts,
    const long long[:] ends,
    const int[:] row_indices,
    const float[:] row_data,
    list weights,
    const long long[:] lower_index,
    tuple norm_starts,
    tuple norm_ends,
    long long low,
    long long high,
    const long long[:] first,
    const long long[:] last,
):
    """Per head and word, the summed contribution of the n-grams over the word's characters
    (app.evidence.evidence_scores, in one pass).

    Occurrence k (lowered characters starts[k]..ends[k], matrix column columns[k]) carries
    weight x the row's value at its column, split evenly over the occurrences of that
    column, then over its characters, then over the original characters each of those was
    normalised from (norm_starts/norm_ends through lower_index). Words are original spans
    first..last, relative to `low`. The sums run in the order of the numpy formulation
    (np.add.at over occurrences, characters, original characters; then a running sum), so
    the totals are the same doubles.
    """
    cdef Py_ssize_t heads = len(weights)
    cdef Py_ssize_t occurrences = columns.shape[0]
    cdef Py_ssize_t words = first.shape[0]
    cdef Py_ssize_t nnz = row_indices.shape[0]
    cdef Py_ssize_t span = high - low + 1
    cdef Py_ssize_t h, k, c, o, w, n, lo, hi, mid
    cdef long long orig_start, orig_width, column
    cdef double per_char, per_orig, running, value
    cdef const double[:] head_weights
    scores = np.zeros((heads, words), dtype=np.float64)
    cdef double[:, :] out = scores
    cdef long long* position = <long long*> malloc((occurrences if occurrences else 1) * sizeof(long long))
    cdef long long* tally = <long long*> calloc(nnz if nnz else 1, sizeof(long long))
    cdef double* totals = <double*> malloc(span * sizeof(double))
    cdef double* cumulative = <double*> malloc((span + 1) * sizeof(double))
    if position == NULL or tally == NULL or totals == NULL or cumulative == NULL:
        free(position)
        free(tally)
        free(totals)
        free(cumulative)
        raise MemoryError()
    try:
        # Where each occurrence's column sits in the (sorted) row, and how often it occurs.
        for k in range(occurrences):
            column = columns[k]
            lo = 0
            hi = nnz
            while lo < hi:
                mid = (lo + hi) // 2
                if row_indices[mid] < column:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < nnz and row_indices[lo] == column:
                position[k] = lo
                tally[lo] += 1
            else:
                position[k] = -1
        for h in range(heads):
            head_weights = weights[h]
            for o in range(span):
                totals[o] = 0.0
            for k in range(occurrences):
                if position[k] < 0:
                    # A column the row lacks has value 0: it adds nothing anywhere.
                    continue
                value = row_data[position[k]]
                per_char = (
                    head_weights[columns[k]] * value
                    / <double> tally[position[k]]
                    / <double> (ends[k] - starts[k])
                )
                for c in range(starts[k], ends[k]):
                    n = lower_index[c]
                    orig_start = <long long> norm_starts[n]
                    orig_width = <long long> norm_ends[n] - orig_start
                    if orig_width < 1:
                        orig_width = 1
                    per_orig = per_char / <double> orig_width
                    for o in range(orig_start - low, orig_start - low + orig_width):
                        totals[o] += per_orig
            running = 0.0
            cumulative[0] = 0.0
            for o in range(span):
                running += totals[o]
                cumulative[o + 1] = running
            for w in range(words):
                out[h, w] = cumulative[last[w]] - cumulative[first[w]]
    finally:
        free(position)
        free(tally)
        free(totals)
        free(cumulative)
    return scores


def word_columns(list tokens, dict vocabulary, list out):
    """Append to `out` the vocabulary columns of the tokens' unigrams, then bigrams (in
    `word_analyzer`'s order), skipping n-grams outside the vocabulary."""
    cdef Py_ssize_t i, n = len(tokens)
    cdef object column
    for i in range(n):
        column = vocabulary.get(tokens[i])
        if column is not None:
            out.append(column)
    for i in range(n - 1):
        column = vocabulary.get(f"{tokens[i]} {tokens[i + 1]}")
        if column is not None:
            out.append(column)


def count_rows(const int[:] flat, const long long[:] lengths, int n_columns):
    """CSR parts (indptr, indices, counts) of rows given as their columns in a row.

    Row r's columns are the next lengths[r] entries of `flat`; each row's distinct columns
    come out sorted with their counts, as scipy's duplicate summing gives them. A scratch
    array of n_columns counters, reset after each row, does the counting.
    """
    cdef Py_ssize_t rows = lengths.shape[0]
    cdef Py_ssize_t r, k, position = 0, distinct = 0, total = flat.shape[0]
    cdef int column
    indptr = np.zeros(rows + 1, dtype=np.int64)
    indices = np.empty(total, dtype=np.int32)
    counts = np.empty(total, dtype=np.float32)
    cdef long long[:] indptr_view = indptr
    cdef int[:] indices_view = indices
    cdef float[:] counts_view = counts
    cdef int* tally = <int*> calloc(n_columns if n_columns > 0 else 1, sizeof(int))
    if tally == NULL:
        raise MemoryError()
    cdef Py_ssize_t row_start
    try:
        for r in range(rows):
            row_start = distinct
            for k in range(position, position + lengths[r]):
                column = flat[k]
                if column < 0 or column >= n_columns:
                    raise IndexError(f"column {column} is outside 0..{n_columns - 1}")
                if tally[column] == 0:
                    indices_view[distinct] = column
                    distinct += 1
                tally[column] += 1
            position += lengths[r]
            if distinct - row_start > 1:
                sort(&indices_view[row_start], &indices_view[row_start] + (distinct - row_start))
            for k in range(row_start, distinct):
                counts_view[k] = tally[indices_view[k]]
                tally[indices_view[k]] = 0
            indptr_view[r + 1] = distinct
    finally:
        free(tally)
    return indptr, indices[:distinct].copy(), counts[:distinct].copy()


cdef inline bint _is_word(Py_UCS4 ch) noexcept:
    # re's \w for str patterns: str.isalnum() or the underscore.
    return Py_UNICODE_ISALNUM(ch) or ch == u"_"


def word_token_spans(str text):
    """(token, start, end) of every match of app.features.WORD_RE in `text`, in order:
    runs of word characters joined by single apostrophes, and runs of ! and ?."""
    cdef Py_ssize_t i = 0, n = len(text), start
    cdef Py_UCS4 ch
    tokens = []
    while i < n:
        ch = text[i]
        if _is_word(ch):
            start = i
            i += 1
            while i < n and _is_word(text[i]):
                i += 1
            while i + 1 < n and (text[i] == u"'" or text[i] == u"\u2019") and _is_word(text[i + 1]):
                i += 2
                while i < n and _is_word(text[i]):
                    i += 1
            tokens.append((text[start:i], start, i))
        elif ch == u"!" or ch == u"?":
            start = i
            i += 1
            while i < n and (text[i] == u"!" or text[i] == u"?"):
                i += 1
            tokens.append((text[start:i], start, i))
        else:
            i += 1
    return tokens


def word_gram_spans(str lowered, dict vocabulary, list columns, list starts, list ends):
    """Append the column, start and end of each in-vocabulary word n-gram of `lowered`
    (unigrams, then bigrams: `word_grams_with_spans`' order)."""
    tokens = word_token_spans(lowered)
    cdef Py_ssize_t i, n = len(tokens)
    cdef object column
    for i in range(n):
        token = tokens[i]
        column = vocabulary.get(token[0])
        if column is not None:
            columns.append(column)
            starts.append(token[1])
            ends.append(token[2])
    for i in range(n - 1):
        token = tokens[i]
        after = tokens[i + 1]
        column = vocabulary.get(f"{token[0]} {after[0]}")
        if column is not None:
            columns.append(column)
            starts.append(token[1])
            ends.append(after[2])


def char_gram_spans(str lowered, dict known, object remember):
    """Column, start and end arrays of the char n-grams of `lowered`'s words, from each
    word's remembered (columns, starts, ends) int64 bytes, which `remember(word)` makes
    and stores when `known` lacks them; starts and ends are moved to where the word is."""
    cdef Py_ssize_t i = 0, n = len(lowered), start, total = 0, k, k2, count, at = 0
    cdef long long[:] column_view, start_view, end_view
    cdef const long long* part_columns
    cdef const long long* part_starts
    cdef const long long* part_ends
    cdef bytes packed
    found = []
    offsets = []
    while i < n:
        if Py_UNICODE_ISSPACE(lowered[i]):
            i += 1
            continue
        start = i
        while i < n and not Py_UNICODE_ISSPACE(lowered[i]):
            i += 1
        word = lowered[start:i]
        parts = known.get(word)
        if parts is None:
            parts = remember(word)
        found.append(parts)
        offsets.append(start)
        total += len(parts[0]) // 8
    columns = np.empty(total, dtype=np.int64)
    starts = np.empty(total, dtype=np.int64)
    ends = np.empty(total, dtype=np.int64)
    column_view = columns
    start_view = starts
    end_view = ends
    for k in range(len(found)):
        parts = found[k]
        start = offsets[k]
        packed = parts[0]
        part_columns = <const long long*> (<const char*> packed)
        count = len(packed) // 8
        packed = parts[1]
        part_starts = <const long long*> (<const char*> packed)
        packed = parts[2]
        part_ends = <const long long*> (<const char*> packed)
        for k2 in range(count):
            column_view[at] = part_columns[k2]
            start_view[at] = part_starts[k2] + start
            end_view[at] = part_ends[k2] + start
            at += 1
    return columns, starts, ends
