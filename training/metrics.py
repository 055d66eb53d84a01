"""Evaluation metrics for the report: pure functions over arrays and frames, no model, no data.

Binary heads (hate, toxic, conspiracy) get threshold metrics, calibration and threshold picking;
stance heads get multi-class metrics; two benchmark settings are reproduced exactly as their
published evaluation code computes them (HateXplain 3-class, TweetEval stance), so our numbers
sit beside the papers' tables; and identity-term subgroups get the Jigsaw unintended-bias
metrics (Borkan et al. 2019).

Conventions: a row is flagged when its score is >= the threshold (as `app.policy` does);
precision, recall and F1 with an empty denominator are 0 as in scikit-learn's
`zero_division=0`, so they compare with numbers peers computed with scikit-learn; rank metrics
(AUROC, average precision) and FPR, which have no such convention, are NaN when undefined.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import average_precision_score, roc_auc_score

from app.errors import AppError
from app.heads import STANCE_LABELS

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

HATEXPLAIN_LABELS: tuple[str, ...] = ("normal", "offensive", "hatespeech")
BIAS_METRICS: tuple[str, ...] = ("subgroup_auc", "bpsn_auc", "bnsp_auc")

# The identity terms of the Dixon et al. (2018) synthetic "madlibs" bias set, spelled as there
# (including its "millenial"), so subgroup tables line up with that paper's.
IDENTITY_TERMS: tuple[str, ...] = (
    "lesbian",
    "gay",
    "bisexual",
    "transgender",
    "trans",
    "queer",
    "lgbt",
    "lgbtq",
    "homosexual",
    "straight",
    "heterosexual",
    "male",
    "female",
    "nonbinary",
    "african",
    "african american",
    "black",
    "white",
    "european",
    "hispanic",
    "latino",
    "latina",
    "latinx",
    "mexican",
    "canadian",
    "american",
    "asian",
    "indian",
    "middle eastern",
    "chinese",
    "japanese",
    "christian",
    "muslim",
    "jewish",
    "buddhist",
    "catholic",
    "protestant",
    "sikh",
    "taoist",
    "old",
    "older",
    "young",
    "younger",
    "teenage",
    "millenial",
    "middle aged",
    "elderly",
    "blind",
    "deaf",
    "paralyzed",
)

_RULE_RE = re.compile(r"(?:(best_f1)|(precision|recall)>=([0-9]*\.?[0-9]+))\Z")


class MetricError(AppError, ValueError):
    """Inputs a metric cannot be computed from (shapes, labels, ranges, rule strings).

    Also a ValueError, so callers treating bad arguments generically still catch it.
    """

    code = "metric_error"


# --- input checks -----------------------------------------------------------------------------


def _binary_inputs(
    y: ArrayLike, p: ArrayLike, *, unit: bool = True
) -> tuple[BoolArray, FloatArray]:
    """Labels as booleans and scores as floats, after checking shape, values and range."""
    y_raw = np.asarray(y)
    p_arr = np.asarray(p, dtype=np.float64)
    if y_raw.ndim != 1 or p_arr.ndim != 1:
        raise MetricError("y and p must be one-dimensional")
    if len(y_raw) != len(p_arr):
        raise MetricError(f"y has {len(y_raw)} rows but p has {len(p_arr)}")
    if len(y_raw) == 0:
        raise MetricError("no rows to score")
    try:
        y_num = y_raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError("y must hold 0/1 labels") from exc
    if not np.all((y_num == 0) | (y_num == 1)):
        raise MetricError("y must hold 0/1 labels")
    if not np.all(np.isfinite(p_arr)):
        raise MetricError("p has NaN or infinite values")
    if unit and (p_arr.min() < 0 or p_arr.max() > 1):
        raise MetricError("p must be probabilities in [0, 1]")
    return y_num == 1, p_arr


def _label_inputs(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> tuple[NDArray[np.intp], NDArray[np.intp], list[str]]:
    """Both label sequences as indices into `labels`, refusing labels outside it."""
    names = list(labels)
    if not names:
        raise MetricError("labels is empty")
    if len(set(names)) != len(names):
        raise MetricError(f"labels has duplicates: {names}")
    if len(y_true) != len(y_pred):
        raise MetricError(f"y_true has {len(y_true)} rows but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise MetricError("no rows to score")
    index = {name: i for i, name in enumerate(names)}
    for which, values in (("y_true", y_true), ("y_pred", y_pred)):
        unknown = sorted({str(v) for v in values if v not in index})
        if unknown:
            raise MetricError(f"{which} has labels not in {names}: {unknown}")
    true_idx = np.fromiter((index[v] for v in y_true), dtype=np.intp, count=len(y_true))
    pred_idx = np.fromiter((index[v] for v in y_pred), dtype=np.intp, count=len(y_pred))
    return true_idx, pred_idx, names


def _ratio(num: float, den: float) -> float:
    """num / den, or 0 when den is 0 (scikit-learn's zero_division=0)."""
    return float(num / den) if den else 0.0


def _auc(y: BoolArray, s: FloatArray) -> float:
    """ROC AUC, or NaN when only one class is present (it is undefined there)."""
    if y.all() or not y.any():
        return math.nan
    return float(roc_auc_score(y, s))


def _confusion(true_idx: NDArray[np.intp], pred_idx: NDArray[np.intp], k: int) -> NDArray[np.int64]:
    """k x k counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (true_idx, pred_idx), 1)
    return matrix


def _per_class(matrix: NDArray[np.int64]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-class precision, recall and F1 from a confusion matrix (zero_division=0)."""
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    precision = np.array([_ratio(t, d) for t, d in zip(tp, predicted, strict=True)])
    recall = np.array([_ratio(t, d) for t, d in zip(tp, support, strict=True)])
    f1 = np.array([_ratio(2 * t, d) for t, d in zip(tp, predicted + support, strict=True)])
    return precision, recall, f1


# --- binary -----------------------------------------------------------------------------------


def binary_metrics(y: ArrayLike, p: ArrayLike, threshold: float) -> dict[str, float]:
    """Threshold metrics (van Rijsbergen F1), AUROC, AP, Brier (1950) and ECE (Naeini 2015)."""
    if not math.isfinite(threshold):
        raise MetricError(f"threshold must be a finite number, got {threshold}")
    y_bool, p_arr = _binary_inputs(y, p)
    flagged = p_arr >= threshold
    tp = float(np.sum(flagged & y_bool))
    fp = float(np.sum(flagged & ~y_bool))
    fn = float(np.sum(~flagged & y_bool))
    tn = float(np.sum(~flagged & ~y_bool))
    positives = int(y_bool.sum())
    n = len(y_bool)
    return {
        "n": n,
        "positives": positives,
        "auroc": _auc(y_bool, p_arr),
        "average_precision": (
            float(average_precision_score(y_bool, p_arr)) if positives else math.nan
        ),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": (tp + tn) / n,
        "brier": float(np.mean((p_arr - y_bool) ** 2)),
        "ece": _ece(y_bool, p_arr, bins=10),
        "fpr": fp / (fp + tn) if fp + tn else math.nan,
    }


def _bin_index(p: FloatArray, bins: int) -> tuple[NDArray[np.intp], FloatArray]:
    """Equal-width bin of each score (the last bin closed at 1) and the bin edges."""
    # i / bins is the double nearest each edge (linspace gives 0.30000000000000004), so a
    # score written as 0.3 lands in the bin that starts at 0.3.
    edges = np.arange(bins + 1) / bins
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    return index.astype(np.intp), edges


def _ece(y: BoolArray, p: FloatArray, *, bins: int) -> float:
    """Expected calibration error of the positive-class probability over equal-width bins."""
    index, _ = _bin_index(p, bins)
    total = 0.0
    for b in range(bins):
        in_bin = index == b
        count = int(in_bin.sum())
        if count:
            total += count * abs(float(p[in_bin].mean()) - float(y[in_bin].mean()))
    return total / len(p)


def reliability_table(y: ArrayLike, p: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Reliability diagram bins (DeGroot & Fienberg 1983): mean score vs fraction positive."""
    if bins < 1:
        raise MetricError(f"bins must be at least 1, got {bins}")
    y_bool, p_arr = _binary_inputs(y, p)
    index, edges = _bin_index(p_arr, bins)
    rows: list[dict[str, float]] = []
    for b in range(bins):
        in_bin = index == b
        count = int(in_bin.sum())
        rows.append(
            {
                "bin": b,
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": count,
                "mean_p": float(p_arr[in_bin].mean()) if count else math.nan,
                "frac_pos": float(y_bool[in_bin].mean()) if count else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["bin", "lower", "upper", "count", "mean_p", "frac_pos"])


def _parse_rule(rule: str) -> tuple[str, float]:
    """("best_f1", nan) or ("precision"|"recall", X) from a rule string, strictly."""
    match = _RULE_RE.match(rule)
    if match is None:
        raise MetricError(
            f"unknown threshold rule {rule!r}; use best_f1, precision>=X or recall>=X "
            "with X in (0, 1]"
        )
    if match.group(1):
        return "best_f1", math.nan
    target = float(match.group(3))
    if not 0 < target <= 1:
        raise MetricError(f"threshold rule {rule!r}: X must be in (0, 1]")
    return match.group(2), target


def pick_threshold(y: ArrayLike, p: ArrayLike, rule: str) -> tuple[float, dict[str, Any]]:
    """Operating point on validation scores by rule: best_f1, precision>=X or recall>=X.

    Candidates are the observed scores (flag when p >= threshold). best_f1 takes the highest
    threshold among F1 ties; precision>=X the smallest threshold whose precision reaches X
    (the most recall at that precision), falling back to best_f1 with a note when none does;
    recall>=X the largest threshold whose recall still reaches X (the fewest flags).
    The dict holds `binary_metrics` at the threshold plus rule, threshold, fallback, note.
    """
    kind, target = _parse_rule(rule)
    y_bool, p_arr = _binary_inputs(y, p)
    positives = int(y_bool.sum())
    if positives == 0:
        raise MetricError("cannot pick a threshold without positive examples")
    order = np.argsort(-p_arr, kind="stable")
    scores = p_arr[order]
    tp = np.cumsum(y_bool[order]).astype(np.float64)
    fp = np.cumsum(~y_bool[order]).astype(np.float64)
    # Keep the last row of each run of tied scores: flagging p >= s flags the whole run.
    last = np.flatnonzero(np.append(scores[1:] != scores[:-1], True))
    thresholds, tp, fp = scores[last], tp[last], fp[last]
    precision = tp / (tp + fp)
    recall = tp / positives
    f1 = 2 * tp / (tp + fp + positives)
    best_f1 = int(np.argmax(f1))  # thresholds descend, so ties go to the highest threshold

    fallback: str | None = None
    note = ""
    if kind == "best_f1":
        chosen = best_f1
    elif kind == "precision":
        reaching = np.flatnonzero(precision >= target)
        if len(reaching):
            chosen = int(reaching[-1])
        else:
            chosen, fallback = best_f1, "best_f1"
            note = (
                f"precision {target} is not reached at any threshold "
                f"(best {float(precision.max()):.3f}); used best_f1 instead"
            )
    else:
        chosen = int(np.flatnonzero(recall >= target)[0])
    threshold = float(thresholds[chosen])
    metrics: dict[str, Any] = {
        "rule": rule,
        "threshold": threshold,
        "fallback": fallback,
        "note": note,
    }
    metrics.update(binary_metrics(y_bool, p_arr, threshold))
    return threshold, metrics


def bootstrap_ci(
    metric_fn: Callable[..., float],
    *arrays: ArrayLike,
    n: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile bootstrap interval (Efron & Tibshirani 1993), rows resampled jointly.

    Resamples where the metric is NaN (e.g. AUROC on a one-class draw) are dropped; the
    interval is (NaN, NaN) when every resample is.
    """
    if not arrays:
        raise MetricError("bootstrap_ci needs at least one array")
    if n < 1:
        raise MetricError(f"n must be at least 1, got {n}")
    if not 0 < alpha < 1:
        raise MetricError(f"alpha must be in (0, 1), got {alpha}")
    columns = [np.asarray(a) for a in arrays]
    size = len(columns[0])
    if size == 0 or any(len(c) != size for c in columns):
        raise MetricError(
            f"arrays must be non-empty and equally long, got {[len(c) for c in columns]}"
        )
    rng = np.random.default_rng(seed)
    values = np.empty(n, dtype=np.float64)
    for i in range(n):
        rows = rng.integers(0, size, size=size)
        values[i] = metric_fn(*(c[rows] for c in columns))
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return math.nan, math.nan
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


# --- multi-class ------------------------------------------------------------------------------


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over `labels` (scikit-learn macro, zero_division=0)."""
    true_idx, pred_idx, names = _label_inputs(y_true, y_pred, labels)
    _, _, f1 = _per_class(_confusion(true_idx, pred_idx, len(names)))
    return float(f1.mean())


def macro_f1_of(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str], of: Sequence[str]
) -> float:
    """Mean F1 of the classes `of`, predictions ranging over all of `labels`.

    For a source that never uses some label (DEBAGREEMENT has no "query"), predicting that
    label is an error on its true class, not a class of its own to average over.
    """
    true_idx, pred_idx, names = _label_inputs(y_true, y_pred, labels)
    _, _, f1 = _per_class(_confusion(true_idx, pred_idx, len(names)))
    return float(np.mean([f1[list(names).index(label)] for label in of]))


def multiclass_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str],
    proba: np.ndarray[Any, Any] | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1 (Sokolova & Lapalme 2009) and macro one-vs-rest AUROC (Provost 2000).

    `proba` columns follow `labels`. A class absent from y_true (or present in every row) has
    no AUROC; the macro AUROC averages the classes where it is defined, NaN if none is.
    """
    true_idx, pred_idx, names = _label_inputs(y_true, y_pred, labels)
    matrix = _confusion(true_idx, pred_idx, len(names))
    precision, recall, f1 = _per_class(matrix)
    per_class: dict[str, dict[str, float]] = {
        name: {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "support": int(matrix[k].sum()),
        }
        for k, name in enumerate(names)
    }
    result: dict[str, Any] = {
        "n": len(true_idx),
        "labels": names,
        "accuracy": float(np.trace(matrix) / len(true_idx)),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }
    if proba is not None:
        scores = np.asarray(proba, dtype=np.float64)
        if scores.shape != (len(true_idx), len(names)):
            raise MetricError(
                f"proba must have shape ({len(true_idx)}, {len(names)}), got {scores.shape}"
            )
        if not np.all(np.isfinite(scores)):
            raise MetricError("proba has NaN or infinite values")
        aucs = [_auc(true_idx == k, scores[:, k]) for k in range(len(names))]
        for name, auc in zip(names, aucs, strict=True):
            per_class[name]["auroc"] = auc
        result["auroc"] = _nanmean(aucs)
    return result


def _nanmean(values: Iterable[float]) -> float:
    """Mean of the finite values, NaN when there are none."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _ovo_macro_auc(true_idx: NDArray[np.intp], scores: FloatArray, k: int) -> float:
    """Hand & Till (2001) one-vs-one macro AUROC (scikit-learn's multi_class="ovo").

    Pairs of classes that do not both occur in true_idx are skipped instead of raising.
    """
    pair_aucs: list[float] = []
    for a, b in combinations(range(k), 2):
        in_pair = (true_idx == a) | (true_idx == b)
        is_a = true_idx[in_pair] == a
        if is_a.all() or not is_a.any():
            continue
        a_vs_b = float(roc_auc_score(is_a, scores[in_pair, a]))
        b_vs_a = float(roc_auc_score(~is_a, scores[in_pair, b]))
        pair_aucs.append((a_vs_b + b_vs_a) / 2)
    return float(np.mean(pair_aucs)) if pair_aucs else math.nan


def hatexplain_scores(p_hate: ArrayLike, p_toxic: ArrayLike) -> FloatArray:
    """Class scores (normal, offensive, hatespeech) from the two binary heads, rows summing to 1.

    normal = 1 - p_toxic, offensive = max(p_toxic - p_hate, 0), hatespeech = p_hate; the row
    sum is 1 + max(p_hate - p_toxic, 0) >= 1, so dividing by it is always defined and leaves
    consistent rows (p_hate <= p_toxic) unchanged.
    """
    hate = np.asarray(p_hate, dtype=np.float64)
    toxic = np.asarray(p_toxic, dtype=np.float64)
    if hate.ndim != 1 or hate.shape != toxic.shape:
        raise MetricError(
            f"p_hate and p_toxic must be 1-D and equally long: {hate.shape}, {toxic.shape}"
        )
    for name, arr in (("p_hate", hate), ("p_toxic", toxic)):
        if not np.all(np.isfinite(arr)) or arr.min(initial=0) < 0 or arr.max(initial=0) > 1:
            raise MetricError(f"{name} must be probabilities in [0, 1]")
    scores = np.column_stack([1 - toxic, np.maximum(toxic - hate, 0), hate])
    normalised: FloatArray = scores / scores.sum(axis=1, keepdims=True)
    return normalised


def hatexplain_metrics(
    y_true: Sequence[str],
    p_hate: ArrayLike,
    p_toxic: ArrayLike,
    thresholds: Mapping[str, float],
) -> dict[str, Any]:
    """HateXplain 3-class accuracy, macro-F1 and AUROC as in Mathew et al. (2021)'s code.

    Predicted class: hatespeech if p_hate >= thresholds["hate"], else offensive if
    p_toxic >= thresholds["toxic"], else normal. Class scores come from `hatexplain_scores`
    (normal = 1 - p_toxic, offensive = max(p_toxic - p_hate, 0), hatespeech = p_hate,
    renormalised to sum 1) because our heads are binary and the paper scored a softmax over
    the 3 classes. `auroc` is what the paper's code computes (manual_training_inference.py:
    roc_auc_score(..., multi_class="ovo", average="macro"), the Hand & Till one-vs-one macro
    AUROC), so it is comparable with the published table; `auroc_ovr` is the macro
    one-vs-rest AUROC over the same scores. Rows must be normal, offensive or hatespeech
    (drop the dataset's undecided rows first, as the paper did).
    """
    missing = [key for key in ("hate", "toxic") if key not in thresholds]
    if missing:
        raise MetricError(f"thresholds needs keys 'hate' and 'toxic'; missing {missing}")
    scores = hatexplain_scores(p_hate, p_toxic)
    if len(scores) != len(y_true):
        raise MetricError(f"y_true has {len(y_true)} rows but the scores have {len(scores)}")
    bad = [k for k in ("hate", "toxic") if not math.isfinite(thresholds[k])]
    if bad:
        raise MetricError(f"thresholds must be finite numbers; bad {bad}")
    hate = np.asarray(p_hate, dtype=np.float64)
    toxic = np.asarray(p_toxic, dtype=np.float64)
    y_pred = np.where(
        hate >= thresholds["hate"],
        "hatespeech",
        np.where(toxic >= thresholds["toxic"], "offensive", "normal"),
    ).tolist()
    return hatexplain_class_metrics(y_true, scores, y_pred)


def hatexplain_class_metrics(
    y_true: Sequence[str], proba: ArrayLike, y_pred: Sequence[str]
) -> dict[str, Any]:
    """HateXplain 3-class metrics of a native three-class head, as `hatexplain_metrics`.

    `proba` columns are (normal, offensive, hatespeech) and rows sum to 1; `y_pred` is the
    head's own decision (its class biases applied), in HATEXPLAIN_LABELS.
    """
    scores = np.asarray(proba, dtype=np.float64)
    if scores.ndim != 2 or scores.shape != (len(y_true), len(HATEXPLAIN_LABELS)):
        raise MetricError(
            f"proba must have one row per label and {len(HATEXPLAIN_LABELS)} columns; "
            f"got {scores.shape} for {len(y_true)} rows"
        )
    if not np.all(np.isfinite(scores)):
        raise MetricError("proba must be finite")
    result = multiclass_metrics(y_true, y_pred, HATEXPLAIN_LABELS, proba=scores)
    true_idx, _, _ = _label_inputs(y_true, y_pred, HATEXPLAIN_LABELS)
    result["auroc_ovr"] = result.pop("auroc")
    result["auroc"] = _ovo_macro_auc(true_idx, scores, len(HATEXPLAIN_LABELS))
    return result


def tweeteval_stance_metric(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """TweetEval / SemEval-2016 Task 6 score: mean of F1(favor) and F1(against), in percent.

    Computed over all targets pooled, as the official scripts do; "none" is predicted and
    counted as an error where wrong but its own F1 is not averaged in.
    """
    true_idx, pred_idx, names = _label_inputs(y_true, y_pred, STANCE_LABELS)
    _, _, f1 = _per_class(_confusion(true_idx, pred_idx, len(names)))
    return 100 * float((f1[names.index("favor")] + f1[names.index("against")]) / 2)


# --- identity subgroups (Jigsaw unintended bias) ----------------------------------------------


def identity_columns(texts: Sequence[str], terms: Sequence[str]) -> pd.DataFrame:
    """One bool column per identity term (Dixon et al. 2018): whole-word, case-insensitive.

    Words of a multi-word term may be separated by whitespace or a hyphen, so "middle aged"
    also finds "middle-aged" and "African-American".
    """
    names = list(terms)
    if not names:
        raise MetricError("terms is empty")
    seen: set[str] = set()
    patterns: dict[str, re.Pattern[str]] = {}
    for term in names:
        words = term.split()
        key = " ".join(words).lower()
        if not words:
            raise MetricError("identity terms must not be blank")
        if key in seen:
            raise MetricError(f"identity term {term!r} is listed twice")
        seen.add(key)
        body = r"[\s-]+".join(re.escape(w) for w in words)
        patterns[term] = re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
    data = {
        term: np.fromiter((bool(rx.search(t)) for t in texts), dtype=np.bool_, count=len(texts))
        for term, rx in patterns.items()
    }
    return pd.DataFrame(data, columns=names)


def _as_bool(column: pd.Series[Any], name: str) -> BoolArray:
    """A label or subgroup column as booleans; numeric columns are >= 0.5, as on Kaggle."""
    if column.isna().any():
        raise MetricError(f"column {name!r} has missing values")
    if column.dtype == bool:
        return column.to_numpy(dtype=np.bool_)
    try:
        values = column.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"column {name!r} must be boolean or numeric") from exc
    flags: BoolArray = values >= 0.5
    return flags


def bias_metrics(
    frame: pd.DataFrame, *, subgroups: Sequence[str], label: str, score: str
) -> pd.DataFrame:
    """Subgroup, BPSN and BNSP AUC per identity subgroup (Borkan et al. 2019).

    subgroup_auc: subgroup rows only. bpsn_auc (background positive, subgroup negative):
    negative subgroup rows with positive background rows; low means false positives on
    mentions of the group. bnsp_auc: positive subgroup rows with negative background rows.
    Each is NaN when its rows hold one class only.
    """
    missing = [c for c in [*subgroups, label, score] if c not in frame.columns]
    if missing:
        raise MetricError(f"frame has no column(s) {missing}")
    y = _as_bool(frame[label], label)
    s = frame[score].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(s)):
        raise MetricError(f"column {score!r} has NaN or infinite values")
    rows: list[dict[str, Any]] = []
    for name in subgroups:
        member = _as_bool(frame[name], name)
        bpsn = (member & ~y) | (~member & y)
        bnsp = (member & y) | (~member & ~y)
        rows.append(
            {
                "subgroup": name,
                "size": int(member.sum()),
                "subgroup_auc": _auc(y[member], s[member]),
                "bpsn_auc": _auc(y[bpsn], s[bpsn]),
                "bnsp_auc": _auc(y[bnsp], s[bnsp]),
            }
        )
    return pd.DataFrame(rows, columns=["subgroup", "size", *BIAS_METRICS])


def generalized_mean_bias_auc(values: Iterable[float], p: float = -5) -> float:
    """Generalized (power) mean M_p = (mean of v^p)^(1/p), Borkan et al. 2019 with p = -5.

    NaN values (undefined AUCs) are left out; NaN when nothing is left. A zero AUC pulls a
    negative-p mean to 0, its limit.
    """
    if p == 0 or not math.isfinite(p):
        raise MetricError(f"p must be a finite non-zero number, got {p}")
    arr = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if len(arr) == 0:
        return math.nan
    if arr.min() < 0:
        raise MetricError("generalized mean needs non-negative values")
    with np.errstate(divide="ignore"):
        return float(np.mean(arr**p) ** (1 / p))


def final_bias_score(overall_auc: float, table: pd.DataFrame, w: float = 0.25) -> float:
    """Jigsaw Unintended Bias final metric: w * overall AUC + (1 - w) * mean of 3 bias M_p.

    With the competition's w = 0.25 each of the three generalized means (subgroup, BPSN,
    BNSP AUC, p = -5) also weighs 0.25.
    """
    if not 0 <= w <= 1:
        raise MetricError(f"w must be in [0, 1], got {w}")
    missing = [c for c in BIAS_METRICS if c not in table.columns]
    if missing:
        raise MetricError(f"table has no column(s) {missing}")
    means = [generalized_mean_bias_auc(table[c].astype(float).tolist()) for c in BIAS_METRICS]
    return float(w * overall_auc + (1 - w) * float(np.mean(means)))
