"""How one head is fitted: logistic regression, C chosen on validation, calibrated on it.

Binary heads are scored by their highest decision over a text and its sentence windows
(app.sentences), so C is chosen, the sigmoid calibrated and the threshold picked on those
highest decisions of the validation rows, exactly what scoring will compute. A negative
training text has no hateful (toxic, conspiratorial) sentence either, so its windows join
the training rows as negatives, sharing the text's weight; without them a benign sentence
seen alone for the first time at scoring time could outscore its whole comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from app.heads import PlattLinear, decide
from training.feedback import SOURCE as FEEDBACK_SOURCE
from training.metrics import macro_f1, macro_f1_of
from training.vectors import Vectors

# A row of these sources is written by training.augment, not read from a dataset.
GENERATED_PREFIXES = ("generated-", "sbic-statements")


def source_weights(
    frame: pd.DataFrame,
    *,
    balance: bool,
    feedback_weight: float,
    generated_weight: float = 1.0,
) -> np.ndarray:
    """Per-row training weights: 1/sqrt(rows of the source), feedback and generated scaled.

    The mean weight stays 1, so C means the same whatever the mix.
    """
    feedback = (frame["source"] == FEEDBACK_SOURCE).to_numpy()
    if balance:
        sizes = frame["source"].map(frame["source"].value_counts())
        weights: np.ndarray = 1.0 / np.sqrt(sizes.to_numpy(dtype=np.float64))
    else:
        weights = np.ones(len(frame))
    weights[feedback] *= feedback_weight
    generated = frame["source"].str.startswith(GENERATED_PREFIXES).to_numpy()
    weights[generated] *= generated_weight
    if len(weights) == 0:
        return weights
    scaled: np.ndarray = weights * (len(frame) / weights.sum())
    return scaled


def logistic(c_value: float, seed: int, *, balanced: bool = False) -> LogisticRegression:
    """The one linear model of every head (liblinear for binary, lbfgs multinomial)."""
    return LogisticRegression(
        C=c_value,
        solver="lbfgs" if balanced else "liblinear",
        max_iter=3000,
        class_weight="balanced" if balanced else None,
        random_state=seed,
    )


def platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Sigmoid calibration (Platt 1999) of decision values: (slope, offset) of PlattLinear.

    Fitted by an almost unregularised logistic regression on the one decision column.
    """
    fitted = LogisticRegression(C=1e4, max_iter=1000).fit(decision.reshape(-1, 1), y)
    return -float(fitted.coef_[0, 0]), -float(fitted.intercept_[0])


def fit_binary(
    cache: Vectors,
    train_texts: Sequence[str],
    y_train: np.ndarray,
    weights: np.ndarray,
    val_texts: Sequence[str],
    y_val: np.ndarray,
    *,
    c_grid: Sequence[float],
    seed: int,
    window_negatives: bool,
) -> tuple[PlattLinear, np.ndarray, float, dict[str, float]]:
    """The calibrated head, its validation probabilities, the chosen C and the C search.

    C is chosen by validation average precision of the highest window decisions.
    """
    x = cache.rows(train_texts)
    y = np.asarray(y_train, dtype=int)
    w = np.asarray(weights, dtype=np.float64)
    if window_negatives:
        negatives = [t for t, label in zip(train_texts, y, strict=True) if label == 0]
        negative_weights = w[y == 0]
        xw, ww = cache.window_rows(negatives, negative_weights)
        if xw is not None:
            x = sp.vstack([x, xw], format="csr")
            y = np.concatenate([y, np.zeros(xw.shape[0], dtype=int)])
            w = np.concatenate([w, ww])
    search: dict[str, float] = {}
    best: tuple[float, LogisticRegression, np.ndarray] | None = None
    for c_value in c_grid:
        model = logistic(c_value, seed).fit(x, y, sample_weight=w)
        decision = cache.highest_decision(model, val_texts)
        score = float(average_precision_score(y_val, decision))
        search[str(c_value)] = score
        if best is None or score > search[str(best[0])]:
            best = (c_value, model, decision)
    assert best is not None
    c_best, model, decision = best
    slope, offset = platt(decision, np.asarray(y_val, dtype=int))
    head = PlattLinear(model, slope, offset)
    return head, head.calibrate(decision), float(c_best), search


def fit_multiclass(
    x_tr: sp.csr_matrix,
    y_tr: np.ndarray,
    x_va: sp.csr_matrix,
    y_va: np.ndarray,
    *,
    c_grid: Sequence[float],
    seed: int,
    weights: np.ndarray | None = None,
) -> tuple[CalibratedClassifierCV, float, dict[str, float]]:
    """Pick C by validation macro-F1 (balanced classes), then calibrate on validation."""
    labels = sorted(set(y_tr))
    search: dict[str, float] = {}
    fitted: dict[float, LogisticRegression] = {}
    for c_value in c_grid:
        plain = logistic(c_value, seed, balanced=True).fit(x_tr, y_tr, sample_weight=weights)
        fitted[c_value] = plain
        search[str(c_value)] = macro_f1(list(y_va), list(plain.predict(x_va)), labels)
    best_c = float(max(c_grid, key=lambda c: search[str(c)]))
    return calibrate(fitted[best_c], x_va, y_va), best_c, search


def calibrate(model: LogisticRegression, x_va: sp.csr_matrix, y_va: np.ndarray) -> Any:
    """One sigmoid map per class fitted on all validation predictions of the frozen model.

    A frozen model needs no training rows, so the one "split" puts every validation row on
    the calibration side (a k-fold split would fail on tiny classes and fit k maps).
    """
    every_row = [(np.arange(0), np.arange(x_va.shape[0]))]
    calibrated = CalibratedClassifierCV(
        FrozenEstimator(model), method="sigmoid", cv=every_row, ensemble=False
    )
    return calibrated.fit(x_va, y_va)


def per_source_f1(
    rows: pd.DataFrame, column: str, decided: np.ndarray, labels: Sequence[str]
) -> dict[str, float]:
    """Validation macro-F1 of each source over the labels it uses (DEBAGREEMENT has no
    "query"); `decided` holds the chosen label of every row of `rows`."""
    out: dict[str, float] = {}
    for source, group in rows.groupby("source"):
        truth = group[column].tolist()
        mask = (rows["source"] == source).to_numpy()
        used = [label for label in labels if label in set(truth)]
        out[str(source)] = macro_f1_of(truth, list(decided[mask]), labels, used)
    return out


def bias_groups(rows: pd.DataFrame, sources: Sequence[str]) -> list[np.ndarray]:
    """Row masks of the `sources` present in `rows` (all rows when none is)."""
    masks = [(rows["source"] == source).to_numpy() for source in sources]
    return [mask for mask in masks if mask.any()] or [np.ones(len(rows), dtype=bool)]


def decide_labels(probs: np.ndarray, bias: Mapping[str, float], labels: Sequence[str]) -> list[str]:
    return [labels[int(b)] for b in decide(probs, bias, labels)]


def tune_bias(
    probs: np.ndarray,
    truth: Sequence[str],
    labels: Sequence[str],
    *,
    rounds: int = 3,
    groups: Sequence[np.ndarray] | None = None,
) -> dict[str, float]:
    """Per-label log offsets (first label fixed at 0) that maximise macro-F1 on `truth`.

    With `groups` (boolean row masks), the objective is the mean of each group's macro-F1
    over the labels that group uses, so a large source does not set the offsets alone.
    """
    truth = list(truth)
    masks = list(groups) if groups else [np.ones(len(truth), dtype=bool)]
    parts = [
        ([t for t, keep in zip(truth, mask, strict=True) if keep], probs[mask]) for mask in masks
    ]
    used = [[label for label in labels if label in set(part)] for part, _ in parts]

    def objective(offsets: np.ndarray) -> float:
        bias = dict(zip(labels, offsets, strict=True))
        return float(
            np.mean(
                [
                    macro_f1_of(part, decide_labels(p, bias, labels), labels, names)
                    for (part, p), names in zip(parts, used, strict=True)
                ]
            )
        )

    offsets = np.zeros(len(labels))
    grid = np.round(np.arange(-2.0, 2.01, 0.1), 2)
    best = objective(offsets)
    for _ in range(rounds):
        for j in range(1, len(labels)):
            for value in grid:
                trial = offsets.copy()
                trial[j] = value
                score = objective(trial)
                if score > best + 1e-9:
                    best, offsets = score, trial
    return {label: float(v) for label, v in zip(labels, offsets, strict=True)}
