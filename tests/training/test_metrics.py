"""Metric tests on tiny hand-written inputs; expected values are worked out in the comments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from training.metrics import (
    HATEXPLAIN_LABELS,
    IDENTITY_TERMS,
    MetricError,
    bias_metrics,
    binary_metrics,
    bootstrap_ci,
    final_bias_score,
    generalized_mean_bias_auc,
    hatexplain_class_metrics,
    hatexplain_metrics,
    hatexplain_scores,
    identity_columns,
    macro_f1,
    macro_f1_of,
    multiclass_metrics,
    pick_threshold,
    reliability_table,
    tweeteval_stance_metric,
)

# --- binary_metrics ---------------------------------------------------------------------------

Y4 = [0, 0, 1, 1]
P4 = [0.1, 0.6, 0.4, 0.8]


def test_binary_metrics_hand_computed() -> None:
    m = binary_metrics(Y4, P4, 0.5)
    # flagged at 0.5: 0.6 (neg) and 0.8 (pos) -> tp 1, fp 1, fn 1, tn 1
    assert m["n"] == 4
    assert m["positives"] == 2
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["fpr"] == pytest.approx(0.5)
    # pos {0.4, 0.8} vs neg {0.1, 0.6}: 3 of 4 pairs ordered
    assert m["auroc"] == pytest.approx(0.75)
    # ranked 0.8 (P=1, R=.5), 0.6, 0.4 (P=2/3, R=1): AP = .5 * 1 + .5 * 2/3
    assert m["average_precision"] == pytest.approx(0.5 + 1 / 3)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.04) / 4)
    # one row per bin: |.1-0| + |.6-0| + |.4-1| + |.8-1| over 4 rows
    assert m["ece"] == pytest.approx(1.5 / 4)


def test_binary_metrics_threshold_is_inclusive() -> None:
    m = binary_metrics([0, 1], [0.3, 0.7], 0.7)
    assert m["recall"] == 1.0
    assert m["fpr"] == 0.0


def test_binary_metrics_one_class_gives_nan_rank_metrics() -> None:
    negatives = binary_metrics([0, 0, 0], [0.1, 0.6, 0.2], 0.5)
    assert math.isnan(negatives["auroc"])
    assert math.isnan(negatives["average_precision"])
    assert negatives["recall"] == 0.0  # zero_division=0, as scikit-learn
    assert negatives["precision"] == 0.0
    assert negatives["fpr"] == pytest.approx(1 / 3)
    positives = binary_metrics([True, True], [0.9, 0.2], 0.5)
    assert math.isnan(positives["fpr"])
    assert math.isnan(positives["auroc"])
    assert positives["average_precision"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 1], [0.5], "y has 2 rows but p has 1"),
        ([], [], "no rows to score"),
        ([0, 2], [0.1, 0.2], "0/1 labels"),
        (["no", "yes"], [0.1, 0.2], "0/1 labels"),
        ([0, 1], [0.1, 1.2], r"probabilities in \[0, 1\]"),
        ([0, 1], [0.1, float("nan")], "NaN or infinite"),
        ([[0, 1]], [[0.1, 0.2]], "one-dimensional"),
    ],
)
def test_binary_metrics_rejects_bad_inputs(y: object, p: object, message: str) -> None:
    with pytest.raises(MetricError, match=message):
        binary_metrics(y, p, 0.5)  # type: ignore[arg-type]


def test_binary_metrics_rejects_nan_threshold() -> None:
    with pytest.raises(MetricError, match="threshold must be a finite number"):
        binary_metrics(Y4, P4, float("nan"))


def test_metric_error_is_an_app_error_and_a_value_error() -> None:
    with pytest.raises(ValueError, match="no rows"):
        binary_metrics([], [], 0.5)
    assert MetricError("x").code == "metric_error"


# --- reliability_table ------------------------------------------------------------------------


def test_reliability_table_bins_and_edges() -> None:
    table = reliability_table([0, 1, 1, 0, 1], [0.3, 0.35, 1.0, 0.05, 0.0], bins=10)
    assert list(table.columns) == ["bin", "lower", "upper", "count", "mean_p", "frac_pos"]
    assert len(table) == 10
    assert table["count"].tolist() == [2, 0, 0, 2, 0, 0, 0, 0, 0, 1]
    assert table.loc[3, "lower"] == 0.3  # 0.3 opens bin 3, it is not pushed down to bin 2
    assert table.loc[3, "mean_p"] == pytest.approx(0.325)
    assert table.loc[3, "frac_pos"] == pytest.approx(0.5)
    assert table.loc[9, "upper"] == 1.0  # the last bin includes 1.0
    assert table.loc[0, "frac_pos"] == pytest.approx(0.5)
    assert table.loc[5, ["mean_p", "frac_pos"]].isna().all()


def test_reliability_table_rejects_zero_bins() -> None:
    with pytest.raises(MetricError, match="bins must be at least 1"):
        reliability_table([0, 1], [0.1, 0.9], bins=0)


# --- pick_threshold ---------------------------------------------------------------------------

# Ranked by score: .9 (+), .6 (+), .4 (-), .3 (+), .2 (-), .1 (-); 3 positives.
# threshold:  .9    .6    .4    .3    .2    .1
# precision:  1     1     2/3   3/4   3/5   1/2
# recall:     1/3   2/3   2/3   1     1     1
# F1:         .5    .8    2/3   6/7   3/4   2/3
YT = [0, 0, 1, 0, 1, 1]
PT = [0.1, 0.2, 0.3, 0.4, 0.6, 0.9]


@pytest.mark.parametrize(
    ("rule", "threshold"),
    [
        ("best_f1", 0.3),
        ("precision>=0.9", 0.6),  # smallest threshold with precision >= .9
        ("precision>=1", 0.6),
        ("precision>=.7", 0.3),  # .3 reaches .75, and it is the smallest such
        ("recall>=0.6", 0.6),  # largest threshold still reaching the recall
        ("recall>=1.0", 0.3),
    ],
)
def test_pick_threshold_rules(rule: str, threshold: float) -> None:
    chosen, metrics = pick_threshold(YT, PT, rule)
    assert chosen == threshold
    assert metrics["threshold"] == threshold
    assert metrics["rule"] == rule
    assert metrics["fallback"] is None
    assert metrics["note"] == ""
    assert metrics["f1"] == pytest.approx(binary_metrics(YT, PT, threshold)["f1"])


def test_pick_threshold_best_f1_value() -> None:
    _, metrics = pick_threshold(YT, PT, "best_f1")
    assert metrics["f1"] == pytest.approx(6 / 7)
    assert metrics["precision"] == pytest.approx(0.75)


def test_pick_threshold_unreachable_precision_falls_back_to_best_f1() -> None:
    # .9 is a negative: precision is 0 at .9 and 1/2 at .2, so 0.9 is never reached.
    threshold, metrics = pick_threshold([1, 0], [0.2, 0.9], "precision>=0.9")
    assert threshold == 0.2
    assert metrics["fallback"] == "best_f1"
    assert "precision 0.9 is not reached" in metrics["note"]


def test_pick_threshold_f1_tie_goes_to_higher_threshold() -> None:
    # F1 = 2/3 at .9 (tp 1, fp 0) and at .3 (tp 2, fp 2).
    threshold, _ = pick_threshold([1, 0, 0, 1], [0.9, 0.7, 0.5, 0.3], "best_f1")
    assert threshold == 0.9


def test_pick_threshold_tied_scores_are_flagged_together() -> None:
    _, metrics = pick_threshold([1, 0, 1], [0.5, 0.5, 0.2], "precision>=0.5")
    assert metrics["threshold"] == 0.2  # .5 gives 1/2 and .2 gives 2/3: both reach .5
    _, at_half = pick_threshold([1, 0, 1], [0.5, 0.5, 0.2], "recall>=0.5")
    assert at_half["threshold"] == 0.5
    assert at_half["precision"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "rule",
    ["f1", "best-f1", " best_f1", "precision>0.9", "precision>=", "PRECISION>=0.9", "recall>=x"],
)
def test_pick_threshold_rejects_bad_rule(rule: str) -> None:
    with pytest.raises(MetricError, match=f"unknown threshold rule '{rule}'"):
        pick_threshold(YT, PT, rule)


@pytest.mark.parametrize("rule", ["precision>=0", "recall>=1.5", "precision>=0.0"])
def test_pick_threshold_rejects_target_out_of_range(rule: str) -> None:
    with pytest.raises(MetricError, match=rf"threshold rule '{rule}': X must be in \(0, 1\]"):
        pick_threshold(YT, PT, rule)


def test_pick_threshold_needs_positives() -> None:
    with pytest.raises(MetricError, match="without positive examples"):
        pick_threshold([0, 0], [0.1, 0.2], "best_f1")


# --- bootstrap_ci -----------------------------------------------------------------------------


def _mean(a: np.ndarray) -> float:
    return float(np.mean(a))


def test_bootstrap_ci_constant_metric_has_zero_width() -> None:
    assert bootstrap_ci(_mean, [2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_bootstrap_ci_is_reproducible_and_ordered() -> None:
    values = [0, 1, 0, 1, 1, 0, 1, 1]
    first = bootstrap_ci(_mean, values, n=300, seed=3)
    assert first == bootstrap_ci(_mean, values, n=300, seed=3)
    low, high = first
    assert 0 <= low < 0.625 < high <= 1


def test_bootstrap_ci_resamples_rows_jointly() -> None:
    # Paired arrays are equal, so every joint resample has zero mean difference.
    def diff(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(a - b))

    assert bootstrap_ci(diff, [1, 2, 3, 4], [1, 2, 3, 4]) == (0.0, 0.0)


def test_bootstrap_ci_drops_nan_resamples() -> None:
    def auc(y: np.ndarray, p: np.ndarray) -> float:
        return binary_metrics(y, p, 0.5)["auroc"]

    low, high = bootstrap_ci(auc, [0, 1], [0.2, 0.8], n=50)
    assert (low, high) == (1.0, 1.0)  # draws with both rows rank perfectly; one-class draws skip
    assert all(math.isnan(v) for v in bootstrap_ci(auc, [0, 0], [0.2, 0.8], n=5))


@pytest.mark.parametrize(
    ("arrays", "kwargs", "message"),
    [
        ((), {}, "at least one array"),
        (([1, 2], [1]), {}, "equally long"),
        (([],), {}, "non-empty"),
        (([1, 2],), {"n": 0}, "n must be at least 1"),
        (([1, 2],), {"alpha": 1.0}, r"alpha must be in \(0, 1\)"),
    ],
)
def test_bootstrap_ci_rejects_bad_arguments(
    arrays: tuple[list[int], ...], kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(MetricError, match=message):
        bootstrap_ci(_mean, *arrays, **kwargs)  # type: ignore[arg-type]


# --- macro_f1 / multiclass_metrics ------------------------------------------------------------

# true a a b b c / pred a b b b a:
# a: tp 1, predicted 2, support 2 -> F1 .5;  b: tp 2, predicted 3, support 2 -> F1 .8;  c: 0
Y_TRUE = ["a", "a", "b", "b", "c"]
Y_PRED = ["a", "b", "b", "b", "a"]
# AUROC a: pos {.7,.4} vs neg {.2,.1,.5} = 5/6; b: pos {.6,.8} vs {.2,.5,.2} = 1; c: 1
PROBA = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.4, 0.5, 0.1],
        [0.2, 0.6, 0.2],
        [0.1, 0.8, 0.1],
        [0.5, 0.2, 0.3],
    ]
)


def test_macro_f1_hand_computed() -> None:
    assert macro_f1(Y_TRUE, Y_PRED, ["a", "b", "c"]) == pytest.approx(1.3 / 3)
    # a label nobody uses still counts, with F1 0 (scikit-learn's labels=..., zero_division=0)
    assert macro_f1(Y_TRUE, Y_PRED, ["a", "b", "c", "d"]) == pytest.approx(1.3 / 4)


def test_multiclass_metrics_hand_computed() -> None:
    m = multiclass_metrics(Y_TRUE, Y_PRED, ["a", "b", "c"], proba=PROBA)
    assert m["n"] == 5
    assert m["labels"] == ["a", "b", "c"]
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["macro_f1"] == pytest.approx(1.3 / 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert m["per_class"]["a"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "auroc": 5 / 6}
    )
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["b"]["recall"] == 1.0
    assert m["per_class"]["c"] == pytest.approx(
        {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "auroc": 1.0}
    )
    assert m["auroc"] == pytest.approx((5 / 6 + 1 + 1) / 3)


def test_multiclass_metrics_without_proba_has_no_auroc() -> None:
    assert "auroc" not in multiclass_metrics(Y_TRUE, Y_PRED, ["a", "b", "c"])


def test_multiclass_auroc_skips_absent_class() -> None:
    m = multiclass_metrics(["a", "b", "b"], ["a", "b", "a"], ["a", "b", "c"], proba=PROBA[:3])
    assert math.isnan(m["per_class"]["c"]["auroc"])
    # a: pos {.7} vs {.4,.2} = 1; b: pos {.5,.6} vs {.2} = 1
    assert m["auroc"] == pytest.approx(1.0)
    assert m["per_class"]["c"]["support"] == 0


def test_multiclass_auroc_nan_when_no_class_defined() -> None:
    m = multiclass_metrics(["a", "a"], ["a", "a"], ["a", "b"], proba=np.array([[1, 0], [1, 0]]))
    assert math.isnan(m["auroc"])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "labels", "message"),
    [
        (["a", "x"], ["a", "a"], ["a", "b"], r"y_true has labels not in \['a', 'b'\]: \['x'\]"),
        (["a", "b"], ["a", "z"], ["a", "b"], r"y_pred has labels not in .*\['z'\]"),
        (["a"], ["a", "b"], ["a", "b"], "y_true has 1 rows but y_pred has 2"),
        ([], [], ["a"], "no rows to score"),
        (["a"], ["a"], [], "labels is empty"),
        (["a"], ["a"], ["a", "a"], "labels has duplicates"),
    ],
)
def test_multiclass_metrics_rejects_bad_labels(
    y_true: list[str], y_pred: list[str], labels: list[str], message: str
) -> None:
    with pytest.raises(MetricError, match=message):
        multiclass_metrics(y_true, y_pred, labels)


def test_multiclass_metrics_rejects_bad_proba() -> None:
    with pytest.raises(MetricError, match=r"proba must have shape \(5, 3\), got \(5, 2\)"):
        multiclass_metrics(Y_TRUE, Y_PRED, ["a", "b", "c"], proba=PROBA[:, :2])
    bad = PROBA.copy()
    bad[0, 0] = np.nan
    with pytest.raises(MetricError, match="proba has NaN"):
        multiclass_metrics(Y_TRUE, Y_PRED, ["a", "b", "c"], proba=bad)


# --- HateXplain -------------------------------------------------------------------------------

HX_TRUE = ["normal", "offensive", "hatespeech", "hatespeech", "normal"]
HX_HATE = [0.1, 0.2, 0.7, 0.4, 0.6]
HX_TOXIC = [0.2, 0.8, 0.9, 0.5, 0.3]
HX_THRESHOLDS = {"hate": 0.5, "toxic": 0.5}


def test_hatexplain_scores_derivation() -> None:
    scores = hatexplain_scores(HX_HATE, HX_TOXIC)
    # columns normal, offensive, hatespeech
    assert scores[0] == pytest.approx([0.8, 0.1, 0.1])
    assert scores[1] == pytest.approx([0.2, 0.6, 0.2])
    # p_hate .6 > p_toxic .3: raw (.7, 0, .6) sums to 1.3 and is renormalised
    assert scores[4] == pytest.approx([0.7 / 1.3, 0.0, 0.6 / 1.3])
    assert scores.sum(axis=1) == pytest.approx(np.ones(5))


def test_hatexplain_metrics_hand_computed() -> None:
    m = hatexplain_metrics(HX_TRUE, HX_HATE, HX_TOXIC, HX_THRESHOLDS)
    # predicted: normal, offensive, hatespeech, offensive (.4 < .5, toxic .5), hatespeech
    assert m["labels"] == list(HATEXPLAIN_LABELS)
    assert m["confusion_matrix"] == [[1, 0, 1], [0, 1, 0], [0, 1, 1]]
    assert m["accuracy"] == pytest.approx(0.6)
    # F1 normal 2/3, offensive 2/3, hatespeech 1/2
    assert m["macro_f1"] == pytest.approx(11 / 18)
    # one-vs-one pairs: (N,O) 1, (N,H) (1 + 3/4) / 2, (O,H) 1
    assert m["auroc"] == pytest.approx((1 + 0.875 + 1) / 3)
    # one-vs-rest: N 1, O 1, H: pos {.7,.4} vs {.1,.2,.6/1.3} = 5/6
    assert m["auroc_ovr"] == pytest.approx((1 + 1 + 5 / 6) / 3)


def test_hatexplain_auroc_matches_the_papers_sklearn_call() -> None:
    m = hatexplain_metrics(HX_TRUE, HX_HATE, HX_TOXIC, HX_THRESHOLDS)
    y = [HATEXPLAIN_LABELS.index(label) for label in HX_TRUE]
    scores = hatexplain_scores(HX_HATE, HX_TOXIC)
    assert m["auroc"] == pytest.approx(roc_auc_score(y, scores, multi_class="ovo", average="macro"))


def test_hatexplain_auroc_nan_safe_when_a_class_is_absent() -> None:
    m = hatexplain_metrics(["normal", "normal"], [0.1, 0.2], [0.1, 0.9], HX_THRESHOLDS)
    assert math.isnan(m["auroc"])
    assert math.isnan(m["auroc_ovr"])


@pytest.mark.parametrize(
    ("y_true", "hate", "toxic", "thresholds", "message"),
    [
        (["normal"], [0.1], [0.2], {"hate": 0.5}, r"missing \['toxic'\]"),
        (["normal"], [0.1], [0.2], {"hate": 0.5, "toxic": float("nan")}, "finite"),
        (["undecided"], [0.1], [0.2], HX_THRESHOLDS, r"y_true has labels not in .*undecided"),
        (["normal", "normal"], [0.1], [0.2], HX_THRESHOLDS, "y_true has 2 rows"),
        (["normal"], [0.1, 0.2], [0.2], HX_THRESHOLDS, "equally long"),
        (["normal"], [1.5], [0.2], HX_THRESHOLDS, r"p_hate must be probabilities"),
    ],
)
def test_hatexplain_metrics_rejects_bad_inputs(
    y_true: list[str],
    hate: list[float],
    toxic: list[float],
    thresholds: dict[str, float],
    message: str,
) -> None:
    with pytest.raises(MetricError, match=message):
        hatexplain_metrics(y_true, hate, toxic, thresholds)


def test_hatexplain_class_metrics_read_a_three_class_head() -> None:
    # The same class scores as the binary-head derivation give the same AUROC.
    scores = hatexplain_scores(HX_HATE, HX_TOXIC)
    pred = ["normal", "offensive", "hatespeech", "offensive", "hatespeech"]
    m = hatexplain_class_metrics(HX_TRUE, scores, pred)
    assert m["macro_f1"] == pytest.approx(11 / 18)
    assert m["auroc"] == pytest.approx(
        hatexplain_metrics(HX_TRUE, HX_HATE, HX_TOXIC, HX_THRESHOLDS)["auroc"]
    )
    with pytest.raises(MetricError, match="one row per label"):
        hatexplain_class_metrics(HX_TRUE, scores[:, :2], pred)


def test_macro_f1_of_averages_the_named_classes_only() -> None:
    # Truth never uses "q"; predicting it is a miss on "a" (F1 a = 2/3, b = 1).
    truth = ["a", "a", "b"]
    pred = ["a", "q", "b"]
    assert macro_f1_of(truth, pred, ["a", "b", "q"], ["a", "b"]) == pytest.approx((2 / 3 + 1) / 2)


# --- TweetEval stance -------------------------------------------------------------------------


def test_tweeteval_stance_metric_hand_computed() -> None:
    y_true = ["favor", "favor", "against", "against", "none", "none"]
    y_pred = ["favor", "against", "against", "against", "favor", "none"]
    # favor: tp 1, predicted 2, support 2 -> .5; against: tp 2, predicted 3, support 2 -> .8
    assert tweeteval_stance_metric(y_true, y_pred) == pytest.approx(65.0)


def test_tweeteval_stance_metric_ignores_none_f1() -> None:
    # "none" is perfect here and F1(favor) = F1(against) = 0, so the score is 0.
    assert tweeteval_stance_metric(["none", "favor"], ["none", "against"]) == 0.0


def test_tweeteval_stance_metric_rejects_other_spellings() -> None:
    with pytest.raises(MetricError, match=r"y_true has labels not in .*\['favour'\]"):
        tweeteval_stance_metric(["favour"], ["favor"])


# --- identity subgroups -----------------------------------------------------------------------


def test_identity_terms_constant() -> None:
    assert len(IDENTITY_TERMS) == 50
    assert len(set(IDENTITY_TERMS)) == 50
    assert {"jewish", "middle eastern", "african american", "millenial"} <= set(IDENTITY_TERMS)


def test_identity_columns_whole_word_case_insensitive() -> None:
    texts = [
        "I am Jewish.",
        "African-American history",
        "an african  american author",
        "Americans abroad",
        "Middle Eastern food",
        "transgender rights",
        "a straightforward answer",
        "Trans people",
    ]
    terms = ["jewish", "african american", "american", "middle eastern", "trans", "straight"]
    frame = identity_columns(texts, terms)
    assert list(frame.columns) == terms
    assert all(frame[term].dtype == bool for term in terms)
    assert frame["jewish"].tolist() == [True, False, False, False, False, False, False, False]
    assert frame["african american"].tolist() == [False, True, True] + [False] * 5
    assert frame["american"].tolist() == [False, True, True, False, False, False, False, False]
    assert frame["middle eastern"].tolist() == [False] * 4 + [True] + [False] * 3
    assert frame["trans"].tolist() == [False] * 7 + [True]
    assert not frame["straight"].any()


def test_identity_columns_empty_texts() -> None:
    frame = identity_columns([], ["gay"])
    assert list(frame.columns) == ["gay"]
    assert len(frame) == 0


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ([], "terms is empty"),
        (["gay", "  "], "must not be blank"),
        (["Gay", "gay"], "identity term 'gay' is listed twice"),
    ],
)
def test_identity_columns_rejects_bad_terms(terms: list[str], message: str) -> None:
    with pytest.raises(MetricError, match=message):
        identity_columns(["text"], terms)


# --- Jigsaw bias metrics ----------------------------------------------------------------------


def _bias_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": [0, 1, 0, 1, 0, 1, 0],
            "score": [0.1, 0.8, 0.7, 0.4, 0.2, 0.9, 0.3],
            "g1": [True, True, True, False, False, False, False],
            "g2": [False, False, False, False, False, False, True],
        }
    )


def test_bias_metrics_hand_computed() -> None:
    table = bias_metrics(_bias_frame(), subgroups=["g1", "g2"], label="label", score="score")
    assert list(table.columns) == ["subgroup", "size", "subgroup_auc", "bpsn_auc", "bnsp_auc"]
    g1, g2 = table.to_dict("records")
    # g1: subgroup pos {.8} vs neg {.1,.7} -> 1
    # BPSN: background pos {.4,.9} vs subgroup neg {.1,.7} -> 3/4
    # BNSP: subgroup pos {.8} vs background neg {.2,.3} -> 1
    assert g1 == {
        "subgroup": "g1",
        "size": 3,
        "subgroup_auc": 1.0,
        "bpsn_auc": 0.75,
        "bnsp_auc": 1.0,
    }
    # g2: only a negative -> subgroup AUC undefined; BPSN pos {.8,.4,.9} vs {.3} -> 1;
    # BNSP has no positives -> undefined
    assert g2["size"] == 1
    assert math.isnan(g2["subgroup_auc"])
    assert g2["bpsn_auc"] == 1.0
    assert math.isnan(g2["bnsp_auc"])


def test_bias_metrics_binarises_fractional_columns_at_half() -> None:
    frame = _bias_frame()
    frame["label"] = frame["label"] * 0.7  # 0.7 -> toxic, 0 -> not
    frame["g1"] = frame["g1"].astype(float) * 0.6
    table = bias_metrics(frame, subgroups=["g1"], label="label", score="score")
    assert table.loc[0, "bpsn_auc"] == 0.75
    assert table.loc[0, "size"] == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"score": [0.1, np.nan, 0.7, 0.4, 0.2, 0.9, 0.3]}, "'score' has NaN"),
        ({"g1": [True, None, True, False, False, False, False]}, "'g1' has missing values"),
        ({"label": ["no", "yes", "no", "yes", "no", "yes", "no"]}, "'label' must be boolean"),
    ],
)
def test_bias_metrics_rejects_bad_columns(change: dict[str, list[Any]], message: str) -> None:
    frame = _bias_frame().assign(**change)
    with pytest.raises(MetricError, match=message):
        bias_metrics(frame, subgroups=["g1"], label="label", score="score")


def test_bias_metrics_names_missing_columns() -> None:
    with pytest.raises(MetricError, match=r"no column\(s\) \['g9', 'toxicity'\]"):
        bias_metrics(_bias_frame(), subgroups=["g9"], label="toxicity", score="score")


def test_generalized_mean_hand_computed() -> None:
    # ((0.5^-5 + 1^-5) / 2)^(-1/5) = 16.5^(-1/5)
    assert generalized_mean_bias_auc([0.5, 1.0]) == pytest.approx(16.5**-0.2)
    assert generalized_mean_bias_auc([0.5, float("nan"), 1.0]) == pytest.approx(16.5**-0.2)
    assert generalized_mean_bias_auc([0.5, 1.0], p=1) == pytest.approx(0.75)
    assert generalized_mean_bias_auc([0.0, 1.0]) == 0.0
    assert math.isnan(generalized_mean_bias_auc([float("nan")]))


@pytest.mark.parametrize(
    ("values", "p", "message"),
    [([0.5], 0, "p must be a finite non-zero"), ([-0.1, 0.5], -5, "non-negative")],
)
def test_generalized_mean_rejects_bad_arguments(
    values: list[float], p: float, message: str
) -> None:
    with pytest.raises(MetricError, match=message):
        generalized_mean_bias_auc(values, p=p)


def test_final_bias_score_hand_computed() -> None:
    table = pd.DataFrame(
        {
            "subgroup": ["a", "b"],
            "subgroup_auc": [1.0, 1.0],
            "bpsn_auc": [0.5, 0.5],
            "bnsp_auc": [1.0, float("nan")],
        }
    )
    # 0.25 * 0.8 + 0.75 * mean(1, 0.5, 1)
    assert final_bias_score(0.8, table) == pytest.approx(0.2 + 0.75 * 2.5 / 3)
    assert final_bias_score(0.8, table, w=1.0) == pytest.approx(0.8)


def test_final_bias_score_rejects_bad_arguments() -> None:
    table = pd.DataFrame({"subgroup_auc": [1.0], "bpsn_auc": [1.0]})
    with pytest.raises(MetricError, match=r"no column\(s\) \['bnsp_auc'\]"):
        final_bias_score(0.9, table)
    with pytest.raises(MetricError, match=r"w must be in \[0, 1\]"):
        final_bias_score(0.9, table, w=1.5)
