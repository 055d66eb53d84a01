"""What a trained bundle holds: the shared text features and one fitted estimator per head.

Training (in `training/`) fits these; `app/` only reads them. The matrices each head reads
are built here, by the same functions at training and scoring time, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from app.features import TextFeatures, cross_topic_matrix, row_cosine

BINARY_HEADS = ("hate", "toxic", "conspiracy")
HATE_TARGETS = (
    "jewish",
    "muslim",
    "christian",
    "black",
    "asian",
    "arab",
    "hispanic",
    "roma",
    "immigrant",
    "women",
    "lgbtq",
    "disability",
    "other",
)
STANCE_LABELS = ("favor", "against", "none")
REPLY_LABELS = ("agree", "disagree", "query", "comment")
LABEL_SCHEMA = {
    "version": 1,
    "hate": {"kind": "binary", "target": list(HATE_TARGETS)},
    "toxic": {"kind": "binary"},
    "conspiracy": {"kind": "binary"},
    "stance": {"kind": "multiclass", "labels": list(STANCE_LABELS), "needs": "topic"},
    "reply_stance": {"kind": "multiclass", "labels": list(REPLY_LABELS), "needs": "parent_text"},
}


@dataclass
class Bundle:
    """The pickled object in `model.joblib`.

    `binary` maps each binary head to a classifier over the full `features` matrix;
    `hate_target` reads only the word block; `stance` and `reply_stance` read the matrices
    of `stance_matrix` and `reply_matrix`. Every estimator has `predict_proba` and `classes_`.
    """

    features: TextFeatures
    binary: dict[str, Any]
    hate_target: Any
    stance: Any
    reply_stance: Any
    stance_topics: frozenset[str] = field(default_factory=frozenset)


def stance_matrix(
    bundle_features: TextFeatures,
    text_matrix: sp.csr_matrix,
    topic_matrix: sp.csr_matrix,
    normalised: Sequence[str],
    topics: Sequence[str],
    known_topics: frozenset[str],
) -> sp.csr_matrix:
    """Text features | topic x word crosses | cosine(text, topic) over the word block."""
    words = bundle_features.blocks_.word
    similarity = row_cosine(text_matrix[:, words], topic_matrix[:, words])
    return sp.hstack(
        [
            text_matrix,
            cross_topic_matrix(normalised, topics, known_topics),
            sp.csr_matrix(similarity.reshape(-1, 1).astype(np.float32)),
        ],
        format="csr",
    )


def reply_matrix(
    bundle_features: TextFeatures, child_matrix: sp.csr_matrix, parent_matrix: sp.csr_matrix
) -> sp.csr_matrix:
    """Reply features | parent's word block | cosine(reply, parent) over the word block."""
    words = bundle_features.blocks_.word
    parent_words = parent_matrix[:, words]
    similarity = row_cosine(child_matrix[:, words], parent_words)
    return sp.hstack(
        [
            child_matrix,
            parent_words,
            sp.csr_matrix(similarity.reshape(-1, 1).astype(np.float32)),
        ],
        format="csr",
    )


def linear_weights(estimator: Any, class_index: int = 1) -> np.ndarray:
    """The weights a (possibly calibrated) linear classifier gives each column for one class.

    A calibrated classifier wraps exactly one linear model (frozen, calibrated on held-out
    rows); the calibration map is monotone, so its weights still say what pushed the score up.
    """
    inner = estimator
    calibrated = getattr(estimator, "calibrated_classifiers_", None)
    if calibrated:
        inner = calibrated[0].estimator
    # A calibrator fitted on held-out rows wraps the linear model in a FrozenEstimator.
    while not hasattr(inner, "coef_") and hasattr(inner, "estimator"):
        inner = inner.estimator
    coef: np.ndarray = np.asarray(inner.coef_, dtype=np.float64)
    if coef.shape[0] == 1:
        # Binary linear models keep one row: the weights of classes_[1].
        row: np.ndarray = coef[0] if class_index == 1 else -coef[0]
        return row
    picked: np.ndarray = coef[class_index]
    return picked
