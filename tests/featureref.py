"""The feature and evidence arithmetic as it was before the compiled path: the definition the
fast path is held to, bit for bit (tests/test_speedups.py).

Plain Python, one dict per row, one n-gram at a time; slow on purpose and never imported by
app/.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from app.features import (
    CROSS_FEATURES,
    GROUP_TERMS_RE,
    SHAPES,
    TextFeatures,
    char_analyzer,
    cross_grams_with_spans,
    shape_features,
    word_analyzer,
)


def reference_rows(
    vectorizer: TfidfVectorizer, texts: list[str], analyzer: object
) -> sp.csr_matrix:
    """TF-IDF rows counted with a dict per row (sublinear tf, IDF, l2, float32)."""
    assert callable(analyzer)
    indptr = [0]
    indices: list[int] = []
    counts: list[int] = []
    for text in texts:
        row: dict[int, int] = {}
        for gram in analyzer(text):
            column = vectorizer.vocabulary_.get(gram)
            if column is not None:
                row[column] = row.get(column, 0) + 1
        ordered = sorted(row)
        indices.extend(ordered)
        counts.extend(row[c] for c in ordered)
        indptr.append(len(indices))
    columns = np.asarray(indices, dtype=np.int32)
    data = np.log(np.asarray(counts, dtype=np.float32)) + np.float32(1.0)
    data *= vectorizer.idf_.astype(np.float32)[columns]
    bounds = np.asarray(indptr, dtype=np.int64)
    lengths = np.diff(bounds)
    if len(data):
        squares = np.add.reduceat(data.astype(np.float64) ** 2, bounds[:-1][lengths > 0])
        norms = np.ones(len(texts), dtype=np.float64)
        norms[lengths > 0] = np.sqrt(squares)
        data = (data / np.repeat(norms, lengths)).astype(np.float32)
    return sp.csr_matrix((data, columns, bounds), shape=(len(texts), len(vectorizer.vocabulary_)))


def reference_cross(normalised: list[str]) -> sp.csr_matrix:
    """The cross block counted with a dict per row and hashed gram by gram."""
    from sklearn.utils import murmurhash3_32

    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for text in normalised:
        row: dict[int, int] = {}
        for gram, _, _ in reference_cross_grams(text.lower()):
            column = int(murmurhash3_32(gram, seed=0, positive=True)) % CROSS_FEATURES
            row[column] = row.get(column, 0) + 1
        ordered = sorted(row)
        values = np.asarray([row[c] for c in ordered], dtype=np.float64)
        norm = float(np.sqrt((values**2).sum())) or 1.0
        indices.extend(ordered)
        data.extend((values / norm).tolist())
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
        shape=(len(normalised), CROSS_FEATURES),
    )


def reference_cross_grams(lowered: str) -> list[tuple[str, int, int]]:
    """`cross_grams_with_spans` without its shortcuts: every window searched with the
    group pattern itself."""
    import app.features as features

    real = features.names_group
    features.names_group = lambda text, start=0, end=None: (  # type: ignore[assignment]
        GROUP_TERMS_RE.search(text, start, len(text) if end is None else end) is not None
    )
    try:
        return cross_grams_with_spans(lowered)
    finally:
        features.names_group = real


def reference_shape(text: str) -> list[float]:
    """Shape version 2: version 1's seven, counted character by character with str
    methods, and the three word counts."""
    import math

    from app.features import _LETTERED_WORD_RE

    letters = sum(c.isalpha() for c in text)
    lettered = len(_LETTERED_WORD_RE.findall(text))
    return [
        *shape_features(text),
        math.log1p(lettered),
        0.0 if letters else 1.0,
        1.0 if lettered == 1 else 0.0,
    ]


def reference_transform(features: TextFeatures, texts: list[str]) -> sp.csr_matrix:
    """`TextFeatures.transform` as it was computed before the compiled path."""
    normalised = features.normalise_all(texts)
    assert features.shape_version == 2
    names, _ = SHAPES[2]
    shapes = (
        np.array([reference_shape(t) for t in normalised], dtype=np.float64).reshape(
            len(texts), len(names)
        )
        - features.shape_mean_
    ) / features.shape_scale_
    blocks = [
        reference_rows(features.word_, normalised, word_analyzer),
        reference_rows(features.char_, normalised, char_analyzer),
        sp.csr_matrix(shapes.astype(np.float32)),
    ]
    if features.cross_version:
        blocks.append(reference_cross(normalised))
    return sp.hstack(blocks, format="csr")
