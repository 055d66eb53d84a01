"""What a trained bundle holds: the shared text features and one fitted estimator per head.

Training (in `training/`) fits these; `app/` only reads them. The matrices each head reads
are built here, by the same functions at training and scoring time, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from app.features import TextFeatures, cross_topic_matrix, reply_cues, row_cosine

# Re-exported: their home is app.labels, which imports nothing heavy.
from app.labels import (
    BINARY_HEADS as BINARY_HEADS,
)
from app.labels import (
    HATE_TARGETS as HATE_TARGETS,
)
from app.labels import (
    REPLY_LABELS as REPLY_LABELS,
)
from app.labels import (
    SEVERITY_LABELS as SEVERITY_LABELS,
)
from app.labels import (
    STANCE_LABELS as STANCE_LABELS,
)

LABEL_SCHEMA = {
    "version": 1,
    "hate": {"kind": "binary", "target": list(HATE_TARGETS)},
    "toxic": {"kind": "binary"},
    "conspiracy": {"kind": "binary"},
    "stance": {"kind": "multiclass", "labels": list(STANCE_LABELS), "needs": "topic"},
    "reply_stance": {"kind": "multiclass", "labels": list(REPLY_LABELS), "needs": "parent_text"},
    "severity": {"kind": "multiclass", "labels": list(SEVERITY_LABELS)},
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
    # Binary heads score every sentence window too and keep the highest (app.sentences);
    # 0 (bundles before windows) scores the whole text only.
    # Stance heads of their own for topics with enough data: (topic key, estimator) pairs
    # over the text features; other topics use `stance`.
    stance_topic_heads: tuple[tuple[str, Any], ...] = ()
    sentence_windows: int = 0
    # The reply head's parent block is scaled by this, and reads REPLY_CUE_NAMES when
    # `reply_cues` (bundles before these read the parent at weight 1, without cues).
    reply_parent_weight: float = 1.0
    reply_cues: bool = False
    # One three-class head (SEVERITY_LABELS) over the whole text's features, trained where
    # annotators chose among the three; None in bundles before it.
    severity: Any = None


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
    bundle_features: TextFeatures,
    child_matrix: sp.csr_matrix,
    parent_matrix: sp.csr_matrix,
    *,
    parent_weight: float = 1.0,
    texts: Sequence[str] | None = None,
    parents: Sequence[str] | None = None,
) -> sp.csr_matrix:
    """Reply features | parent's word block x weight | cosine(reply, parent) [| reply cues].

    The cues (`app.features.reply_cues`) are added when `texts` and `parents` are given.
    """
    words = bundle_features.blocks_.word
    parent_words = parent_matrix[:, words]
    similarity = row_cosine(child_matrix[:, words], parent_words)
    blocks = [
        child_matrix,
        parent_words * np.float32(parent_weight) if parent_weight != 1.0 else parent_words,
        sp.csr_matrix(similarity.reshape(-1, 1).astype(np.float32)),
    ]
    if texts is not None and parents is not None:
        blocks.append(sp.csr_matrix(reply_cues(texts, parents)))
    return sp.hstack(blocks, format="csr")


@dataclass
class PlattLinear:
    """A fitted binary linear model and the sigmoid that calibrates its decision values.

    The sigmoid is fitted on held-out decision values that the caller chose (for windowed
    bundles, a text's highest decision over its sentence windows), which scikit-learn's
    calibrator cannot take. Same convention as scikit-learn's sigmoid calibration:
    p = 1 / (1 + exp(slope * decision + offset)).
    """

    estimator: Any
    slope: float
    offset: float

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.estimator.classes_)

    def decision_function(self, x: sp.csr_matrix) -> np.ndarray:
        """The linear model's decision values."""
        values: np.ndarray = np.asarray(self.estimator.decision_function(x), dtype=np.float64)
        return values

    def calibrate(self, decision: np.ndarray) -> np.ndarray:
        """P(positive) of decision values."""
        out: np.ndarray = 1.0 / (1.0 + np.exp(self.slope * decision + self.offset))
        return out

    def predict_proba(self, x: sp.csr_matrix) -> np.ndarray:
        """Class probabilities of the whole rows of `x` (no windows)."""
        p = self.calibrate(self.decision_function(x))
        return np.column_stack([1.0 - p, p])


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


@dataclass(frozen=True)
class LinearHead:
    """A fitted head reduced to its arithmetic, for scoring without per-call validation.

    scikit-learn re-validates its input on every `predict_proba`, which costs more than the
    arithmetic for a single comment. The same numbers come out (a test checks it against
    `predict_proba`): the linear model's decision values, then either the sigmoid maps of a
    calibrator fitted on held-out rows (normalised over classes when there are several) or,
    for an uncalibrated multinomial model, a softmax.
    """

    classes: tuple[str, ...]
    coef: np.ndarray  # n_features x k (k = 1 for a binary head)
    intercept: np.ndarray  # k
    slope: np.ndarray | None  # k sigmoid slopes, None for softmax
    offset: np.ndarray | None  # k sigmoid offsets

    def decision(self, x: sp.csr_matrix) -> np.ndarray:
        """The linear model's decision values, n x k."""
        decision: np.ndarray = np.asarray(x @ self.coef, dtype=np.float64) + self.intercept
        return decision

    def predict_proba(self, x: sp.csr_matrix) -> np.ndarray:
        """Class probabilities, columns in `classes` order (like `predict_proba`)."""
        return self.proba(self.decision(x))

    def proba(self, decision: np.ndarray) -> np.ndarray:
        """Class probabilities of decision values (see `decision`)."""
        if self.slope is None or self.offset is None:
            shifted = decision - decision.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            soft: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
            return soft
        probs = 1.0 / (1.0 + np.exp(self.slope * decision + self.offset))
        if len(self.classes) == 2:
            return np.column_stack([1.0 - probs[:, 0], probs[:, 0]])
        totals = probs.sum(axis=1, keepdims=True)
        uniform = np.full_like(probs, 1.0 / probs.shape[1])
        normalised: np.ndarray = np.divide(probs, totals, out=uniform, where=totals > 0)
        return normalised


def compile_head(estimator: Any) -> LinearHead:
    """The `LinearHead` of a calibrated (or plain multinomial) logistic regression."""
    classes = tuple(str(c) for c in estimator.classes_)
    if isinstance(estimator, PlattLinear):
        inner = estimator.estimator
        return LinearHead(
            classes,
            np.asarray(inner.coef_, dtype=np.float64).T.copy(),
            np.asarray(inner.intercept_, dtype=np.float64).ravel(),
            np.array([estimator.slope]),
            np.array([estimator.offset]),
        )
    calibrated = getattr(estimator, "calibrated_classifiers_", None)
    inner = calibrated[0].estimator if calibrated else estimator
    while not hasattr(inner, "coef_") and hasattr(inner, "estimator"):
        inner = inner.estimator
    coef = np.asarray(inner.coef_, dtype=np.float64).T.copy()
    intercept = np.asarray(inner.intercept_, dtype=np.float64).ravel()
    if not calibrated:
        return LinearHead(classes, coef, intercept, None, None)
    calibrators = calibrated[0].calibrators
    slope = np.array([float(c.a_) for c in calibrators])
    offset = np.array([float(c.b_) for c in calibrators])
    return LinearHead(classes, coef, intercept, slope, offset)


@dataclass(frozen=True)
class CompiledBundle:
    """Every head of a bundle as a `LinearHead`."""

    binary: dict[str, LinearHead]
    hate_target: LinearHead
    stance: LinearHead
    reply_stance: LinearHead
    stance_topics: dict[str, LinearHead] = field(default_factory=dict)
    severity: LinearHead | None = None


def compile_bundle(bundle: Bundle) -> CompiledBundle:
    """Reduce every head of `bundle` to its arithmetic (done once, at load)."""
    return CompiledBundle(
        binary={head: compile_head(model) for head, model in bundle.binary.items()},
        hate_target=compile_head(bundle.hate_target),
        stance=compile_head(bundle.stance),
        reply_stance=compile_head(bundle.reply_stance),
        stance_topics={key: compile_head(model) for key, model in bundle.stance_topic_heads},
        severity=compile_head(bundle.severity) if bundle.severity is not None else None,
    )


def ordered(classes: Sequence[str], probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Columns of `probs` reordered from a head's classes to `labels`."""
    order = [str(c) for c in classes]
    return probs[:, [order.index(label) for label in labels]]


def decide(probs: np.ndarray, bias: Mapping[str, float], labels: Sequence[str]) -> np.ndarray:
    """Per row, the index in `labels` of the argmax of log-probability plus the label's bias.

    The one decision rule for stance and reply stance: training tunes `bias` with it and
    scoring applies it, so the two cannot disagree.
    """
    offsets = np.array([bias[label] for label in labels], dtype=np.float64)
    chosen: np.ndarray = np.argmax(np.log(np.clip(probs, 1e-12, 1.0)) + offsets, axis=1)
    return chosen
